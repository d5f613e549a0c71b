"""A small annotation project (generated tones cut from ten 'full tracks'), a database URL per
backend (a SQLite file; a fresh database on the session's throwaway PostgreSQL), and a real
``saz annotate serve`` on loopback."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import soundfile as sf

from conftest import free_port, tone

TRACKS = [("t0", "easy", "tar;tonbak"), ("t1", "easy", "vocal;ney"), ("t2", "easy", "santur;tonbak"),
          ("t3", "easy", "kamancheh;daf"), ("t4", "easy", "oud;ney"), ("t5", "easy", "setar;vocal"),
          ("t6", "easy", "tar;daf"), ("t7", "hard", "santur;kamancheh;tonbak"), ("t8", "hard", "ney;tar;vocal"),
          ("t9", "hard", "setar;daf")]


@pytest.fixture
def sources(tmp_path) -> tuple[Path, Path]:
    """Ten 21-s 'full tracks' (tones, 8 kHz) and their tracks CSV."""
    full = tmp_path / "full"
    full.mkdir()
    for k, (name, _, _) in enumerate(TRACKS):
        sf.write(full / f"{name}.wav", tone(8000, 21.0, 200.0 + 40 * k), 8000)
    csv = tmp_path / "tracks.csv"
    csv.write_text("track,difficulty,instruments\n" + "".join(f"{n},{d},{i}\n" for n, d, i in TRACKS))
    return full, csv


def _postgres_database(server: str) -> str:
    """A new, empty database on the session's PostgreSQL cluster."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """The project database: a SQLite file, or a fresh database on a real PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "project.db")
    return _postgres_database(request.getfixturevalue("postgres"))


@contextlib.contextmanager
def annotate_server(db: str, tmp: Path) -> Iterator[str]:
    """``saz annotate serve --db db`` in a subprocess on a free loopback port; yields its URL once
    /api/health answers, and stops it afterwards."""
    from saz.annotate.client import ApiError, Client

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "saz.cli", "annotate", "serve", "--db", db, "--port", str(port)],
                            env={**os.environ, "TMPDIR": str(tmp)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(OSError, ApiError):
                Client(url, timeout=1).call("/api/health")
                break
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read())
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
