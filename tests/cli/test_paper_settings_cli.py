"""The paper-faithful settings of issue 25 and its bugs, through the command line, on the real fixtures."""

import shutil
from pathlib import Path

from conftest import FIXTURES


def _openmic_with_audio(tmp_path: Path, n: int) -> Path:
    """A copy of the OpenMIC fixture where the first ``n`` clips of each partition have audio
    (the fixture's one excerpt, copied under their keys); the rest still have none."""
    root = Path(shutil.copytree(FIXTURES / "openmic2018", tmp_path / "openmic"))
    ogg = next((root / "audio").glob("*/*.ogg"))
    for part in ("train", "test"):
        for key in (root / "partitions" / f"split01_{part}.csv").read_text().split()[:n]:
            dest = root / "audio" / key[:3] / f"{key}.ogg"
            dest.parent.mkdir(exist_ok=True)
            if not dest.exists():
                shutil.copy(ogg, dest)
    return root


def test_openmic_trains_on_the_clips_with_audio_and_names_the_others(cli, tmp_path):
    """A partition listing clips whose audio is missing: trained on the others, one line for them."""
    root = _openmic_with_audio(tmp_path, 8)
    env = {"SAZ_CACHE": str(tmp_path / "cache")}
    r = cli("train", "rf", "-d", "openmic2018", "-r", root, "-o", tmp_path / "run", env=env)
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if "have no audio" in x]
    assert len(lines) == 1 and "4 of 20 clips" in lines[0], r.stderr
    assert (tmp_path / "run" / "model.pt").is_file()
    r = cli("evaluate", tmp_path / "run" / "model.pt", "-d", "openmic2018", "-r", root, "-o", tmp_path / "ev", env=env)
    assert r.returncode == 0 and "(8 clips)" in r.stdout, r.stderr
    r = cli("train", "rf", "-d", "openmic2018", "-r", root, "-o", tmp_path / "br", "--unknown-labels", "skip", env=env)
    assert r.returncode == 0, r.stderr  # binary relevance on the clips labelled for each class
    import json

    assert json.loads((tmp_path / "br" / "run.json").read_text())["unknown_labels"] == "skip"


def test_openmic_fixture_as_shipped_fails_in_one_line(cli, tmp_path):
    """The shipped fixture has audio for one clip only: too few to train, said in one line, no traceback."""
    r = cli("train", "rf", "-d", "openmic2018", "-r", FIXTURES / "openmic2018", "-o", tmp_path / "run",
            env={"SAZ_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "19 of 20 clips have no audio" in r.stderr and "too few to train" in r.stderr


def test_medleydb_trains_on_the_readers_split(cli, tmp_path):
    """`saz train --dataset medleydb` used to fail "no split 'train'": the reader's 60/24/16 split is its own now."""
    from test_medleydb import medleydb_with_mixes

    root = medleydb_with_mixes(tmp_path, 12)
    r = cli("train", "rf", "-d", "medleydb", "-r", root, "--option", "labels=macro", "-o", tmp_path / "run",
            env={"SAZ_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 0 and "no 'validation' split" not in r.stderr, r.stderr
    assert (tmp_path / "run" / "model.pt").is_file()


def test_hamnava_paper_setting_binarise_gt_select_on_val_mse_score_at_half(cli, tmp_path):
    """HamNava as its paper: soft training, hard truth "> 0.5", the epoch of least validation MSE,
    every class scored at 0.5; report.json has its Table 3's per-class accuracy and F1."""
    import json

    import numpy as np

    root, env = FIXTURES / "hamnava", {"SAZ_CACHE": str(tmp_path / "cache")}
    run = tmp_path / "run"
    r = cli("train", "hamnava_cnn", "-d", "hamnava", "-r", root, "-o", run, "--protocol", "soft-train-hard-eval",
            "--binarize", "gt", "--monitor", "val_mse", "--epochs", "3", "--patience", "5", env=env)
    assert r.returncode == 0, r.stderr
    info = json.loads((run / "run.json").read_text())
    assert info["binarize"] == "gt" and info["monitor"] == "val_mse"
    r = cli("evaluate", run / "model.pt", "-d", "hamnava", "-r", root, "--split", "all", "--threshold", "0.5",
            "-o", run / "eval", env=env)
    assert r.returncode == 0, r.stderr
    report = json.loads((run / "eval" / "report.json").read_text())
    assert report["run"]["threshold"] == 0.5 and report["run"]["binarize"] == "gt"
    assert all(c["accuracy"] is not None for c in report["per_class"])
    saved = np.load(run / "eval" / "predictions.npz")
    assert (saved["thresholds"] == 0.5).all()
    from saz.datasets import load

    soft = load("hamnava", root)
    order = [soft.ids.index(i) for i in saved["ids"]]
    np.testing.assert_array_equal(saved["y_true"], (soft.y[order] > 0.5).astype(np.float32))
    r = cli("evaluate", run / "model.pt", "-d", "hamnava", "-r", root, "--threshold", "1.5", "-o", run / "x")
    assert r.returncode == 2 and "--threshold" in r.stderr


def test_synth_mix_whole_clip_mode_and_train_test_counts_in_one_command(cli, tone_library, tmp_path):
    """--whole: every chosen instrument sounds from the clip's start to its end (the
    cultural-instruments paper's mixes); --n and --n-test size the two splits (its 8,000/2,000)."""
    import numpy as np

    from saz.datasets import load

    r = cli("synth", "mix", str(tone_library), "--out", str(tmp_path / "out"), "--n", "5", "--n-test", "3",
            "--class-map", "none", "--seconds", "2", "--test-fraction", "0.5", "--whole")
    assert r.returncode == 0, r.stderr
    assert "train: 5 clips" in r.stdout and "test: 3 clips" in r.stdout
    ds = load("csv", tmp_path / "out" / "train.csv")
    act = ds.labels.activity
    for i in range(len(ds)):
        present = ds.y[i] == 1
        assert present.sum() >= 2
        assert (act[i][:, present] == 1).mean() > 0.95  # sounding throughout, not entering or leaving
    assert len(load("csv", tmp_path / "out" / "test.csv")) == 3


def test_train_oversample_prints_the_class_distribution_before_and_after(cli, tmp_path):
    from test_train_cli import tone_manifest

    manifest = tone_manifest(tmp_path, ["a", "a", "a", "b"])
    r = cli("train", "medleydb_cnn", "-d", "csv", "-r", manifest, "-o", tmp_path / "run", "--epochs", "1",
            "--oversample", "--monitor", "val_loss", env={"SAZ_CACHE": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stderr.splitlines() if x.startswith("oversampled to"))
    import json

    balance = json.loads((tmp_path / "run" / "run.json").read_text())
    from saz.models.checkpoint import Checkpoint

    info = Checkpoint.load(tmp_path / "run" / "model.pt").info["data"]["balance"]
    assert info["before"]["b"] < info["before"]["a"] == info["after"]["a"] == info["after"]["b"]
    assert f"b {info['before']['b']} -> {info['after']['b']}" in line and balance["oversample"] is True
