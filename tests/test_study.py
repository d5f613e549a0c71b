"""saz study end to end on small generated recordings and the HamNava sample, tiny encoders included."""

import json

import numpy as np
import pytest
import soundfile as sf

import encoders
from saz import datasets
from saz.datasets.splits import grouped_split
from saz.study.data import segments

CLASSES = {"shur": 330.0, "mahur": 550.0, "segah": 880.0}


def _recording(freq: float, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.3 * np.sin(2 * np.pi * freq * (1 + 0.01 * seed) * t) + 0.05 * rng.normal(size=len(t))).astype(np.float32)


@pytest.fixture
def nava(tmp_path):
    """A folder per class, three 12-s recordings each (four 3-s clips or two 5-s clips per recording)."""
    root = tmp_path / "nava"
    for c, f in CLASSES.items():
        (root / c).mkdir(parents=True)
        for k in range(3):
            sf.write(root / c / f"r{k}.wav", _recording(f, 12.0, k), 16000)
    return root


def test_nava_reader_reads_a_csv_with_recordings(tmp_path, nava):
    rows = ["path,dastgah,recording"] + [f"{c}/r{k}.wav,{c},{c}-{k}" for c in CLASSES for k in range(3)] + ["missing.wav,shur,x"]
    (nava / "labels.csv").write_text("\n".join(rows) + "\n")
    ds = datasets.load("nava", nava, label_column="dastgah")
    assert len(ds) == 9 and list(ds.vocab.names) == sorted(CLASSES) and (ds.y.sum(1) == 1).all()
    assert ds.clips["recording"].iloc[0] == "shur-0" and "missing.wav" in ds.problems[0]


def test_clips_of_a_recording_stay_on_one_side(nava):
    ds = segments(datasets.load("nava", nava), 3.0)
    assert len(ds) == 36 and ds.clips["offset"].max() == 9.0
    split = grouped_split(ds.y, ds.clips["recording"], seed=0)
    for rec, sides in ds.clips.groupby("recording").groups.items():
        assert len(set(split[sides])) == 1, rec
    assert set(split) == {"train", "validation", "test"}
    with pytest.raises(ValueError, match="5 recordings cannot make 6 folds"):
        grouped_split(ds.y[:20], ds.clips["recording"][:20])


def test_protocols_two_encoders_side_by_side(cli, tmp_path):
    ckpt = encoders.write_tiny("music2vec", tmp_path / "ck")
    out = tmp_path / "out"
    r = cli("study", "protocols", "tests/fixtures/hamnava", "-e", "stats", "-e", f"m2v=music2vec:{ckpt}",
            "--seeds", "0,1", "--epochs", "3", "--out", out, "--cache", tmp_path / "cache")
    assert r.returncode == 0, r.stderr
    result = json.loads((out / "study.json").read_text())
    for p in ("2a", "2b", "2c"):
        s = result["protocols"][p]
        assert set(s["variants"]) == {"stats", "m2v"} and all(len(v["seeds"]) == 2 for v in s["variants"].values())
        other = next(v for v in s["variants"] if v != s["best"])
        assert 0 < s["variants"][other]["p_vs_best"] <= 1
    assert list(result["per_class"]["rows"]["soft mse"]) == list(datasets.load("hamnava", "tests/fixtures/hamnava").vocab.names)
    assert "| m2v | n=2 |" in r.stdout and "Table 3" in r.stdout
    assert all((out / f"protocol_{p}.png").stat().st_size > 0 for p in ("2a", "2b", "2c"))


def test_layer_sweep_on_every_hidden_layer_of_a_tiny_mert(cli, tmp_path, nava):
    ckpt = encoders.write_tiny("mert", tmp_path / "ck")
    out = tmp_path / "out"
    r = cli("study", "layers", nava, "-e", f"mert:{ckpt}", "--seeds", "0", "--epochs", "5", "--out", out)
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "study.json").read_text())["summary"]
    assert list(s["variants"]) == [str(k) for k in range(encoders.N_LAYERS)]
    cm = np.array(s["variants"][s["best"]]["confusion"])
    assert cm.shape == (3, 3) and cm.sum() > 0
    assert (out / "layers.png").stat().st_size > 0 and (out / "layers_confusion.png").exists()


