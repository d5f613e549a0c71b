"""`saz teach`, run in-process: the taught checkpoint works with predict and models info; bad input fails in one line."""

from pathlib import Path

import soundfile as sf
from test_teach import SR, examples, instrument


def test_teach_then_predict_and_info(cli, model, tmp_path: Path):
    root = examples(tmp_path / "ex", {"kamancheh": "kamancheh", "reed": "reed"}, recordings=2)
    (root / "reed" / "broken.wav").write_bytes(b"not audio")
    out = tmp_path / "mine.pt"
    r = cli("teach", root, "--out", out, "--base", model, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "kamancheh" in r.stdout and "CV AP" in r.stdout and "no forgetting" in r.stdout and out.is_file()
    assert r.stderr.count("broken.wav") == 1 and "Traceback" not in r.stderr
    sf.write(tmp_path / "k.wav", instrument("kamancheh", 77), SR)
    r = cli("predict", tmp_path / "k.wav", "--model", out, "--format", "json")
    assert r.returncode == 0, r.stderr
    r = cli("models", "info", out)
    assert r.returncode == 0 and r.stdout.startswith("taught checkpoint") and "kamancheh (new, as kamancheh): 2 recordings" in r.stdout
    assert "no forgetting (" in r.stdout and "probabilities changed by at most" in r.stdout
    (tmp_path / "m.csv").write_text("clip_id,path,labels\na,k.wav,kamancheh\n")
    r = cli("evaluate", out, "--dataset", "csv", "--root", tmp_path / "m.csv", "--split", "all", "--out", tmp_path / "ev",
            "--protocol", "hard")
    assert r.returncode == 0, r.stderr


def test_teach_bad_input(cli, model, tmp_path: Path):
    r = cli("teach", tmp_path, "--out", tmp_path / "mine.pt", "--base", model)
    assert r.returncode == 1 and "no recordings found" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    root = examples(tmp_path / "ex", {"santur": "reed", "dulcimer": "kamancheh"}, recordings=1)
    r = cli("teach", root, "--out", tmp_path / "mine.pt")
    assert r.returncode == 1 and "both mean the class 'dulcimer'" in r.stderr
