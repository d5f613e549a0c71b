"""saz.vocabulary: the class maps a command names, and what a vocabulary cannot name."""

import pytest

from saz.labels import Vocabulary
from saz.vocabulary import class_map, default_class_map, default_vocabulary, outside


def test_class_map_default_none_or_a_toml_file(tmp_path):
    mapping, vocab = class_map("default")
    assert mapping == default_class_map() and vocab.names == default_vocabulary().names
    assert class_map("none") == ({}, None)
    (tmp_path / "map.toml").write_text('[map]\nsantour = "santur"\ntombak = "tonbak"\n')
    assert class_map(str(tmp_path / "map.toml")) == ({"santour": "santur", "tombak": "tonbak"}, None)
    (tmp_path / "bad.toml").write_text('[names]\nx = "y"\n')
    with pytest.raises(KeyError):
        class_map(str(tmp_path / "bad.toml"))


def test_the_instruments_of_a_tradition_a_vocabulary_cannot_name():
    """The default names none of the Iranian instruments but the santur (as its GM dulcimer);
    a vocabulary that holds some of them has only the others listed, and a tradition it covers
    whole is left out."""
    from saz.vocabulary import absent_instruments

    absent = absent_instruments(default_vocabulary())
    assert absent["Iranian"] == ["tar", "setar", "kamancheh", "ney", "oud", "tonbak", "daf"]
    assert "sitar" not in absent["Hindustani"] and "shehnai" not in absent["Hindustani"]  # shanai in GM's words
    persian = absent_instruments(Vocabulary.from_names(["tar", "ney", "daf", "tonbak", "dulcimer"]))
    assert persian["Iranian"] == ["setar", "kamancheh", "oud"]  # santur: the dulcimer
    everything = ["tar", "setar", "kamancheh", "ney", "oud", "tonbak", "daf", "santur"]
    assert "Iranian" not in absent_instruments(Vocabulary.from_names(everything))


def test_outside_says_which_instruments_a_vocabulary_cannot_name():
    assert outside(default_vocabulary()) == (["tar", "setar", "kamancheh", "ney", "oud", "tonbak", "daf"],
                                             {"santur": "dulcimer"})
    hamnava = Vocabulary.from_names(["tar", "santour", "kamancheh", "tonbak"])
    assert outside(hamnava) == (["setar", "ney", "oud", "daf"], {})  # santur and santour: one instrument
    assert outside(hamnava, ["Tombak", "piano", "santoor"]) == (["piano"], {})