def test_depth_and_clip_length_on_a_single_label_task(cli, tmp_path, nava):
    r = cli("study", "depth", nava, "-e", "stats", "--depths", "1,2", "--seeds", "0,1", "--epochs", "8",
            "--out", tmp_path / "d")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "d" / "study.json").read_text())["summary"]
    assert list(s["variants"]) == ["1", "2"] and s["metric"] == "macro_f1"
    assert max(v["accuracy"]["mean"] for v in s["variants"].values()) > 1 / 3  # tones of three pitches: above chance
    trials = {p: p.stat().st_mtime_ns for p in (tmp_path / "d" / "trials").glob("*.npz")}
    assert len(trials) == 4  # 2 depths x 2 seeds
    again = cli("study", "depth", nava, "-e", "stats", "--depths", "1,2,3", "--seeds", "0,1", "--epochs", "8",
                "--out", tmp_path / "d")
    assert again.returncode == 0, again.stderr
    assert all(p.stat().st_mtime_ns == t for p, t in trials.items())  # done trials are read back, not retrained
    assert len(list((tmp_path / "d" / "trials").glob("*.npz"))) == 6
    s2 = json.loads((tmp_path / "d" / "study.json").read_text())["summary"]
    assert s2["variants"]["2"]["macro_f1"] == s["variants"]["2"]["macro_f1"]
    r = cli("study", "clip-length", nava, "-e", "stats", "--seconds", "3,5", "--seeds", "0", "--epochs", "5",
            "--out", tmp_path / "c")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "c" / "study.json").read_text())["summary"]
    n = {v: int(np.sum(e["confusion"])) for v, e in s["variants"].items()}
    assert n["3 s"] == 2 * n["5 s"]  # 12-s recordings: four 3-s clips or two 5-s clips each
    assert "n/a" in r.stdout or "best" in r.stdout


def test_bad_encoder_protocol_or_checkpoint_is_one_line(cli, tmp_path, nava):
    r = cli("study", "layers", nava, "-e", "nosuch", "--out", tmp_path / "o")
    assert r.returncode == 2 and "unknown feature 'nosuch'" in r.stderr and "Traceback" not in r.stderr
    r = cli("study", "depth", "tests/fixtures/hamnava", "--dataset", "hamnava", "--protocol", "2d", "-e", "stats",
            "--out", tmp_path / "o")
    assert r.returncode == 1 and "unknown HamNava protocol '2d'" in r.stderr
    (tmp_path / "empty").mkdir()
    r = cli("study", "layers", nava, "-e", f"mert:{tmp_path / 'empty'}", "--out", tmp_path / "o")
    assert r.returncode == 1 and "empty" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_layer_sweep_on_hamnava_under_protocol_2a(cli, tmp_path):
    ckpt = encoders.write_tiny("wav2vec2", tmp_path / "ck")
    r = cli("study", "layers", "tests/fixtures/hamnava", "--dataset", "hamnava", "--protocol", "2a",
            "-e", f"wav2vec2:{ckpt}", "--seeds", "0,1", "--epochs", "3", "--out", tmp_path / "o")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "o" / "study.json").read_text())["summary"]
    assert s["metric"] == "mse" and len(s["variants"]) == encoders.N_LAYERS
    assert s["best"] == min(s["variants"], key=lambda v: s["variants"][v]["mse"]["mean"])
    assert not (tmp_path / "o" / "layers_confusion.png").exists()  # multi-label: no confusion matrix


def test_encoders_side_by_side_on_a_dastgah_csv(cli, tmp_path, nava):
    rows = ["path,dastgah,recording"] + [f"{c}/r{k}.wav,{c},{c}-{k}" for c in CLASSES for k in range(3)]
    (nava / "labels.csv").write_text("\n".join(rows) + "\n")
    r = cli("study", "encoders", nava, "--label-column", "dastgah", "-e", "stats", "-e", "mfcc", "--seeds", "0",
            "--epochs", "5", "--out", tmp_path / "o")
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "o" / "study.json").read_text())["summary"]
    assert list(s["variants"]) == ["stats", "mfcc"] and s["classes"] == sorted(CLASSES)
    assert "p_vs_best" in s["variants"][next(v for v in s["variants"] if v != s["best"])]
    assert (tmp_path / "o" / "encoders_confusion.png").exists()
