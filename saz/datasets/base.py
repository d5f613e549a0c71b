"""The dataset interface every reader returns, and the registry that finds readers by name.

A reader is one module in :mod:`saz.datasets` with a function decorated by
``@register("name")`` that takes the dataset root (and options) and returns a
:class:`Dataset`. Problems inside a dataset (a label row without audio, audio without labels,
an unknown class, a malformed row, an unreadable file) are collected in
``Dataset.problems``, one line each, and never stop the reader; a root that is not the dataset
at all raises :class:`DatasetError` at once, saying what was expected there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from saz.labels import LabelKind, LabelSet, Vocabulary

CLIP_COLUMNS = ("clip_id", "path", "offset", "duration", "split")

Reader = Callable[..., "Dataset"]
DATASETS: dict[str, Reader] = {}
DESCRIPTIONS: dict[str, str] = {}


class DatasetError(Exception):
    """The root given is not the dataset (or cannot be read at all)."""


def register(name: str, description: str = "") -> Callable[[Reader], Reader]:
    """Decorator: make a reader available as ``saz.datasets.load(name, root)``."""

    def wrap(fn: Reader) -> Reader:
        DATASETS[name] = fn
        DESCRIPTIONS[name] = description or (fn.__doc__ or "").strip().splitlines()[0]
        return fn

    return wrap


def load(name: str, root: str | os.PathLike, **options) -> "Dataset":
    """Read dataset ``name`` from ``root`` with reader-specific ``options``."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset '{name}' (available: {', '.join(sorted(DATASETS))})")
    root = Path(root).resolve()
    if not root.exists():
        raise DatasetError(f"{root}: does not exist (expected the root of a {name} dataset)")
    return DATASETS[name](root, **options)


def require(root: Path, *relative: str, what: str) -> None:
    """Fail at once unless every ``relative`` path exists under ``root``."""
    missing = [r for r in relative if not (root / r).exists()]
    if missing:
        raise DatasetError(f"{root}: not a {what} root (expected {', '.join(relative)}; missing {', '.join(missing)})")


@dataclass
class Dataset:
    """Clips, their labels and metadata, the official splits, and the problems found.

    ``clips`` has one row per clip with at least :data:`CLIP_COLUMNS` (``path`` is absolute;
    ``offset``/``duration`` in seconds, ``duration`` NaN for the whole file; ``split`` is the
    official split or None) and any metadata columns the dataset provides.
    """

    name: str
    root: Path
    clips: pd.DataFrame
    labels: LabelSet
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        missing = [c for c in CLIP_COLUMNS if c not in self.clips.columns]
        if missing:
            raise ValueError(f"clips table lacks columns {missing}")
        if len(self.clips) != self.labels.y.shape[0]:
            raise ValueError(f"{len(self.clips)} clips but {self.labels.y.shape[0]} label rows")
        self.clips = self.clips.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def vocab(self) -> Vocabulary:
        return self.labels.vocab

    @property
    def y(self) -> np.ndarray:
        return self.labels.y

    @property
    def kind(self) -> LabelKind:
        return self.labels.kind

    @property
    def ids(self) -> list[str]:
        return self.clips["clip_id"].tolist()

    @property
    def splits(self) -> dict[str, np.ndarray]:
        """Official splits as clip indices (empty when the dataset defines none)."""
        s = self.clips["split"]
        return {str(k): np.flatnonzero((s == k).to_numpy()) for k in pd.unique(s.dropna())}

    def subset(self, idx: Sequence[int] | np.ndarray | str) -> "Dataset":
        """The clips at ``idx``, or of the split named ``idx``."""
        if isinstance(idx, str):
            if idx not in self.splits:
                raise KeyError(f"{self.name} has no split '{idx}' (splits: {', '.join(self.splits) or 'none'})")
            idx = self.splits[idx]
        idx = np.asarray(idx, dtype=np.int64)
        return Dataset(self.name, self.root, self.clips.iloc[idx].copy(), self.labels.subset(idx), list(self.problems))

    def with_audio(self) -> tuple["Dataset", list[str]]:
        """The clips that have an audio file listed, and the ids of those that do not (a
        partition or label file may name a clip whose audio is missing, as OpenMIC's fixture does)."""
        has = self.clips["path"].map(lambda p: isinstance(p, (str, os.PathLike)) and str(p) != "").to_numpy(bool)
        if has.all():
            return self, []
        return self.subset(np.flatnonzero(has)), self.clips.loc[~has, "clip_id"].astype(str).tolist()

    def summary(self) -> dict:
        """Counts for ``saz datasets info``: per split, per class, labels per clip, problems."""
        y = self.y
        known = ~np.isnan(y)
        pos = np.nan_to_num(y, nan=0.0) >= 0.5
        per_clip = pos.sum(axis=1)
        return {
            "dataset": self.name,
            "root": str(self.root),
            "clips": len(self),
            "kind": self.kind.value,
            "classes": len(self.vocab),
            "per_split": {k: int(len(v)) for k, v in self.splits.items()},
            "per_class": {n: int(pos[:, j].sum()) for j, n in enumerate(self.vocab.names)},
            "known_per_class": {n: int(known[:, j].sum()) for j, n in enumerate(self.vocab.names)},
            "labels_per_clip": {int(k): int((per_clip == k).sum()) for k in np.unique(per_clip)},
            "frame_activity": self.labels.activity is not None,
            "problems": list(self.problems),
        }


def clips_frame(rows: list[dict]) -> pd.DataFrame:
    """A clips table from dict rows, with the standard columns first and defaults filled."""
    df = pd.DataFrame(rows)
    for col, default in (("clip_id", None), ("path", None), ("offset", 0.0), ("duration", np.nan), ("split", None)):
        if col not in df.columns:
            df[col] = default
    rest = [c for c in df.columns if c not in CLIP_COLUMNS]
    return df[list(CLIP_COLUMNS) + rest]
