"""CSV manifests: the format saz writes for generated data and users write for their own.

One row per clip with a ``path`` column (relative paths resolve against the manifest's
folder) and labels in either form:

* one column per class, hard (0/1) or soft ([0, 1]); an empty cell is unknown (NaN);
* one ``labels`` column of ``;``-separated class names (complete: unnamed classes are 0).

Optional columns: ``clip_id``, ``split``, ``offset``, ``duration`` (seconds), ``activity``
(a ``.npy`` of frame activity ``(frames, n_classes)``, relative to the manifest, with the
frame rate in ``frame_rate``); any other non-numeric column is kept as metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from saz.datasets.base import CLIP_COLUMNS, Dataset, DatasetError, clips_frame, register
from saz.labels import LabelSet, UnknownClassError, Vocabulary

RESERVED = set(CLIP_COLUMNS) | {"labels", "activity", "frame_rate"}


def _numeric_label_column(values: pd.Series) -> bool:
    """Most filled cells parse as numbers: a label column (bad cells become row problems)."""
    filled = values[values.str.strip() != ""]
    return len(filled) > 0 and pd.to_numeric(filled, errors="coerce").notna().mean() >= 0.5


def _manifest_path(root: Path, manifest: str | None) -> Path:
    if root.is_file():
        return root
    path = root / (manifest or "manifest.csv")
    if not path.exists():
        raise DatasetError(f"{root}: no manifest (expected {path.name} with a 'path' column)")
    return path


def _load_activity(rows: list[dict], base: Path, n_classes: int, problems: list[str]) -> tuple[np.ndarray | None, float | None]:
    """Stack per-clip activity files, padded with NaN to the longest; None when no row has one."""
    arrays: list[np.ndarray | None] = []
    rates = set()
    for r in rows:
        ref = r.pop("activity", "")
        rate = r.pop("frame_rate", "")
        if not ref:
            arrays.append(None)
            continue
        try:
            a = np.load(base / ref, allow_pickle=False).astype(np.float32)
            if a.ndim != 2 or a.shape[1] != n_classes:
                raise ValueError(f"shape {a.shape}, expected (frames, {n_classes})")
            arrays.append(a)
            rates.add(float(rate))
        except (OSError, ValueError) as e:
            problems.append(f"{base / ref}: unusable activity file ({e})")
            arrays.append(None)
    if all(a is None for a in arrays):
        return None, None
    if len(rates) > 1:
        problems.append(f"{base}: activity files have different frame rates {sorted(rates)}; activity dropped")
        return None, None
    n_frames = max(a.shape[0] for a in arrays if a is not None)
    out = np.full((len(rows), n_frames, n_classes), np.nan, dtype=np.float32)
    for i, a in enumerate(arrays):
        if a is not None:
            out[i, : a.shape[0]] = a
    return out, rates.pop()


def _label_space(df: pd.DataFrame, path: Path, classes: Sequence[str] | None) -> tuple[Vocabulary, list[str]]:
    """The manifest's vocabulary and its class columns (none for a ';'-separated ``labels`` column)."""
    if "labels" in df.columns:
        names = sorted({n.strip() for cell in df["labels"] for n in cell.split(";") if n.strip()})
        return (Vocabulary.from_names(classes) if classes is not None else Vocabulary.from_found(names)), []
    class_cols = list(classes) if classes is not None else [c for c in df.columns if c not in RESERVED and _numeric_label_column(df[c])]
    missing = [c for c in class_cols if c not in df.columns]
    if missing:
        raise DatasetError(f"{path}: class columns {missing} not in the header")
    if not class_cols:
        raise DatasetError(f"{path}: no label columns (need a 'labels' column or numeric class columns)")
    return Vocabulary.from_names(class_cols), class_cols


def _row_values(rec: dict[str, str], vocab: Vocabulary, class_cols: list[str]) -> tuple[np.ndarray, float, float]:
    """A row's labels, offset and duration (NaN: to the end); ValueError or UnknownClassError if malformed."""
    y = np.zeros(len(vocab), dtype=np.float32)
    if class_cols:
        for j, c in enumerate(class_cols):
            cell = rec[c].strip()
            y[j] = np.nan if cell == "" else float(cell)
            if not (np.isnan(y[j]) or 0 <= y[j] <= 1):
                raise ValueError(f"{c}={cell} outside [0, 1]")
    else:
        for n in (n.strip() for n in rec["labels"].split(";")):
            if n:
                y[vocab.index(n)] = 1.0
    offset = float(rec.get("offset") or 0.0)
    duration = float(rec["duration"]) if rec.get("duration") else np.nan
    return y, offset, duration


@register("csv", "a CSV manifest: path column + one column per class or a ';'-separated labels column")
def load_csv(
    root: Path,
    *,
    manifest: str | None = None,
    classes: Sequence[str] | None = None,
    check_audio: bool = True,
    activity: bool = True,
) -> Dataset:
    """Read a manifest (``root`` is the CSV file or its folder holding ``manifest.csv``);
    ``activity=False`` skips loading frame activity (it can be large)."""
    path = _manifest_path(root, manifest)
    base = path.parent
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise DatasetError(f"{path}: unreadable CSV ({str(e).splitlines()[0]})") from None
    df.columns = [c.strip() for c in df.columns]
    if "path" not in df.columns:
        raise DatasetError(f"{path}: no 'path' column (header: {', '.join(df.columns)})")
    problems: list[str] = []
    vocab, class_cols = _label_space(df, path, classes)
    rows, labels = [], []
    for line, rec in enumerate(df.to_dict("records"), start=2):
        audio = (base / rec["path"]).resolve() if rec["path"] else None
        if audio is None or (check_audio and not audio.exists()):
            problems.append(f"{path}:{line}: audio file not found ({audio})")
            continue
        try:
            y, offset, duration = _row_values(rec, vocab, class_cols)
        except (ValueError, UnknownClassError) as e:
            problems.append(f"{path}:{line}: malformed row ({e}); skipped")
            continue
        meta = {k: v for k, v in rec.items() if k not in RESERVED and k not in class_cols}
        rows.append({**meta, "clip_id": rec.get("clip_id") or rec["path"], "path": str(audio), "offset": offset,
                     "duration": duration, "split": rec.get("split") or None,
                     "activity": rec.get("activity", ""), "frame_rate": rec.get("frame_rate", "")})
        labels.append(y)
    if not rows:
        raise DatasetError(f"{path}: no usable rows ({len(problems)} problems, first: {problems[0] if problems else '-'})")
    frames, rate = _load_activity(rows, base, len(vocab), problems) if activity else (None, None)
    y = np.stack(labels)
    return Dataset("csv", base, clips_frame(rows), LabelSet(vocab, y, frames, rate), problems)
