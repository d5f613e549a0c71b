"""The `real` evaluation set: every real recording saz can score itself on."""

import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from saz.evaluation.realset import load_real
from conftest import FIXTURES, sample_library

SR = 22050


@pytest.fixture
def shared_like(tmp_path):
    """A ../shared-like folder: a sample library and the repo's real fixtures."""
    root = tmp_path / "shared"
    sample_library(root / "samples", {"philharmonia": {"cello": 130, "flute": 600}, "mtg_solosax": {"saxophone": 300}})
    for name in ("irmas", "medleydb", "tinysol", "medley_solos_db", "hamnava", "openmic2018"):
        shutil.copytree(FIXTURES / name, root / "fixtures" / name)
    _breath(root / "samples" / "mtg_solosax" / "saxophone" / "sax_breath.wav")
    return root


def _breath(path):
    """A -66 dBFS noise layer, as sample libraries ship breath and key noise under an instrument's name."""
    sf.write(path, 0.0005 * np.random.default_rng(0).standard_normal(SR // 2).astype(np.float32), SR)


def test_real_dataset_splits_and_label_mapping(shared_like, tmp_path):
    ds = load_real(shared_like, mixes=4, cache=str(tmp_path / "cache"))
    splits = ds.clips["split"].value_counts().to_dict()
    assert splits["mix"] == 4 and splits["band"] == 2
    names = ds.vocab.names
    single = ds.subset("single")
    sax = single.clips["path"].str.contains("mtg_solosax").to_numpy()
    assert sax.sum() == 10 and (single.y[sax, names.index("saxophone")] == 1).all()  # not the breath layer
    assert (single.clips["source"][sax] == "held-out samples: mtg_solosax").all()  # per-source scores need this
    held = [p for p in single.clips["path"] if "philharmonia" in p]
    assert all(zlib.crc32(p.rsplit("/", 1)[1].encode()) % 5 == 0 for p in held)  # only the held-out side
    irmas_train = single.clips["source"].eq("irmas").to_numpy()
    row = single.y[irmas_train][0]
    assert row[names.index("clarinet")] == 1 and np.isnan(row[names.index("violin")])  # IRMAS names one instrument
    band = ds.subset("band")
    irmas_test = band.clips["source"].eq("irmas").to_numpy()
    irmas_row = band.y[irmas_test][0]
    assert {names[j] for j in np.flatnonzero(irmas_row == 1)} == {"guitar", "voice"}
    assert irmas_row[names.index("piano")] == 0  # an IRMAS class it does not list: absent
    assert np.isnan(irmas_row[names.index("bass")]) and np.isnan(irmas_row[names.index("drums")])  # IRMAS has no name for them
    assert not np.isnan(band.y[~irmas_test]).any()  # MedleyDB lists every instrument of a mix
    again = load_real(shared_like, mixes=4, cache=str(tmp_path / "cache"))  # mixes are reused, not redrawn
    assert list(again.clips["path"]) == list(ds.clips["path"])


def test_real_dataset_partial_split_keeps_known_classes_only(shared_like, tmp_path):
    ds = load_real(shared_like, mixes=4, cache=str(tmp_path / "cache"))
    names = ds.vocab.names
    partial = ds.subset("partial")
    hamnava = partial.clips["source"].eq("hamnava").to_numpy()
    ids = set(partial.clips["clip_id"][hamnava])
    assert len(ids) == 11 and "ABKBOC.mp3" not in ids  # the fixture's audio file without a label row stays out
    known = ~np.isnan(partial.y[hamnava])
    assert {names[j] for j in np.flatnonzero(known.any(axis=0))} == {"voice", "dulcimer"}  # singer, santour
    row = partial.y[hamnava][list(partial.clips["clip_id"][hamnava]).index("ADWZFO.mp3")]
    assert row[names.index("dulcimer")] == 1 and row[names.index("voice")] == 0  # santour, no singer
    assert (partial.y[hamnava][:, names.index("voice")] == 0).sum() >= 5  # a known absence keeps its clip
    openmic = partial.clips["source"].eq("openmic2018").to_numpy()
    assert list(partial.clips["clip_id"][openmic]) == ["000046_3840"]  # the one key whose audio ships
    assert partial.clips["path"].map(lambda p: Path(p).is_file()).all()
    assert ds.clips["split"].value_counts()["band"] == 2  # complete-label splits unchanged


def test_real_dataset_leaves_out_breath_and_key_noise_layers(tmp_path):
    root = sample_library(tmp_path / "shared" / "samples", {"philharmonia": {"cello": 130, "flute": 600}})
    (root / "mtg_solosax" / "saxophone").mkdir(parents=True)
    for k in range(6):
        _breath(root / "mtg_solosax" / "saxophone" / f"sax_key_{k}.wav")
    ds = load_real(root.parent, mixes=6, cache=str(tmp_path / "cache"))
    sax = ds.vocab.names.index("saxophone")
    assert not ds.clips["path"].str.contains("mtg_solosax").any()
    assert (ds.subset("mix").y[:, sax] == 0).all()  # never mixed in as an inaudible 'saxophone'
    assert (ds.subset("mix").y.sum(axis=1) >= 1).all()
