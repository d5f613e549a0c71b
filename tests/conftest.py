"""Shared fixtures: the real dataset samples, generated edge-case audio, a small trained model,
the command line run in-process, and the markers that skip a test whose system package is missing.

On a machine without Debian's packages (``pip install -e ".[dev]"`` alone), a test that needs one
is skipped with one line naming the package to install; CI installs them all and sets
``SAZ_REQUIRE_SYSTEM_PACKAGES``, which turns such a skip into a failure:

- ``@pytest.mark.needs_fluidsynth("TimGM6mb", ...)``: renders with FluidSynth (the C library
  behind pyfluidsynth, Debian ``fluidsynth``) and the SoundFonts named;
- ``@pytest.mark.needs_soundfont("FluidR3_GM", ...)``: reads the preset tables of the SoundFonts
  named (found by :func:`saz.synth.soundfont.find_soundfont`), without rendering;
- the ``chromium`` fixture: the path of Debian's Chromium, which playwright drives.
"""

from __future__ import annotations

import contextlib
import os
import socket
import shutil
import subprocess
import sys
import time
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Iterator, NoReturn

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parent.parent / "examples"

# The command line's rich consoles fix their width to $COLUMNS when created (pytest-xdist workers
# have COLUMNS=80); without it they read it at each call, so an in-process run gets the width its
# invocation sets, as a subprocess does.
os.environ.pop("COLUMNS", None)

REAL_FILES = {
    "mp3": FIXTURES / "hamnava/audio/AACPZT.mp3",
    "ogg": FIXTURES / "openmic2018/audio/000/000046_3840.ogg",
    "wav_irmas": FIXTURES / "irmas/IRMAS-TrainingData/cla/[cla][cla]0189__2.wav",
    "wav_medleydb": FIXTURES / "medleydb/Audio/MusicDelta_Beethoven/MusicDelta_Beethoven_MIX.wav",
}


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def saz_subprocess_server(*command: str, tmp: Path) -> Iterator[str]:
    """``saz COMMAND... --port P`` (a server: `saz serve`, `saz annotate serve`) in a subprocess on
    a free loopback port, its temporary files in ``tmp``; yields its URL once /api/health answers,
    and stops it afterwards."""
    import httpx

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "saz.cli", *command, "--port", str(port)],
                            env={**os.environ, "TMPDIR": str(tmp)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read())
            time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def saz_server(*args: str, tmp: Path):
    """`saz serve` with ``args`` (see :func:`saz_subprocess_server`)."""
    return saz_subprocess_server("serve", *args, tmp=tmp)


