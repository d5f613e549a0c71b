"""Every registered dataset reader, feature and model, through the same checks (as mirdata tests its loaders).

A reader, feature or model added to a registry without a fixture here fails
:func:`test_every_dataset_has_a_fixture`, so nothing registered goes untested.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import saz.evaluation  # noqa: F401  (registers the real set)
from saz.datasets import DATASETS, load
from saz.features import FEATURES, feature_from_config, get_feature
from saz.features.base import Precomputed
from conftest import FIXTURES, sample_library, tone
import encoders

OGG = FIXTURES / "openmic2018/audio/000/000046_3840.ogg"


def _csv(tmp: Path) -> Path:
    for name in ("a.ogg", "b.ogg"):
        (tmp / name).write_bytes(OGG.read_bytes())
    (tmp / "m.csv").write_text("path,split,piano,voice\na.ogg,train,1,0\nb.ogg,test,0,0.5\n")
    return tmp / "m.csv"


def _sazbench(tmp: Path) -> Path:
    (tmp / "a.ogg").write_bytes(OGG.read_bytes())
    for split in ("train", "test"):
        (tmp / f"{split}.csv").write_text(f"clip_id,path,split,piano,voice\n{split}1,a.ogg,{split},1,0\n")
    return tmp


def _nava(tmp: Path) -> Path:
    for cls in ("shur", "mahur"):
        (tmp / cls).mkdir()
        (tmp / cls / "r1.ogg").write_bytes(OGG.read_bytes())
    return tmp


def _real(tmp: Path) -> Path:
    sample_library(tmp / "samples", {"philharmonia": {"cello": 130, "flute": 600}})
    return tmp


ROOTS = {  # dataset name -> (root maker, reader options)
    "hamnava": (lambda tmp: FIXTURES / "hamnava", {}),
    "irmas": (lambda tmp: FIXTURES / "irmas", {}),
    "medleydb": (lambda tmp: FIXTURES / "medleydb", {}),
    "openmic2018": (lambda tmp: FIXTURES / "openmic2018", {}),
    "samples": (lambda tmp: FIXTURES / "tinysol", {}),
    "csv": (_csv, {}),
    "saz-bench": (_sazbench, {}),
    "nava": (_nava, {}),
    "real": (_real, {"mixes": 2}),
}


def test_every_dataset_has_a_fixture():
    assert set(DATASETS) == set(ROOTS)


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_every_reader_returns_a_consistent_dataset(name, tmp_path):
    make, options = ROOTS[name]
    if name == "real":
        options = {**options, "cache": str(tmp_path / "cache")}
    ds = load(name, make(tmp_path), **options)
    assert len(ds.clips) > 0 and ds.y.shape == (len(ds.clips), len(ds.vocab))
    known = ds.y[~np.isnan(ds.y)]
    assert ((known >= 0) & (known <= 1)).all()
    assert ds.clips["clip_id"].is_unique
    assert ds.clips["path"].dropna().map(lambda p: Path(p).is_file()).all()
    for split, idx in ds.splits.items():
        part = ds.subset(split)
        assert len(part.clips) == len(idx) == (ds.clips["split"] == split).sum() and part.vocab == ds.vocab


@pytest.fixture(scope="module")
def tiny_checkpoints(tmp_path_factory):
    """The encoders' checkpoints, written once: feature name -> tiny checkpoint (tests/encoders.py)."""
    root = tmp_path_factory.mktemp("encoders")
    return {name: str(encoders.write_tiny(name, root)) for name in encoders.WRITERS}


@pytest.mark.parametrize("name", sorted(n for n, cls in FEATURES.items() if not issubclass(cls, Precomputed)))
def test_every_feature_is_finite_deterministic_and_rebuilt_from_its_config(name, tiny_checkpoints):
    ckpt = {"checkpoint": tiny_checkpoints[name]} if name in encoders.WRITERS else {}
    f = get_feature(name, sr=22050, **ckpt)
    x = tone(22050, 2.0, 330.0)[None]
    a, b = f(x), f(x)
    assert a.shape[0] == 1 and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    again = feature_from_config(f.config())
    assert again.key() == f.key()
    np.testing.assert_array_equal(again(x), a)
    assert get_feature(name, sr=16000, **ckpt).key() != f.key()  # the cache key follows the configuration
