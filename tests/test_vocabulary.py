"""saz.vocabulary: the class maps a command names."""

import pytest

from saz.vocabulary import class_map, default_class_map, default_vocabulary


def test_class_map_default_none_or_a_toml_file(tmp_path):
    mapping, vocab = class_map("default")
    assert mapping == default_class_map() and vocab.names == default_vocabulary().names
    assert class_map("none") == ({}, None)
    (tmp_path / "map.toml").write_text('[map]\nsantour = "santur"\ntombak = "tonbak"\n')
    assert class_map(str(tmp_path / "map.toml")) == ({"santour": "santur", "tombak": "tonbak"}, None)
    (tmp_path / "bad.toml").write_text('[names]\nx = "y"\n')
    with pytest.raises(KeyError):
        class_map(str(tmp_path / "bad.toml"))
