"""Features of every clip of a dataset, computed in blocks and cached through the one feature cache."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from saz.datasets.base import clips_frame
from saz.features import FeatureCache, get_feature
from saz.features.dataset import clip_features
from conftest import tone


def clips(tmp_path, n=3):
    rows = []
    for k in range(n):
        sf.write(tmp_path / f"c{k}.wav", tone(22050, 1.0, 220 * (k + 1)), 22050)
        rows.append({"clip_id": f"c{k}", "path": str(tmp_path / f"c{k}.wav")})
    (tmp_path / "bad.wav").write_text("not audio")
    rows.append({"clip_id": "bad", "path": str(tmp_path / "bad.wav")})
    return clips_frame(rows)


def test_blocks_are_cached_reused_and_a_corrupt_entry_is_recomputed(tmp_path):
    table, f = clips(tmp_path), get_feature("logmel", sr=22050)
    first = clip_features(table, f, 1.0, cache_dir=tmp_path / "cache", progress=False)
    assert first.ok.tolist() == [True, True, True, False] and "bad.wav" in first.problems[0]
    assert np.isnan(first.X[3]).all() and np.isfinite(first.X[:3]).all()
    (entry,) = (tmp_path / "cache").rglob("*.npz")
    assert entry.parent.parent.name == f.key()  # the feature cache's layout: <feature key>/<ab>/<key>.npz
    again = clip_features(table, f, 1.0, cache_dir=tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(again.X[:3], first.X[:3])
    assert again.problems == first.problems
    entry.write_bytes(b"garbage")
    healed = clip_features(table, f, 1.0, cache_dir=tmp_path / "cache", progress=False)
    np.testing.assert_array_equal(healed.X[:3], first.X[:3])
    assert np.load(entry)["X"].shape == first.X.shape  # rewritten whole
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_block_entries_are_feature_cache_entries(tmp_path):
    cache, f = FeatureCache(tmp_path), get_feature("mfcc", sr=22050)
    assert cache.get_block(f, "abc123", ("X",)) is None
    cache.put_block(f, "abc123", X=np.ones(3))
    np.testing.assert_array_equal(cache.get_block(f, "abc123", ("X",))["X"], np.ones(3))
    assert cache.get_block(f, "abc123", ("X", "missing")) is None  # incomplete: a miss, and removed
    assert not cache.entry(f, "abc123", "npz").exists()
