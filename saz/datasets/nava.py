"""Nava-style single-label recordings: Dastgah, artist or solo-instrument classification.

persian-music-self-supervised.txt 2.1: Nava holds 1786 solo pieces, each tagged with its
instrument, Dastgah and artist. Two layouts are read:

* a folder per class: ``ROOT/<class>/<recording>.wav`` (any depth below the class folder);
* a CSV ``ROOT/labels.csv`` (or the CSV given as ROOT) with ``path`` and a label column
  (``label`` by default, ``label_column=dastgah`` for another) and optionally ``recording``
  (clips of one recording share it; by default each file is its own recording).

Labels are one-hot (one class per clip). ``recording`` is kept as a column, so splits can be
grouped by it (:func:`saz.datasets.splits.grouped_split`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from saz.datasets.base import Dataset, DatasetError, clips_frame, register
from saz.labels import LabelSet, Vocabulary

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".m4a")


def _folder_rows(root: Path) -> list[dict]:
    rows = []
    for cls in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(p for p in cls.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS):
            rel = f.relative_to(root).as_posix()
            rows.append({"clip_id": rel, "path": str(f), "label": cls.name, "recording": rel})
    return rows


def _csv_rows(csv: Path, label_column: str, problems: list[str]) -> list[dict]:
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    missing = [c for c in ("path", label_column) if c not in df.columns]
    if missing:
        raise DatasetError(f"{csv}: no column {', '.join(missing)} (header: {', '.join(df.columns)})")
    rows = []
    for line, rec in enumerate(df.to_dict("records"), start=2):
        path = (csv.parent / rec["path"]).resolve()
        if not rec[label_column].strip():
            problems.append(f"{csv}:{line}: no {label_column}; skipped")
        elif not path.exists():
            problems.append(f"{csv}:{line}: {path} not found; skipped")
        else:
            rows.append({"clip_id": rec["path"], "path": str(path), "label": rec[label_column].strip(),
                         "recording": rec.get("recording", "").strip() or rec["path"]})
    return rows


@register("nava", "Nava-style single-label recordings (a folder per class, or labels.csv: path, label, recording)")
def load_nava(root: Path, *, label_column: str = "label") -> Dataset:
    """Read a folder-per-class tree, or a CSV of ``path``, ``label_column`` and ``recording``."""
    problems: list[str] = []
    csv = root if root.is_file() else root / "labels.csv"
    rows = _csv_rows(csv, label_column, problems) if csv.exists() else _folder_rows(root)
    if not rows:
        raise DatasetError(f"{root}: no labelled recordings (expected <class>/<audio files> or labels.csv)")
    vocab = Vocabulary.from_names(sorted({r["label"] for r in rows}), aliases={})
    y = np.zeros((len(rows), len(vocab)), np.float32)
    for i, r in enumerate(rows):
        y[i, vocab.index(r["label"])] = 1.0
    return Dataset("nava", root, clips_frame(rows), LabelSet(vocab, y), problems)
