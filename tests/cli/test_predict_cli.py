"""`saz predict`, run in-process: folders, formats, the --out file, plots, profiles and errors."""

import csv
import io
import json
import socket

import numpy as np
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
        assert set(d) == {"source", "duration", "thresholds_from", "instruments", "probabilities", "timeline",
                          "vocabulary", "unlike_training"}
        assert set(d["probabilities"]) == {"tar", "ney", "daf"}
        assert d["vocabulary"]["instruments"] == ["tar", "ney", "daf"]
        assert d["vocabulary"]["not_in_vocabulary"]["Iranian"] == ["setar", "santur", "kamancheh", "oud", "tonbak"]
        assert {"window", "hop", "windows", "segments", "envelope"} == set(d["timeline"])
        peaks = d["timeline"]["envelope"]["peaks"]  # the waveform, one peak per step
        assert len(peaks) == pytest.approx(d["duration"] / d["timeline"]["envelope"]["step"], abs=1) and max(peaks) > 0.1
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
    assert list(rows[0]) == ["source", "instrument", "start", "end", "probability"]
    assert [(float(x["start"]), float(x["end"])) for x in rows[::3]] == [(0.0, 2.0), (1.0, 3.0)]  # 2-s windows, 1-s hop


def test_predict_errors(cli, model, tmp_path):
    r = cli("predict", tmp_path / "nothing.wav", "-m", model)
    assert r.returncode == 1 and "nothing.wav: file not found" in r.stderr
    sf.write(tmp_path / "a.wav", tone(SR, 1.0), SR)
    r = cli("predict", tmp_path / "a.wav", "-m", tmp_path / "a.wav")
    assert r.returncode == 1 and "not a saz checkpoint" in r.stderr and "Traceback" not in r.stderr
    r = cli("predict", tmp_path / "a.wav", "-m", model, "--format", "xml")
    assert r.returncode == 2 and "unknown format 'xml' (table, json, csv, audacity, sv, elan, jams)" in r.stderr
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


def strict_json(text: str) -> dict:
    """``text`` parsed as RFC 8259 JSON: a bare NaN or Infinity is an error."""
    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def failure_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("failed: ")]


def test_nan_audio_fails_with_one_line_and_the_json_stays_valid(cli, model, tmp_path):
    y = tone(SR, 3.0)
    y[100] = np.nan
    sf.write(tmp_path / "nan.wav", y, SR, subtype="FLOAT")
    sf.write(tmp_path / "a.wav", tone(SR, 1.0), SR)
    r = cli("predict", tmp_path / "nan.wav", tmp_path / "a.wav", "-m", model, "--format", "json")
    assert r.returncode == 1 and failure_lines(r.stderr) == [f"failed: {tmp_path / 'nan.wav'}: contains NaN or infinite samples"]
    assert [source_name(strict_json(line)["source"]) for line in r.stdout.splitlines()] == ["a.wav"]


def test_file_names_print_as_written_and_error_lines_never_wrap(cli, model, tmp_path):
    """Rich markup in a name ([/x] closes nothing; [cel][cla] is IRMAS's) prints as is; a 300-character path stays one line."""
    (tmp_path / "a[").mkdir()
    long = tmp_path / ("d" * 120) / ("e" * 120) / "[cel][cla]0001__1.wav"
    long.parent.mkdir(parents=True)
    for bad in (tmp_path / "a[" / "x].wav", long):
        bad.write_text("not audio\n")
    sf.write(tmp_path / "[cel][cla]0002__1.wav", tone(SR, 1.0), SR)
    r = cli("predict", tmp_path / "a[" / "x].wav", long, tmp_path / "[cel][cla]0002__1.wav", "-m", model, "--threshold", "0")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert [line.split(": not audio")[0] for line in failure_lines(r.stderr)] == [f"failed: {tmp_path / 'a[' / 'x].wav'}", f"failed: {long}"]
    assert f"{tmp_path / '[cel][cla]0002__1.wav'} (1.0 s)" in r.stdout.splitlines()


