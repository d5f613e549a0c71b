"""`saz predict`, run in-process: folders, formats, the --out file, plots, profiles and errors."""

import csv
import io
import json

import pytest
import soundfile as sf

from conftest import tone

SR = 22050


def source_name(s: str) -> str:
    return s.replace("\\", "/").rsplit("/", 1)[-1]


def test_folder_with_a_bad_file_json_csv_out_and_plots(cli, model, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    sf.write(folder / "a.wav", tone(SR, 3.0), SR)
    sf.write(folder / "sub" / "b.ogg", tone(SR, 1.0, 880.0), SR)
    (folder / "sub" / "broken.wav").write_bytes(b"RIFF....not really")
    r = cli("predict", folder, "-m", model, "--format", "json", "--timeline", "--threshold", "0", "--plot",
            tmp_path / "plots", "--out", tmp_path / "results.jsonl")
    assert r.returncode == 1  # one file failed
    assert "broken.wav" in r.stderr and "1 of 3 file(s) failed" in r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [source_name(d["source"]) for d in lines] == ["a.wav", "b.ogg"]
    for d in lines:
        assert set(d) == {"source", "duration", "thresholds_from", "instruments", "probabilities", "timeline"}
        assert set(d["probabilities"]) == {"tar", "ney", "daf"}
        assert {"window", "hop", "windows", "segments"} == set(d["timeline"])
        assert all(set(s) == {"instrument", "start", "end", "confidence"} for s in d["timeline"]["segments"])
    assert (tmp_path / "results.jsonl").read_text() == r.stdout
    for name in ("a.png", "b.png"):
        png = (tmp_path / "plots" / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    r = cli("predict", folder / "a.wav", folder / "sub" / "b.ogg", "-m", model, "--format", "csv", "--threshold", "0")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == ["source", "instrument", "probability"] and len(rows) == 6
    r = cli("predict", folder / "a.wav", "-m", model, "--format", "csv", "--timeline", "--threshold", "0")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == ["source", "instrument", "start", "end", "confidence"] and float(rows[0]["end"]) == pytest.approx(3.0, abs=0.01)


def test_predict_errors(cli, model, tmp_path):
    r = cli("predict", tmp_path / "nothing.wav", "-m", model)
    assert r.returncode == 1 and "nothing.wav: no such file" in r.stderr
    sf.write(tmp_path / "a.wav", tone(SR, 1.0), SR)
    r = cli("predict", tmp_path / "a.wav", "-m", tmp_path / "a.wav")
    assert r.returncode == 1 and "not a saz checkpoint" in r.stderr and "Traceback" not in r.stderr
    r = cli("predict", tmp_path / "a.wav", "-m", model, "--format", "xml")
    assert r.returncode == 2 and "unknown format" in r.stderr
    (tmp_path / "empty").mkdir()
    r = cli("predict", tmp_path / "empty", "-m", model)
    assert r.returncode == 1 and "no audio files found in" in r.stderr


def test_a_threshold_profile_chooses_what_counts_as_detected(cli, profiled, tmp_path):
    sf.write(tmp_path / "a.wav", tone(SR, 3.0), SR)
    r = cli("predict", tmp_path / "a.wav", "-m", profiled, "--profile", "everything", "--format", "json")
    assert r.returncode == 0 and len(json.loads(r.stdout)["instruments"]) == 3, r.stderr
    assert json.loads(r.stdout)["thresholds_from"] == "everything"  # the JSON says which thresholds decided
    r = cli("predict", tmp_path / "a.wav", "-m", profiled, "--profile", "loud")
    assert r.returncode == 2 and "no threshold profile 'loud' (it has: tuned, everything)" in r.stderr
    r = cli("predict", tmp_path / "a.wav", "-m", profiled, "--profile", "everything", "--threshold", "0.5")
    assert r.returncode == 2 and "give one" in r.stderr