REQUIRED = "SAZ_REQUIRE_SYSTEM_PACKAGES"  # set: a test whose system package is missing fails, not skips
APT = "apt-get install "


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers of the system packages a test needs."""
    config.addinivalue_line("markers", "needs_fluidsynth(*soundfonts): renders with FluidSynth and these SoundFonts")
    config.addinivalue_line("markers", "needs_soundfont(*names): reads the preset tables of these SoundFonts")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip each test whose marked needs are not installed here, naming what to install (a mark,
    so that the report points at the test), unless they are required (:func:`unmet`)."""
    if not os.environ.get(REQUIRED):
        for item in items:
            if reason := missing_needs(item):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before its fixtures: fail a test whose marked needs are required and not installed."""
    if os.environ.get(REQUIRED) and (reason := missing_needs(item)):
        unmet(reason)


def unmet(reason: str) -> NoReturn:
    """Skip the running test for ``reason``; fail it where ``$SAZ_REQUIRE_SYSTEM_PACKAGES`` is set
    (CI, which installs every package, sets it: no test goes unrun there unnoticed)."""
    if os.environ.get(REQUIRED):
        pytest.fail(f"{reason} ({REQUIRED} is set)", pytrace=False)
    pytest.skip(reason)


def missing_needs(item: pytest.Item) -> str:
    """What ``item``'s needs_fluidsynth and needs_soundfont markers ask for and this machine lacks,
    as one line ('' when nothing is missing)."""
    missing: dict[str, str] = {}
    fonts: list[str] = []
    for mark in item.iter_markers("needs_fluidsynth"):
        missing.update(fluidsynth_missing())
        fonts += mark.args
    for mark in item.iter_markers("needs_soundfont"):
        fonts += mark.args
    for name in fonts:
        missing.update(soundfont_missing(name))
    return one_line(missing) if missing else ""


def one_line(missing: dict[str, str]) -> str:
    """'needs A, B: apt-get install a b' from {what is missing: the command that installs it},
    the Debian packages in one apt-get command."""
    commands = list(dict.fromkeys(missing.values()))
    debian = [c.removeprefix(APT) for c in commands if c.startswith(APT)]
    others = [c for c in commands if not c.startswith(APT)]
    return f"needs {', '.join(missing)}: {'; '.join(([APT + ' '.join(debian)] if debian else []) + others)}"


@lru_cache(maxsize=1)
def fluidsynth_missing() -> tuple[tuple[str, str], ...]:
    """(('FluidSynth', 'apt-get install fluidsynth'),), or pyfluidsynth's pip command, where
    FluidSynth cannot be loaded; () where it can."""
    from saz.synth.optional import SynthUnavailable, fluidsynth

    try:
        fluidsynth()
    except SynthUnavailable as e:
        return ((e.needs, e.install),)
    return ()


@lru_cache(maxsize=None)
def soundfont_missing(name: str) -> tuple[tuple[str, str], ...]:
    """((f'SoundFont {name}', 'apt-get install PACKAGE'),) where ``name`` is not found, else ()."""
    from saz.synth.soundfont import find_soundfont, install_hint

    try:
        find_soundfont(name)
    except FileNotFoundError:
        return ((f"SoundFont {name}", install_hint(name)),)
    return ()


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of Debian's Chromium, which the web page's test drives through playwright (rather
    than a browser build of playwright's own, downloaded apart); where it is not installed, :func:`unmet`."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        unmet(one_line({"Chromium": APT + "chromium"}))
    return path


@pytest.fixture(scope="session")
def browser(chromium, tmp_path_factory):
    """Headless Chromium (Debian's, :func:`conftest.chromium`), through Playwright, whose
    microphone (asking no permission) plays examples/ensemble.ogg and which plays audio without a click."""
    playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright: pip install -e '.[dev]'")
    microphone = tmp_path_factory.mktemp("microphone") / "ensemble.wav"
    sf.write(microphone, *sf.read(EXAMPLES / "ensemble.ogg"))
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={microphone}"])
        yield browser
        browser.close()


def run_saz(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the saz command line in a subprocess, as a user would (the end-to-end tests only)."""
    return subprocess.run([sys.executable, "-m", "saz.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def invoke_saz(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the saz command line in this process (typer's CliRunner), answering as :func:`run_saz`
    does: exit status, standard output and standard error apart, and an unexpected exception's
    traceback at the end of standard error, as Python would print it."""
    from typer.testing import CliRunner

    from saz.cli import app

    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else None
    with contextlib.chdir(cwd or Path.cwd()):
        result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200", **(env or {})}, prog_name="saz")
    torch = sys.modules.get("torch")
    if torch is not None and threads is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)  # a command's in-process worker sets one thread: not for the next test
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return subprocess.CompletedProcess(["saz", *map(str, args)], result.exit_code, result.stdout, stderr)


@pytest.fixture
def cli():
    """The saz command line, in-process: ``cli("predict", path, "--format", "json")``."""
    return invoke_saz


@pytest.fixture(scope="session")
def model(tmp_path_factory) -> str:
    """A small saznet checkpoint (2-s clips) trained for one epoch: real weights, meaningless skill."""
    from saz.features import get_feature
    from saz.labels import Vocabulary
    from saz.models.train import Trainer, TrainConfig

    run = tmp_path_factory.mktemp("model")
    feature = get_feature("logmel", n_mels=64)
    rng = np.random.default_rng(0)
    X = rng.normal(-40, 10, size=(48, 64, 87)).astype(np.float32)
    y = (rng.random((48, 3)) < 0.5).astype(np.float32)
    cfg = TrainConfig("saznet", epochs=1, augment=False)
    return str(Trainer(cfg, feature, 2.0, Vocabulary.from_names(["tar", "ney", "daf"]), run, progress=False).fit(X, y, X[:16], y[:16]))


def tone(sr: int, seconds: float, freq: float = 440.0, channels: int = 1, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    y = amp * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return y if channels == 1 else np.stack([y] * channels, axis=1)


@pytest.fixture
def profiled(model: str, tmp_path: Path) -> Path:
    """``model`` with a threshold profile 'everything' (every threshold 0) beside its tuned one."""
    from saz.models.checkpoint import Checkpoint

    return Checkpoint.load(model).with_profile("everything", np.zeros(3), "every class passes").save(tmp_path / "profiled.pt")


@pytest.fixture
def tone_library(tmp_path: Path) -> Path:
    """A small Hornbostel-Sachs library of tones: 2 recordings per instrument, 4 categories."""
    spec = {"aerophone": {"ney": 180}, "chordophone": {"tar": 220, "santur": 330},
            "idiophone": {"zang": 660}, "membranophone": {"daf": 110}}
    for cat, insts in spec.items():
        for inst, f in insts.items():
            d = tmp_path / "lib" / cat / inst
            d.mkdir(parents=True)
            for k in range(2):
                sf.write(d / f"rec{k}.wav", tone(22050, 0.8, f * (1 + 0.1 * k)), 22050)
    return tmp_path / "lib"


@pytest.fixture
def edge_cases(tmp_path: Path) -> dict[str, Path]:
    """Generated files: stereo, 8 kHz, 96 kHz, 0.1 s, silence, flac, truncated, text-as-wav."""
    files = {
        "stereo": (tone(22050, 1.0, channels=2), 22050, "wav"),
        "sr8k": (tone(8000, 1.0), 8000, "wav"),
        "sr96k": (tone(96000, 1.0), 96000, "wav"),
        "short": (tone(22050, 0.1), 22050, "wav"),
        "silence": (np.zeros(22050, np.float32), 22050, "wav"),
        "flac": (tone(44100, 1.0), 44100, "flac"),
    }
    out = {}
    for name, (y, sr, ext) in files.items():
        p = tmp_path / f"{name}.{ext}"
        sf.write(p, y, sr)
        out[name] = p
    whole = (tmp_path / "stereo.wav").read_bytes()
    out["truncated"] = tmp_path / "truncated.wav"
    out["truncated"].write_bytes(whole[: len(whole) // 3])
    out["text"] = tmp_path / "notes.wav"
    out["text"].write_text("this is not audio\n")
    out["empty"] = tmp_path / "empty.wav"
    out["empty"].write_bytes(b"")
    out["zero_frames"] = tmp_path / "zero.wav"
    sf.write(out["zero_frames"], np.zeros((0, 1), np.float32), 22050)
    out["unsupported"] = tmp_path / "score.xyz"
    out["unsupported"].write_bytes(b"\x00\x01binary")
    return out


def sample_library(root: Path, sources: dict[str, dict[str, int]], sr: int = 22050) -> Path:
    """A sample library laid out as ``../shared/samples``: ``source/instrument/`` folders of ten
    0.5-s tones each, at the given base frequency per instrument."""
    for source, insts in sources.items():
        for inst, f in insts.items():
            d = root / source / inst
            d.mkdir(parents=True)
            for k in range(10):
                sf.write(d / f"{inst}_{k}.wav", tone(sr, 0.5, f * (1 + 0.05 * k)), sr)
    return root


def postgres_bin() -> Path | None:
    """The folder of PostgreSQL's server binaries (Debian's /usr/lib/postgresql/N/bin, newest first)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name),
                   reverse=True) if Path("/usr/lib/postgresql").is_dir() else []
    if found:
        return found[0].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@contextlib.contextmanager