@pytest.mark.parametrize("suffix", [".ogg", ".mp3"])
def test_a_truncated_file_fails_or_with_allow_partial_is_scored_with_a_warning(cli, model, tmp_path, suffix):
    sf.write(tmp_path / f"whole{suffix}", tone(SR, 12.0, 330.0) + 0.01 * np.random.default_rng(0).standard_normal(SR * 12), SR)
    data = (tmp_path / f"whole{suffix}").read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) // 3])
    r = cli("predict", cut, tmp_path / f"whole{suffix}", "-m", model, "--format", "json")
    (line,) = failure_lines(r.stderr)
    assert r.returncode == 1 and line.startswith(f"failed: {cut}: truncated") and line.endswith("(--allow-partial scores the part decoded)")
    assert [source_name(strict_json(x)["source"]) for x in r.stdout.splitlines()] == [f"whole{suffix}"]
    r = cli("predict", cut, "-m", model, "--format", "json", "--allow-partial")
    d = strict_json(r.stdout)
    assert r.returncode == 0 and 2 < d["duration"] < 6 and d["warning"].startswith(f"{cut}: truncated")
    assert f"warning: {d['warning']}; scored the {d['duration']:.1f} s decoded" in r.stderr.splitlines()


def test_a_wav_with_a_bogus_header_is_refused(cli, model, tmp_path):
    p = tmp_path / "bogus.wav"
    sf.write(p, tone(SR, 2.0), SR, subtype="PCM_16")
    data = bytearray(p.read_bytes())
    data[data.index(b"fmt ") + 22] = 7  # 7 bits per sample, in 2-byte frames
    p.write_bytes(bytes(data))
    r = cli("predict", p, "-m", model)
    assert r.returncode == 1 and failure_lines(r.stderr) == [
        f"failed: {p}: bogus header: 7 bits per sample in 2-byte frames of 1 channel(s), which libsndfile would read as PCM_U8"]


def test_unusable_inputs_are_bad_files_and_the_rest_is_answered(cli, model, tmp_path):
    sf.write(tmp_path / "a.wav", tone(SR, 1.0), SR)
    (tmp_path / "broken.wav").symlink_to(tmp_path / "gone.wav")
    (tmp_path / "folder.wav").mkdir()
    songs = tmp_path / "songs"
    (songs / "sub").mkdir(parents=True)
    sf.write(songs / "b.opus", tone(48000, 1.0), 48000, format="OGG", subtype="OPUS")
    sf.write(songs / "sub" / "c.wav", tone(SR, 1.0), SR)
    (songs / "cover.jpg").write_bytes(b"\xff\xd8")
    (songs / "sub" / "notes.txt").write_text("x")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(tmp_path / "sock.wav"))
        r = cli("predict", tmp_path / "broken.wav", tmp_path / "sock.wav", tmp_path / "folder.wav", tmp_path / "a.wav", songs,
                "-m", model, "--format", "json")
    assert r.returncode == 1, r.stderr
    assert [source_name(strict_json(line)["source"]) for line in r.stdout.splitlines()] == ["a.wav", "b.opus", "c.wav"]
    assert failure_lines(r.stderr) == [f"failed: {tmp_path / 'folder.wav'}: no audio files found in this folder",
                                       f"failed: {tmp_path / 'broken.wav'}: broken symbolic link (to {tmp_path / 'gone.wav'})",
                                       f"failed: {tmp_path / 'sock.wav'}: not a regular file (a pipe, socket or device)"]
    assert f"skipped: {songs}: 2 file(s) not named as audio: cover.jpg, sub/notes.txt" in r.stderr.splitlines()
    assert "3 of 6 file(s) failed" in r.stderr


