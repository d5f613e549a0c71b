"""Single-instrument sample libraries: one folder per instrument, TinySOL, Medley-solos-DB.

Formats (``format="auto"`` tells them apart):

* ``folders``: ``<root>/<instrument>/<audio files, any depth>``, optionally with one level
  of category folders above (``<root>/<category>/<instrument>/...``, e.g. the
  Hornbostel-Sachs families of cultural-instruments-polyphonic-detection.txt, or the sources
  of ``../shared/samples``). Each file is one recording; its category is kept so whole
  categories or sources can be held out.
* ``tinysol``: ``annotation/TinySOL_metadata.csv`` + ``audio/<Path>``.
* ``medley_solos_db``: ``annotation/Medley-solos-DB_metadata.csv`` +
  ``audio/Medley-solos-DB_<subset>-<instrument_id>_<uuid4>.wav``.

Labels are single-label and complete (one 1 per row, the rest 0). ``class_map`` renames
instruments (e.g. ``{"double bass": "bass"}``); with ``vocab`` given, instruments outside it
are reported once each and left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from saz.audio import AUDIO_EXTENSIONS
from saz.datasets.base import Dataset, DatasetError, clips_frame, register
from saz.labels import LabelSet, Vocabulary, names_to_matrix, normalise_name

TINYSOL_CSV = "annotation/TinySOL_metadata.csv"
MSDB_CSV = "annotation/Medley-solos-DB_metadata.csv"


def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def _has_direct_audio(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS for p in folder.iterdir())


def detect_format(root: Path) -> str:
    if (root / TINYSOL_CSV).exists():
        return "tinysol"
    if (root / MSDB_CSV).exists():
        return "medley_solos_db"
    if any(p.is_dir() for p in root.iterdir()):
        return "folders"
    raise DatasetError(f"{root}: not a sample library (expected <instrument>/<audio> folders, "
                       f"{TINYSOL_CSV} or {MSDB_CSV})")


def _folder_rows(root: Path, problems: list[str]) -> list[dict]:
    """Rows from instrument folders, with an optional category level above them."""
    rows = []
    for top in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        subdirs = [d for d in sorted(top.iterdir()) if d.is_dir() and not d.name.startswith(".")]
        nested = bool(subdirs) and not _has_direct_audio(top)
        groups = [(top.name, d) for d in subdirs] if nested else [(None, top)]
        for category, inst_dir in groups:
            files = _audio_files(inst_dir)
            if not files:
                problems.append(f"{inst_dir}: instrument folder without audio files")
            for f in files:
                rel = f.relative_to(root)
                rows.append({"clip_id": str(rel), "path": str(f), "instrument": inst_dir.name,
                             "category": category, "recording": str(rel.with_suffix(""))})
    return rows


def _tinysol_rows(root: Path, problems: list[str]) -> list[dict]:
    df = pd.read_csv(root / TINYSOL_CSV, dtype=str, keep_default_na=False)
    rows = []
    for rec in df.to_dict("records"):
        p = root / "audio" / rec["Path"]
        if not p.exists():
            problems.append(f"{p}: listed in {TINYSOL_CSV} but audio file not found")
            continue
        rows.append({
            "clip_id": rec["Path"], "path": str(p), "instrument": rec["Instrument (in full)"],
            "category": rec["Family"], "recording": rec["Path"], "technique": rec["Technique (in full)"],
            "pitch": rec["Pitch"], "dynamics": rec["Dynamics"], "fold": int(rec["Fold"]) if rec["Fold"] else None,
        })
    return rows


def _msdb_rows(root: Path, problems: list[str]) -> list[dict]:
    df = pd.read_csv(root / MSDB_CSV, dtype=str, keep_default_na=False)
    rows = []
    for rec in df.to_dict("records"):
        name = f"Medley-solos-DB_{rec['subset']}-{rec['instrument_id']}_{rec['uuid4']}.wav"
        p = root / "audio" / name
        if not p.exists():
            problems.append(f"{p}: listed in {MSDB_CSV} but audio file not found")
            continue
        rows.append({
            "clip_id": rec["uuid4"], "path": str(p), "instrument": rec["instrument"], "split": rec["subset"],
            "recording": f"song{rec['song_id']}", "song_id": int(rec["song_id"]), "category": None,
        })
    return rows


@register("samples", "single-instrument sample libraries: instrument folders, TinySOL, Medley-solos-DB")
def load_samples(
    root: Path,
    *,
    format: str = "auto",
    class_map: Mapping[str, str] | None = None,
    vocab: Sequence[str] | Vocabulary | None = None,
) -> Dataset:
    """Read a sample library; every clip is one recording of one instrument."""
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder (expected a sample library)")
    fmt = detect_format(root) if format == "auto" else format
    readers = {"folders": _folder_rows, "tinysol": _tinysol_rows, "medley_solos_db": _msdb_rows}
    if fmt not in readers:
        raise ValueError(f"unknown sample-library format '{fmt}' (one of: auto, {', '.join(readers)})")
    problems: list[str] = []
    rows = readers[fmt](root, problems)
    mapping = {normalise_name(k): normalise_name(v) for k, v in (class_map or {}).items()}
    for r in rows:
        r["class"] = mapping.get(normalise_name(r["instrument"]), normalise_name(r["instrument"]))
    if vocab is None:
        vocabulary = Vocabulary.from_names(sorted({r["class"] for r in rows}))
    else:
        vocabulary = vocab if isinstance(vocab, Vocabulary) else Vocabulary.from_names(vocab)
        outside = sorted({r["instrument"] for r in rows if r["class"] not in vocabulary})
        problems += [f"{root}: instrument '{n}' is not in the vocabulary; its files are left out" for n in outside]
        rows = [r for r in rows if r["class"] in vocabulary]
    for r in rows:
        r["class"] = vocabulary.resolve(r["class"])
    if not rows:
        raise DatasetError(f"{root}: no audio found in the {fmt} layout")
    y = names_to_matrix([[r["class"]] for r in rows], vocabulary)
    return Dataset("samples", root, clips_frame(rows), LabelSet(vocabulary, y), problems)
