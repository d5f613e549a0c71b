"""HamNava: five-second excerpts of Iranian classical music with soft (crowd-confidence) labels.

Layout as shipped (hamnava-dataset-paper.txt section 2; the official sample zip)::

    annotations/{train,validation,test}.csv        soft labels
    annotations/{train,validation,test}_bin.csv    the same, binarised at 0.5
    audio/<sample_id>                              sample_id includes ".mp3"

Header ``sample_id,difficulty,singer,tar,ney,setar,santour,kamancheh,tonbak,oud,daf``; the
paper's and README's spellings (``vocal``, ``santur``) and any column order are accepted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from saz.datasets.base import Dataset, DatasetError, clips_frame, register, require
from saz.labels import LabelSet, Vocabulary

CLASSES = ("singer", "tar", "ney", "setar", "santour", "kamancheh", "tonbak", "oud", "daf")
SPLITS = ("train", "validation", "test")
ID_COLUMN = "sample_id"
META_COLUMNS = ("difficulty",)
AUDIO_EXTENSIONS = (".mp3", ".wav", ".flac", ".ogg")


def vocabulary() -> Vocabulary:
    return Vocabulary.from_names(CLASSES)


def _read_split(csv: Path, split: str, vocab: Vocabulary, problems: list[str]) -> list[dict]:
    """Rows of one annotation file as dicts with labels under canonical class names."""
    try:
        df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        problems.append(f"{csv}: unreadable CSV ({str(e).splitlines()[0]})")
        return []
    columns = {c: c.strip() for c in df.columns}
    if ID_COLUMN not in columns.values():
        problems.append(f"{csv}: no '{ID_COLUMN}' column (header: {', '.join(df.columns)})")
        return []
    class_cols: dict[str, str] = {}
    for raw, name in columns.items():
        if name == ID_COLUMN or name in META_COLUMNS:
            continue
        canonical = vocab.resolve(name, strict=False)
        if canonical is None:
            problems.append(f"{csv}: unknown class column '{name}' ignored")
        else:
            class_cols[raw] = canonical
    for missing in sorted(set(vocab.names) - set(class_cols.values())):
        problems.append(f"{csv}: no column for class '{missing}' (labels unknown)")
    rows = []
    for line, rec in enumerate(df.to_dict("records"), start=2):
        sid = rec[next(r for r, n in columns.items() if n == ID_COLUMN)].strip()
        labels = {}
        try:
            for raw, name in class_cols.items():
                v = float(rec[raw])
                if not 0.0 <= v <= 1.0:
                    raise ValueError(f"{name}={v} outside [0, 1]")
                labels[name] = v
        except ValueError as e:
            problems.append(f"{csv}:{line}: malformed row for '{sid}' ({e}); skipped")
            continue
        if not sid:
            problems.append(f"{csv}:{line}: empty sample_id; skipped")
            continue
        meta = {m: rec[r] for r, m in columns.items() if m in META_COLUMNS}
        if "difficulty" in meta:
            meta["difficulty"] = pd.to_numeric(meta["difficulty"], errors="coerce")
        rows.append({"clip_id": sid, "split": split, "labels": labels, **meta})
    return rows


@register("hamnava", "HamNava Iranian classical music, 9 classes, soft labels (or *_bin hard labels)")
def load_hamnava(root: Path, *, labels: str = "soft") -> Dataset:
    """Read HamNava; ``labels="soft"`` reads ``<split>.csv``, ``"hard"`` reads ``<split>_bin.csv``."""
    if labels not in ("soft", "hard"):
        raise ValueError(f"labels must be 'soft' or 'hard', got '{labels}'")
    require(root, "annotations", "audio", what="HamNava")
    suffix = "" if labels == "soft" else "_bin"
    csvs = {s: root / "annotations" / f"{s}{suffix}.csv" for s in SPLITS}
    if not any(p.exists() for p in csvs.values()):
        raise DatasetError(f"{root}: no HamNava annotation files (expected annotations/train{suffix}.csv, ...)")
    vocab = vocabulary()
    problems: list[str] = []
    rows: list[dict] = []
    for split, csv in csvs.items():
        if csv.exists():
            rows += _read_split(csv, split, vocab, problems)
        else:
            problems.append(f"{csv}: split file missing")

    audio_dir = root / "audio"
    on_disk = {p.name for p in audio_dir.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS}
    seen: set[str] = set()
    kept: list[dict] = []
    for r in rows:
        sid = r["clip_id"]
        if sid in seen:
            problems.append(f"{sid}: labelled more than once; first row kept")
            continue
        seen.add(sid)
        if sid not in on_disk:
            problems.append(f"{audio_dir / sid}: labelled in {r['split']} but audio file not found")
            continue
        kept.append(r)
    for name in sorted(on_disk - seen):
        problems.append(f"{audio_dir / name}: audio file without a label row")

    y = np.full((len(kept), len(vocab)), np.nan, dtype=np.float32)
    for i, r in enumerate(kept):
        for name, v in r.pop("labels").items():
            y[i, vocab.index(name)] = v
        r["path"] = str(audio_dir / r["clip_id"])
    clips = clips_frame(kept) if kept else clips_frame([{"clip_id": None}]).iloc[:0]
    return Dataset("hamnava", root, clips, LabelSet(vocab, y), problems)
