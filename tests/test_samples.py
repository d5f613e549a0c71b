import numpy as np
import pytest
import soundfile as sf

from saz.datasets import DatasetError, load
from conftest import FIXTURES, tone


def test_tinysol_metadata_format():
    ds = load("samples", FIXTURES / "tinysol")
    assert len(ds) == 2 and ds.vocab.names == ("contrabass", "flute")
    c = ds.clips.set_index("clip_id").loc["Strings/Contrabass/ordinario/Cb-ord-A2-mf-2c-N.wav"]
    assert (c["category"], c["pitch"], c["dynamics"], c["technique"], c["fold"]) == ("Strings", "A2", "mf", "ordinario", 4)
    np.testing.assert_array_equal(ds.y, [[1, 0], [0, 1]])
    assert ds.kind.value == "hard" and ds.problems == []


def test_medley_solos_db_format():
    ds = load("samples", FIXTURES / "medley_solos_db")
    assert ds.ids == ["d07b1fc0-567d-52c2-fef4-239f31c9d40e"]
    c = ds.clips.iloc[0]
    assert c["split"] == "validation" and c["song_id"] == 210 and c["instrument"] == "flute"
    assert ds.vocab.names == ("flute",)


@pytest.fixture
def library(tmp_path):
    """Hornbostel-Sachs category folders above instrument folders, one empty instrument."""
    for cat, inst, n in (("chordophone", "santur", 2), ("chordophone", "tar", 1), ("aerophone", "ney", 3),
                         ("membranophone", "daf", 1)):
        d = tmp_path / "lib" / cat / inst
        d.mkdir(parents=True)
        for i in range(n):
            sf.write(d / f"take{i}.wav", tone(8000, 0.2, 200 + 50 * i), 8000)
    (tmp_path / "lib" / "idiophone" / "zang").mkdir(parents=True)
    return tmp_path / "lib"


def test_category_folders(library):
    ds = load("samples", library)
    assert len(ds) == 7 and set(ds.vocab.names) == {"santur", "tar", "ney", "daf"}
    assert dict(ds.clips.groupby("category").size()) == {"aerophone": 3, "chordophone": 3, "membranophone": 1}
    assert any("zang" in p and "without audio" in p for p in ds.problems)
    assert (ds.y.sum(axis=1) == 1).all()


def test_flat_folders_class_map_and_vocab(library):
    ds = load("samples", library / "chordophone", class_map={"santur": "santour"}, vocab=["santour", "oud"])
    assert ds.vocab.names == ("santour", "oud") and len(ds) == 2
    assert any("'tar' is not in the vocabulary" in p for p in ds.problems)
    assert ds.clips["category"].isna().all()


def test_not_a_library(tmp_path):
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(DatasetError, match="not a sample library"):
        load("samples", tmp_path)
