"""The command line as a user runs it: real processes, through `python -m saz.cli` and the
installed `saz` script. Everything else about the commands is tested in-process."""

import os
import shutil
import subprocess
import sys
from importlib.metadata import entry_points

import soundfile as sf

from conftest import REPO, run_saz, tone


def test_help_lists_every_command():
    r = run_saz("--help")
    assert r.returncode == 0
    for cmd in ("features", "features-list", "datasets", "synth", "models", "train", "evaluate", "compare", "predict",
                "serve", "version"):
        assert cmd in r.stdout
    assert "python -m saz.cli" in r.stdout  # the program name as it was started


def test_version_prints_it():
    from saz import __version__

    for args in (["version"], ["--version"]):
        r = run_saz(*args)
        assert r.returncode == 0 and r.stdout == f"{__version__}\n", args


def test_readme_first_command_by_the_saz_script():
    readme = (REPO / "README.md").read_text()
    assert "pip install -e . && saz predict examples/ensemble.ogg --timeline" in readme
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "saz"]
    assert script.value == "saz.cli:app"
    exe = shutil.which("saz")
    command = [exe] if exe else [sys.executable, "-m", "saz.cli"]  # the script, where it is installed
    r = subprocess.run([*command, "predict", "examples/ensemble.ogg", "--timeline"], capture_output=True, text=True, cwd=REPO,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))})
    assert r.returncode == 0, r.stderr
    assert "ensemble.ogg (15.0 s)" in r.stdout and "segments:" in r.stdout


def test_a_file_that_fails_sets_the_exit_status(tmp_path):
    sf.write(tmp_path / "a.wav", tone(22050, 1.0), 22050)
    (tmp_path / "broken.wav").write_bytes(b"RIFF....not really")
    r = run_saz("predict", tmp_path / "a.wav", tmp_path / "broken.wav", tmp_path / "missing.wav", "--format", "csv")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "missing.wav: file not found" in r.stderr and "broken.wav" in r.stderr and "2 of 3 file(s) failed" in r.stderr
    assert r.stdout.startswith("source,instrument,probability\n")