def test_the_table_says_what_the_model_knows_once_and_a_pattern_unlike_training_per_file(cli, model, tmp_path):
    """The table opens with the model's instruments and, per tradition, those it does not know
    (data: saz/data/traditions.toml) and how to teach it one; a file whose probabilities waver gets a
    line of its own."""
    from saz.export import TEACH
    from saz.prediction import Prediction

    for name in ("a.wav", "b.wav"):
        sf.write(tmp_path / name, tone(SR, 2.0), SR)
    r = cli("predict", tmp_path / "a.wav", tmp_path / "b.wav", "-m", model)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"{model} knows 3 instruments (saz models info {model}): tar, ney, daf"
    assert lines[1].startswith("not in its vocabulary") and "  Iranian: setar, santur, kamancheh, oud, tonbak" in lines
    assert r.stdout.count("knows 3 instruments") == 1
    assert lines[lines.index("  Iranian: setar, santur, kamancheh, oud, tonbak") + 1:].count(TEACH) == 1
    p = np.array([0.45, 0.3, 0.25], np.float32)
    wavering = Prediction("c.wav", ["tar", "ney", "daf"], np.full(3, 0.5, np.float32), 2.0, 2.0, 1.0, p, np.zeros(1), p[None])
    from saz.export import FORMATS

    assert ("  unlike its training: no instrument reaches 0.6 yet 3 score between 0.2 and 0.6; what plays may be "
            "outside its vocabulary") in FORMATS["table"].render(wavering, False, True).splitlines()


def test_options_that_make_no_sense_are_refused_in_one_line(cli, model, tmp_path):
    """A threshold outside [0, 1], a hop that is not positive or longer than the window, a window
    shorter than the model hears (saznet: 23 spectrogram frames, 0.51 s) exit 2 in one line; a
    window longer than a file fails that file, instead of padding it with silence."""
    sf.write(tmp_path / "a.wav", tone(SR, 2.0), SR)
    sf.write(tmp_path / "long.wav", tone(SR, 4.0), SR)
    for option, value, words in (("--threshold", "1.5", "--threshold 1.5: outside [0, 1]"),
                                 ("--threshold", "-0.1", "--threshold -0.1: outside [0, 1]"),
                                 ("--hop", "0", "--hop 0: must be positive"), ("--hop", "-1", "--hop -1: must be positive"),
                                 ("--hop", "2.5", "--hop 2.5: must be positive and at most the 2-s window"),
                                 ("--window", "0.3", "--window 0.3: shorter than the model can use: each of its "
                                                     "outputs hears 23 spectrogram frames, 0.51 s")):
        r = cli("predict", tmp_path / "a.wav", "-m", model, option, value)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith(f"error: {words}"), r.stderr
        assert r.stdout == ""
    r = cli("predict", tmp_path / "a.wav", tmp_path / "long.wav", "-m", model, "--window", "3")
    assert r.returncode == 1 and "1 of 2 file(s) failed" in r.stderr
    assert (f"failed: {tmp_path / 'a.wav'}: 2.00 s long, shorter than the 3-s window asked for: give a window of "
            "at most 2.00 s, or none") in r.stderr
    assert "long.wav (4.0 s)" in r.stdout and "a.wav (" not in r.stdout
    assert cli("predict", tmp_path / "a.wav", "-m", model, "--window", "0.52").returncode == 0
    assert cli("predict", tmp_path / "a.wav", "-m", model).returncode == 0  # the model's own window pads, as in training


