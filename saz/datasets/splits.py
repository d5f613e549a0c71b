"""Multilabel iterative stratification with groups (the iterative-stratification package).

Clips of one group (a track, a recording, a song) always land in the same split, so no
recording leaks from training into evaluation. Groups are stratified on the union of their
clips' labels; the split is deterministic for a given seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

if TYPE_CHECKING:
    from saz.datasets.base import Dataset

HAMNAVA_RATIOS = (0.70, 0.15, 0.15)
MEDLEYDB_RATIOS = (0.60, 0.24, 0.16)


def _stratified_cut(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (rest, cut) with ``fraction`` of the rows in ``cut``."""
    n = len(y)
    n_cut = int(round(fraction * n))
    if n_cut <= 0:
        return np.arange(n), np.array([], dtype=np.int64)
    if n_cut >= n:
        return np.array([], dtype=np.int64), np.arange(n)
    splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=n_cut, random_state=seed)
    rest, cut = next(splitter.split(np.zeros((n, 1)), y))
    return np.sort(rest), np.sort(cut)


def stratified_split(
    y: np.ndarray,
    ratios: Sequence[float] = HAMNAVA_RATIOS,
    names: Sequence[str] = ("train", "validation", "test"),
    groups: Sequence | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Split name for every clip. ``ratios`` are normalised; labels binarised at 0.5, NaN as 0."""
    if len(ratios) != len(names):
        raise ValueError(f"{len(ratios)} ratios for {len(names)} split names")
    ratios = np.asarray(ratios, dtype=np.float64)
    if (ratios < 0).any() or ratios.sum() <= 0:
        raise ValueError(f"ratios must be non-negative and not all zero: {list(ratios)}")
    ratios = ratios / ratios.sum()
    hard = (np.nan_to_num(np.asarray(y, dtype=np.float64), nan=0.0) >= 0.5).astype(np.int64)
    if groups is None:
        groups = np.arange(len(hard))
    group_ids, inverse = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    group_y = np.zeros((len(group_ids), hard.shape[1]), dtype=np.int64)
    np.maximum.at(group_y, inverse, hard)

    assignment = np.empty(len(group_ids), dtype=object)
    remaining = np.arange(len(group_ids))
    left = 1.0
    for k in range(len(names) - 1, 0, -1):  # peel off the last splits first, train takes the rest
        frac = ratios[k] / left if left > 0 else 0.0
        rest, cut = _stratified_cut(group_y[remaining], min(frac, 1.0), seed + k)
        assignment[remaining[cut]] = names[k]
        remaining = remaining[rest]
        left -= ratios[k]
    assignment[remaining] = names[0]
    return assignment[inverse].astype(str)


def split_of(ds: "Dataset", split: str) -> "Dataset":
    """The clips of ``ds``'s split ``split``, or every clip for 'all'; KeyError naming the splits
    there are otherwise."""
    return ds if split == "all" else ds.subset(split)


def train_and_validation(ds: "Dataset", train: str = "train", validation: str = "validation", seed: int = 0,
                         fraction: float = 0.15) -> tuple["Dataset", "Dataset", bool]:
    """The ``train`` and ``validation`` splits of ``ds``; without a ``validation`` split, a
    stratified ``fraction`` of ``train`` cut from it (no clip in both, none left out). The flag
    says whether the validation clips were cut so."""
    tr = ds.subset(train)
    if validation in ds.splits:
        return tr, ds.subset(validation), False
    names = stratified_split(tr.y, (1 - fraction, fraction), ("train", "validation"), seed=seed)
    return tr.subset(np.flatnonzero(names == "train")), tr.subset(np.flatnonzero(names == "validation")), True


def grouped_split(y: np.ndarray, groups: Sequence, ratios: Sequence[float] = (4, 1, 1), seed: int = 0,
                  names: Sequence[str] = ("train", "validation", "test")) -> np.ndarray:
    """Split name for every clip of a single-label set, stratified by class and grouped so that no
    group (recording) is on two sides (sklearn ``StratifiedGroupKFold``: ``sum(ratios)`` folds,
    the last splits take ``ratios[k]`` folds each). Nava's 4:1:1 by default. A class with fewer
    clips than folds cannot be stratified: the folds are then grouped only (``GroupKFold``)."""
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    counts = [int(r) for r in ratios]
    n_groups = len(set(map(str, groups)))
    if n_groups < sum(counts):
        raise ValueError(f"{n_groups} recordings cannot make {sum(counts)} folds ({':'.join(map(str, counts))} split)")
    stratify = np.bincount(np.argmax(y, axis=1)).min() >= sum(counts)
    folds = (StratifiedGroupKFold if stratify else GroupKFold)(n_splits=sum(counts), shuffle=True, random_state=seed)
    fold_of = np.empty(len(y), dtype=np.int64)
    for k, (_, idx) in enumerate(folds.split(np.zeros(len(y)), np.argmax(y, axis=1), np.asarray(groups, dtype=str))):
        fold_of[idx] = k
    edges = np.cumsum(counts)
    return np.asarray(names, dtype=object)[np.searchsorted(edges, fold_of, side="right")].astype(str)
