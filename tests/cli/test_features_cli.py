"""`saz features` and `saz features-list`, run in-process (and once in a subprocess, killed)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import EXAMPLES, REAL_FILES, tone


def test_features_on_fixture_folder(cli, tmp_path):
    fixtures = REAL_FILES["mp3"].parents[1]
    r = cli("features", str(fixtures), "--feature", "stats", "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c"), "-j", "2")
    assert r.returncode == 0, r.stderr
    outs = sorted((tmp_path / "o").rglob("*.npy"))
    assert len(outs) == 12 and all(np.load(p).shape == (52,) for p in outs)
    assert "12 of 12 files" in r.stdout
    index = (tmp_path / "o" / "index.csv").read_text().splitlines()
    assert len(index) == 13 and index[0].startswith("path,output,feature")
    again = cli("features", str(fixtures), "--feature", "stats", "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c"))
    assert again.stdout.count(" hit ") == 12


def test_features_exit_codes(cli, tmp_path, edge_cases):
    mixed = cli("features", str(edge_cases["text"]), str(EXAMPLES / "plucked-trio.ogg"), "--out", str(tmp_path / "m"), "--no-cache")
    assert mixed.returncode == 0
    assert "failed:" in mixed.stderr and "notes.wav" in mixed.stderr and "1 of 2 files" in mixed.stdout
    bad = cli("features", str(edge_cases["text"]), str(edge_cases["empty"]), "--out", str(tmp_path / "b"), "--no-cache")
    assert bad.returncode == 1 and bad.stderr.count("failed:") == 2
    unknown = cli("features", str(edge_cases["stereo"]), "--feature", "chroma", "--out", str(tmp_path / "u"))
    assert unknown.returncode == 2 and "unknown feature 'chroma'" in unknown.stderr


def test_features_list_shows_every_extractor_with_its_defaults(cli):
    r = cli("features-list")
    assert r.returncode == 0, r.stderr
    for name in ("logmel", "mfcc", "stats"):
        assert f"│ {name} " in r.stdout
    assert "n_mels=" in r.stdout


def test_features_print_names_as_written_and_refuse_what_predict_refuses(cli, tmp_path):
    folder = tmp_path / "in"
    (folder / "a[").mkdir(parents=True)
    sf.write(folder / "[cel][cla]0001__1.wav", tone(22050, 1.0), 22050)
    (folder / "a[" / "x].wav").write_text("not audio\n")
    data = (EXAMPLES / "ensemble.ogg").read_bytes()
    (folder / "cut.ogg").write_bytes(data[: len(data) // 2])
    (folder / "readme.md").write_text("x")
    r = cli("features", folder, "--feature", "stats", "--out", tmp_path / "o", "--no-cache")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "│ " + str(folder / "[cel][cla]0001__1.wav") in r.stdout and "1 of 3 files" in r.stdout
    lines = r.stderr.splitlines()
    assert f"skipped: {folder}: 1 file(s) not named as audio: readme.md" in lines
    assert any(line.startswith(f"failed: {folder / 'a[' / 'x].wav'}: ") for line in lines)
    assert f"failed: {folder / 'cut.ogg'}: truncated: the Ogg stream stops at 4.5 s without its last page" in lines
def children(pid: int) -> set[int]:
    """The live (not zombie) processes whose parent is ``pid``, from /proc."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (command)": state, ppid, ...
        except OSError:  # the process ended meanwhile
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def workers_of(pid: int) -> set[int]:
    """The children of ``pid`` that are multiprocessing workers (not its resource tracker)."""
    def cmdline(child: int) -> bytes:
        try:
            return Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            return b""
    return {child for child in children(pid) if b"spawn_main" in cmdline(child)}


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_end_with_a_killed_parent(tmp_path):
    """`saz features -j 2` killed with SIGKILL: its worker processes do not stay behind."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads processes from /proc")
    for k in range(24):
        sf.write(tmp_path / f"t{k}.wav", tone(22050, 2.0, 110.0 * (1 + k % 5)), 22050)
    proc = subprocess.Popen([sys.executable, "-m", "saz.cli", "features", str(tmp_path), "-j", "2", "--no-cache",
                             "--out", str(tmp_path / "out")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    family: set[int] = set()  # the workers and multiprocessing's resource tracker
    try:
        deadline = time.monotonic() + 120
        while len(workers_of(proc.pid)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(workers_of(proc.pid)) >= 2, "the workers did not start"
        family = children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while any(map(alive, family)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in family if alive(pid)], "processes of the killed parent are still running"
    finally:  # whatever the outcome, nothing stays behind
        for pid in [proc.pid, *family]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