def test_a_folder_of_m4a_is_predicted_through_ffmpeg_and_without_it_told_to_install_it(cli, model, tmp_path, monkeypatch):
    import shutil
    import subprocess

    from saz import ffmpeg

    sf.write(tmp_path / "a.wav", tone(SR, 2.0), SR)
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed: this test makes a real m4a with it")
    (tmp_path / "in").mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", tmp_path / "a.wav", "-c:a", "aac", tmp_path / "in" / "a.m4a"],
                   check=True)
    r = cli("predict", tmp_path / "in", "-m", model, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["duration"] == pytest.approx(2.0, abs=0.05)
    monkeypatch.setattr(ffmpeg, "executable", lambda: None)
    r = cli("predict", tmp_path / "in", "-m", model)
    assert r.returncode == 1 and failure_lines(r.stderr) == [
        f"failed: {tmp_path / 'in' / 'a.m4a'}: .m4a audio needs ffmpeg, which is not installed (not on PATH): install ffmpeg to decode it"]


def test_document_formats_write_a_file_per_recording_into_the_out_folder(cli, model, tmp_path):
    """audacity, sv, elan and jams: each recording's segments in a file of its own under --out DIR
    (two recordings named a.wav: a and a-2), the same text on standard output."""
    (tmp_path / "in" / "sub").mkdir(parents=True)
    sf.write(tmp_path / "in" / "a.wav", tone(SR, 3.0), SR)
    sf.write(tmp_path / "in" / "sub" / "a.wav", tone(SR, 1.0, 880.0), SR)
    files = {}
    for fmt, suffix in (("audacity", ".audacity.txt"), ("sv", ".sv.csv"), ("elan", ".elan.txt")):
        r = cli("predict", tmp_path / "in", "-m", model, "--format", fmt, "--threshold", "0", "--out", tmp_path / "labels")
        assert r.returncode == 0, r.stderr
        files[fmt] = [(tmp_path / "labels" / f"{name}{suffix}").read_text() for name in ("a", "a-2")]
        assert "".join(files[fmt]) == r.stdout
    audacity = [line.split("\t") for line in files["audacity"][0].splitlines()]
    assert sorted(label for _, _, label in audacity) == ["daf", "ney", "tar"]  # threshold 0: every class, all along
    assert all((float(start), float(end)) == (0.0, pytest.approx(3.0, abs=0.01)) for start, end, _ in audacity)
    sv = list(csv.DictReader(io.StringIO(files["sv"][0])))
    assert [(float(x["time"]), float(x["time"]) + float(x["duration"]), x["label"]) for x in sv] == \
        [(float(s), float(e), lab) for s, e, lab in audacity]
    assert [line.split("\t")[:3] for line in files["elan"][1].splitlines()] == \
        [[lab, f"{float(s):.3f}", f"{float(e):.3f}"] for s, e, lab in (x.split("\t") for x in files["audacity"][1].splitlines())]


def test_jams_files_are_read_back_by_jams(cli, model, tmp_path):
    jams = pytest.importorskip("jams", reason="the timeline extra is not installed (pip install -e '.[timeline]')")
    sf.write(tmp_path / "a.wav", tone(SR, 3.0), SR)
    r = cli("predict", tmp_path / "a.wav", "-m", model, "--format", "jams", "--threshold", "0", "--smooth", "3",
            "--out", tmp_path / "jams")
    assert r.returncode == 0, r.stderr
    jam = jams.load(str(tmp_path / "jams" / "a.jams"), validate=True, strict=True)
    (ann,) = jam.annotations
    assert ann.namespace == "tag_open" and sorted(o.value for o in ann) == ["daf", "ney", "tar"]
    assert ann.sandbox.smooth == 3 and jam.file_metadata.duration == pytest.approx(3.0, abs=0.01)


def test_format_errors_exit_2_before_any_file_is_read(cli, model, tmp_path, monkeypatch):
    from dataclasses import replace

    from saz.export import FORMATS

    sf.write(tmp_path / "a.wav", tone(SR, 1.0), SR)
    (tmp_path / "taken.txt").write_text("x")
    r = cli("predict", tmp_path / "a.wav", "-m", model, "--format", "audacity", "--out", tmp_path / "taken.txt")
    assert r.returncode == 2 and "--out names the folder for them" in r.stderr
    r = cli("predict", tmp_path / "a.wav", "-m", model, "--smooth", "2")
    assert r.returncode == 2 and "smooth must be a positive odd number of windows (got 2)" in r.stderr
    monkeypatch.setitem(FORMATS, "jams", replace(FORMATS["jams"], package="saz_no_such_package"))
    r = cli("predict", tmp_path / "a.wav", "-m", model, "--format", "jams")
    assert r.returncode == 2 and "needs the 'saz_no_such_package' package: pip install 'saz[timeline]'" in r.stderr
