"""OpenMIC-2018's shipped VGGish features as the ``openmic-vggish`` feature: read from the real
fixture's JSON, from a release-style npz, and trained on through ``saz train``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from saz.datasets import load
from saz.datasets.openmic2018 import vggish_features
from saz.features import get_feature
from saz.features.dataset import dataset_features

FIXTURE = Path(__file__).parent / "fixtures" / "openmic2018"
KEY = "000046_3840"


def test_fixture_clip_reads_the_released_json():
    path = FIXTURE / "audio" / "000" / f"{KEY}.ogg"
    frames = get_feature("openmic-vggish").for_file(str(path))
    np.testing.assert_array_equal(frames, vggish_features(FIXTURE, KEY))
    np.testing.assert_allclose(get_feature("openmic-vggish", pooling="meanstd").for_file(str(path)),
                               np.concatenate([frames.mean(0), frames.std(0)]), rtol=1e-6)
    deq = get_feature("openmic-vggish", dequantize=True).for_file(str(path))
    assert deq.min() >= -2 and deq.max() <= 2 and np.allclose(deq, frames * 4 / 255 - 2, atol=1e-6)


def openmic_tree(root: Path, n: int = 24, seed: int = 0) -> Path:
    """An OpenMIC-2018 layout with ``n`` short clips whose npz VGGish frames carry their labels
    (piano clips high in the first 16 dimensions), the fixture's class map, and no JSON features."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    shutil.copy(FIXTURE / "class-map.json", root)
    keys = [f"{i:06d}_{i * 3840}" for i in range(100, 100 + n)]
    piano = np.arange(n) % 2 == 0
    rows = ["sample_key,instrument,relevance,num_responses"]
    X = rng.integers(0, 120, (n, 10, 128)).astype(np.uint8)
    X[piano, :, :16] += 120
    for i, k in enumerate(keys):
        rows.append(f"{k},piano,{1.0 if piano[i] else 0.0},3")
        (root / "audio" / k[:3]).mkdir(parents=True, exist_ok=True)
        sf.write(root / "audio" / k[:3] / f"{k}.ogg", np.zeros(8000, np.float32), 16000)
    (root / "openmic-2018-aggregated-labels.csv").write_text("\n".join(rows) + "\n")
    (root / "partitions").mkdir()
    (root / "partitions" / "split01_train.csv").write_text("\n".join(keys[: n * 3 // 4]) + "\n")
    (root / "partitions" / "split01_test.csv").write_text("\n".join(keys[n * 3 // 4:]) + "\n")
    y = np.full((n, 20), 0.5)
    np.savez(root / "openmic-2018.npz", X=X, Y_true=y, Y_mask=np.zeros((n, 20), bool), sample_key=np.array(keys))
    return root


def test_dataset_features_come_from_the_npz(tmp_path):
    root = openmic_tree(tmp_path / "om")
    ds = load("openmic2018", root)
    X, y, ok, problems = dataset_features(ds, get_feature("openmic-vggish"), 0.5, cache_dir=tmp_path / "c", progress=False)
    with np.load(root / "openmic-2018.npz") as d:
        np.testing.assert_array_equal(X, d["X"].astype(np.float32))
    assert ok.all() and not problems and not (tmp_path / "c").exists()  # read, not cached
    gone = ds.clips.iloc[3]["clip_id"]
    with np.load(root / "openmic-2018.npz") as d:
        keep = d["sample_key"] != gone
        np.savez(root / "openmic-2018.npz", X=d["X"][keep], Y_true=d["Y_true"][keep], Y_mask=d["Y_mask"][keep],
                 sample_key=d["sample_key"][keep])
    X2, _, ok2, problems2 = dataset_features(ds, get_feature("openmic-vggish", pooling="mean"), 0.5, progress=False)
    assert X2.shape == (23, 128) and ok2.sum() == 23
    assert problems2 == [f"{root / 'openmic-2018.npz'}: no sample_key {gone}"]


def test_saz_train_on_the_shipped_features(cli, tmp_path):
    root = openmic_tree(tmp_path / "om")
    run = tmp_path / "run"
    r = cli("train", "attention", "-d", "openmic2018", "-r", str(root), "-o", str(run), "--epochs", "3",
            "--feature-param", "feature=openmic-vggish", "--cache", str(tmp_path / "c"))
    assert r.returncode == 0, r.stderr
    assert (run / "model.pt").is_file()
    ev = cli("evaluate", str(run / "model.pt"), "-d", "openmic2018", "-r", str(root), "--split", "test", "-o", str(tmp_path / "ev"))
    assert ev.returncode == 0, ev.stderr
    feats = cli("features", str(root / "audio"), "--feature", "openmic-vggish", "--out", str(tmp_path / "f"))
    assert feats.returncode == 0, feats.stderr
    assert {np.load(p).shape for p in (tmp_path / "f").rglob("*.npy")} == {(10, 128)}
    assert any((tmp_path / "ev").iterdir())


def test_missing_features_are_one_line(tmp_path):
    root = tmp_path / "om"
    (root / "audio" / "000").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"vggish/000/000046_3840.json: no VGGish features for 000046_3840"):
        get_feature("openmic-vggish").for_file(str(root / "audio" / "000" / f"{KEY}.ogg"))
    with pytest.raises(ValueError, match="read from a dataset's shipped files"):
        get_feature("openmic-vggish")(np.zeros(16000, np.float32))
