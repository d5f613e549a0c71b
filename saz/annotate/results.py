"""What the judgments say: soft labels (the mean confidence) exported in HamNava's CSV format,
and the dashboard's numbers (progress, agreement Eq. 1, confidence factor Eq. 2, co-occurrence).

Eq. 1 (agreement of instrument I): over the excerpts with at least two annotations of I, the
mean over annotations a of the accuracy of the others' binarised annotations against a's.
Eq. 2 (confidence factor): the mean over excerpts of the mean over annotations of 2·|a − 0.5|.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from saz.annotate.db import DIFFICULTIES, Excerpt, Judgment, Pair, Track
from saz.datasets.hamnava import CLASSES, ID_COLUMN, SPLITS
from saz.datasets.splits import HAMNAVA_RATIOS, stratified_split
from saz.io import write_text


def raw_judgments(engine: Engine) -> pd.DataFrame:
    """One row per judgment: sample_id, track, difficulty, instrument, value, closed."""
    query = (select(Excerpt.sample_id, Excerpt.path, Track.name, Track.difficulty, Pair.instrument, Pair.closed,
                    Judgment.value, Judgment.annotator_id)
             .join(Pair, Pair.id == Judgment.pair_id).join(Excerpt, Excerpt.id == Pair.excerpt_id)
             .join(Track, Track.id == Excerpt.track_id).order_by(Judgment.id))
    with Session(engine) as s:
        rows = s.execute(query).all()
    return pd.DataFrame(rows, columns=["sample_id", "path", "track", "difficulty", "instrument", "closed", "value",
                                       "annotator_id"])


def soft_labels(judgments: pd.DataFrame, closed_only: bool = True) -> pd.DataFrame:
    """One row per excerpt whose pairs are all closed (or all judged, ``closed_only=False``):
    ``sample_id``, ``difficulty`` (0 easy, 1 hard), one column per class holding the mean
    confidence (0 for a class that is not a candidate of the track), ``track`` and ``path``."""
    if judgments.empty:
        return pd.DataFrame(columns=[ID_COLUMN, "difficulty", *CLASSES, "track", "path"])
    mean = judgments.groupby(["sample_id", "instrument"]).agg(value=("value", "mean"), closed=("closed", "all"))
    table = mean["value"].unstack("instrument")
    closed = mean["closed"].unstack("instrument")
    meta = judgments.drop_duplicates("sample_id").set_index("sample_id")
    keep = closed.fillna(True).all(axis=1) if closed_only else pd.Series(True, index=table.index)
    out = pd.DataFrame({ID_COLUMN: table.index, "difficulty": (meta.loc[table.index, "difficulty"] == "hard")
                        .astype(int).to_numpy()})
    for c in CLASSES:
        out[c] = table[c].fillna(0.0).to_numpy() if c in table else 0.0
    out["track"], out["path"] = meta.loc[table.index, "track"].to_numpy(), meta.loc[table.index, "path"].to_numpy()
    return out[keep.to_numpy()].sort_values(ID_COLUMN).reset_index(drop=True)


def export(engine: Engine, out: Path, seed: int = 0, closed_only: bool = True) -> dict[str, int]:
    """Write ``out/annotations/{train,validation,test}[_bin].csv`` (a stratified 70/15/15 split,
    a track's excerpts in one split) and copy the audio to ``out/audio``; rows per split."""
    labels = soft_labels(raw_judgments(engine), closed_only)
    if labels.empty:
        raise ValueError("nothing to export yet: no excerpt has all its pairs closed")
    labels["split"] = stratified_split(labels[list(CLASSES)].to_numpy(), HAMNAVA_RATIOS, SPLITS,
                                       groups=labels["track"].to_numpy(), seed=seed)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    for sid, path in zip(labels[ID_COLUMN], labels["path"]):
        if not (out / "audio" / sid).exists():
            shutil.copyfile(path, out / "audio" / sid)
    counts = {}
    for split in SPLITS:
        part = labels[labels["split"] == split][[ID_COLUMN, "difficulty", *CLASSES]]
        hard = part.copy()
        hard[list(CLASSES)] = (hard[list(CLASSES)] >= 0.5).astype(int)
        write_text(out / "annotations" / f"{split}.csv", part.to_csv(index=False, float_format="%.6g"))
        write_text(out / "annotations" / f"{split}_bin.csv", hard.to_csv(index=False))
        counts[split] = len(part)
    return counts


def _agreement(values: np.ndarray) -> float:
    """Eq. 1's inner term for one pair: mean over a of Acc(1[a] repeated, 1[others])."""
    hard = values >= 0.5
    n = len(hard)
    return float(np.mean([(np.delete(hard, i) == hard[i]).mean() for i in range(n)]))


def quality(judgments: pd.DataFrame, by: str) -> dict[str, dict[str, float]]:
    """Per value of ``by`` (``instrument`` or ``difficulty``): pairs, agreement (Eq. 1, over pairs
    with two or more annotations; None without one) and confidence factor (Eq. 2)."""
    out: dict[str, dict[str, float]] = {}
    for key, part in judgments.groupby(by):
        pairs = [g["value"].to_numpy() for _, g in part.groupby(["sample_id", "instrument"])]
        several = [v for v in pairs if len(v) >= 2]
        out[str(key)] = {"pairs": len(pairs),
                         "agreement": float(np.mean([_agreement(v) for v in several])) if several else None,
                         "confidence": float(np.mean([np.mean(2 * np.abs(v - 0.5)) for v in pairs]))}
    return out


def co_occurrence(labels: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Excerpts in which both instruments are present (soft label >= 0.5)."""
    hard = (labels[list(CLASSES)] >= 0.5).astype(int).to_numpy()
    m = hard.T @ hard
    return {a: {b: int(m[i, j]) for j, b in enumerate(CLASSES)} for i, a in enumerate(CLASSES)}


def dashboard(engine: Engine) -> dict:
    """The admin dashboard's numbers."""
    with Session(engine) as s:
        pairs = s.execute(select(Track.difficulty, Pair.closed).join(Excerpt, Excerpt.id == Pair.excerpt_id)
                          .join(Track, Track.id == Excerpt.track_id)).all()
    progress = defaultdict(lambda: {"pairs": 0, "closed": 0})
    for difficulty, closed in pairs:
        for key in (difficulty, "all"):
            progress[key]["pairs"] += 1
            progress[key]["closed"] += int(closed)
    j = raw_judgments(engine)
    return {"progress": {k: progress[k] for k in (*DIFFICULTIES, "all")}, "judgments": len(j),
            "by_instrument": quality(j, "instrument") if len(j) else {},
            "by_difficulty": quality(j, "difficulty") if len(j) else {},
            "co_occurrence": co_occurrence(soft_labels(j)) if len(j) else {}}