def throwaway_postgres(bin_dir: Path) -> Iterator[str]:
    """A PostgreSQL cluster on a free loopback port (initdb into a temporary folder, pg_ctl start,
    stopped and removed after); yields its URL. As root the server runs as the 'postgres' (or
    'nobody') user, since PostgreSQL refuses to run as root."""
    import pwd
    import tempfile

    data = Path(tempfile.mkdtemp(prefix="saz-postgres-"))  # not under pytest's root-only folder: the server's user reads it
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = next(u for u in ("postgres", "nobody") if _has_user(u))
        os.chown(data, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
        prefix = ["runuser", "-u", user, "--"]
    port = free_port()
    run = lambda *a: subprocess.run([*prefix, *map(str, a)], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(bin_dir / "initdb", "-D", data / "db", "-U", "saz", "--auth=trust", "-E", "UTF8", "--no-sync")
        run(bin_dir / "pg_ctl", "-D", data / "db", "-l", data / "log", "-w", "-o",
            f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c max_connections=200", "start")
        yield f"postgresql://saz@127.0.0.1:{port}/postgres"
    finally:
        if (data / "db" / "postmaster.pid").exists():
            run(bin_dir / "pg_ctl", "-D", data / "db", "-m", "immediate", "-w", "stop")
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session (:func:`throwaway_postgres`); where its
    binaries are not installed, :func:`unmet`."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        unmet(one_line({"PostgreSQL": APT + "postgresql"}))
    with throwaway_postgres(bin_dir) as url:
        yield url


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
