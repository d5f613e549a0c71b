"""A small annotation project (generated tones cut from ten 'full tracks'), a database URL per
backend (a SQLite file; a fresh database on the session's throwaway PostgreSQL), and a real
``saz annotate serve`` on loopback."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import soundfile as sf
from conftest import saz_subprocess_server, tone

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


def annotate_server(db: str, tmp: Path):
    """``saz annotate serve --db db`` on a free loopback port (see ``saz_subprocess_server``)."""
    return saz_subprocess_server("annotate", "serve", "--db", db, tmp=tmp)
