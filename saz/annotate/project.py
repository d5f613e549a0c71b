"""A project from a folder: the tracks CSV (candidate instruments and difficulty per track), the
excerpts (or full tracks cut into non-overlapping 5-s clips, never two consecutive ones from a
track, as in section 2.1), and one open pair per (excerpt, candidate instrument)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from saz import audio
from saz.annotate.db import DIFFICULTIES, Excerpt, Pair, Track
from saz.datasets.hamnava import vocabulary

CLIP_SECONDS = 5.0
TRACK_COLUMNS = ("track", "difficulty", "instruments")


class ProjectError(ValueError):
    """A tracks CSV or excerpts folder that cannot make a project (one line, naming the file)."""


@dataclass
class TrackRow:
    name: str
    difficulty: str
    candidates: list[str]


@dataclass
class Created:
    tracks: int = 0
    excerpts: int = 0
    pairs: int = 0
    skipped: list[str] = field(default_factory=list)


def read_tracks(path: Path) -> list[TrackRow]:
    """The rows of ``track,difficulty,instruments`` (instruments ';'-separated, HamNava's names or
    their spellings); :class:`ProjectError` at the first malformed line."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
            header = [c.strip() for c in (rows[0].keys() if rows else [])]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ProjectError(f"{path}: unreadable tracks CSV ({e})") from e
    missing = [c for c in TRACK_COLUMNS if c not in header]
    if not rows or missing:
        raise ProjectError(f"{path}: a tracks CSV needs the columns {', '.join(TRACK_COLUMNS)} and one row per track"
                           + (f" (missing: {', '.join(missing)})" if rows else " (no rows)"))
    vocab, out = vocabulary(), []
    for line, rec in enumerate(rows, start=2):
        rec = {k.strip(): (v or "").strip() for k, v in rec.items() if k is not None}
        names = [n.strip() for n in rec["instruments"].split(";") if n.strip()]
        unknown = [n for n in names if vocab.resolve(n, strict=False) is None]
        if not rec["track"] or rec["difficulty"] not in DIFFICULTIES or not names or unknown:
            why = (f"unknown instrument(s) {', '.join(unknown)} (known: {', '.join(vocab.names)})" if unknown
                   else f"difficulty must be easy or hard, got '{rec['difficulty']}'"
                   if rec["difficulty"] not in DIFFICULTIES else "empty track name or instrument list")
            raise ProjectError(f"{path}:{line}: {why}")
        out.append(TrackRow(rec["track"], rec["difficulty"], sorted({vocab.resolve(n) for n in names})))
    return out


def track_of(file: Path) -> str:
    """The track an excerpt file belongs to: its stem before ``__`` (``gol__003.wav`` -> ``gol``)."""
    return file.stem.split("__")[0]


def cut_track(path: Path, out_dir: Path, seconds: float = CLIP_SECONDS) -> list[Path]:
    """Cut ``path`` into non-overlapping ``seconds``-long clips, keeping every other one (so no two
    consecutive clips of a track), written as ``<track>__<k>.wav`` at the file's rate."""
    y, sr = audio.load(path, sr=None)
    n = int(round(seconds * sr))
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = []
    for k in range(0, len(y) // n, 2):
        dest = out_dir / f"{path.stem}__{k:03d}.wav"
        sf.write(dest, np.asarray(y[k * n:(k + 1) * n]), sr, subtype="PCM_16")
        clips.append(dest)
    return clips


def excerpt_files(folder: Path, cut_to: Path | None, created: Created) -> list[Path]:
    """The excerpts of ``folder`` (cut from its full tracks into ``cut_to`` when given); files
    that do not decode are left out, each named in ``created.skipped``."""
    if not folder.is_dir():
        raise ProjectError(f"{folder}: no such excerpts folder")
    files = []
    for f in audio.scan(folder).files:
        try:
            if cut_to is not None:
                files += cut_track(f, cut_to)
            else:
                audio.info(f)
                files.append(f)
        except audio.AudioError as e:
            created.skipped.append(str(e))
    return files


def create_project(engine: Engine, excerpts: Path, tracks_csv: Path, cut_to: Path | None = None) -> Created:
    """Add the tracks, their excerpts and one open pair per candidate instrument (idempotent:
    a second run adds only what is new)."""
    rows = {r.name: r for r in read_tracks(tracks_csv)}
    created = Created()
    files = excerpt_files(excerpts, cut_to, created)
    with Session(engine) as s, s.begin():
        known = {t.name: t for t in s.scalars(select(Track))}
        have = set(s.scalars(select(Excerpt.sample_id)))
        for f in files:
            row = rows.get(track_of(f))
            if row is None:
                created.skipped.append(f"{f}: track '{track_of(f)}' is not in {tracks_csv}")
                continue
            if f.name in have:
                continue
            if row.name not in known:
                known[row.name] = Track(name=row.name, difficulty=row.difficulty, candidates=";".join(row.candidates))
                s.add(known[row.name])
                created.tracks += 1
            s.flush()
            ex = Excerpt(sample_id=f.name, path=str(f.resolve()), track_id=known[row.name].id)
            s.add(ex)
            s.flush()
            s.add_all(Pair(excerpt_id=ex.id, instrument=i, present=0, absent=0, closed=False) for i in row.candidates)
            have.add(f.name)
            created.excerpts += 1
            created.pairs += len(row.candidates)
    return created
