"""What a study trains on: encoders by name and a task's train, validation and test arrays.

An encoder is ``[LABEL=]FEATURE[:CHECKPOINT]`` (``mert=mert:/ckpt/MERT-v1-95M``, ``stats``). A
feature with hidden layers is extracted once with ``layer="all"`` (mean-pooled: ``(n, L, D)``) and
sliced per layer, so a layer sweep costs one extraction. Tasks:

- ``hamnava``: the official splits, soft labels (the protocols binarise as they need).
- ``nava``: each recording cut into back-to-back clips of ``seconds`` (persian-music-self-supervised.txt
  4.1), split 4:1:1 by recording (:func:`saz.datasets.splits.grouped_split`), one-hot labels.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from saz import datasets
from saz.datasets.base import Dataset
from saz.datasets.splits import grouped_split
from saz.features import FEATURES, feature_from_config
from saz.features.dataset import clip_seconds, dataset_features
from saz.labels import Vocabulary

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Encoder:
    """A named feature configuration."""

    label: str
    config: dict

    @property
    def layered(self) -> bool:
        return self.config.get("layer") == "all"


def parse_encoder(spec: str) -> Encoder:
    """``[LABEL=]FEATURE[:CHECKPOINT]`` as an :class:`Encoder`; KeyError for an unknown feature."""
    label, _, rest = spec.rpartition("=") if "=" in spec.split(":", 1)[0] else ("", "", spec)
    name, _, checkpoint = rest.partition(":")
    if name not in FEATURES:
        raise KeyError(f"{spec}: unknown feature '{name}' (available: {', '.join(sorted(FEATURES))})")
    fields = {f.name for f in dataclasses.fields(FEATURES[name])}
    config = {"feature": name}
    if checkpoint:
        if "checkpoint" not in fields:
            raise ValueError(f"{spec}: feature '{name}' takes no checkpoint")
        config["checkpoint"] = checkpoint
    if "layer" in fields:
        config |= {"layer": "all", "pooling": "mean"}
    return Encoder(label or name, config)


@dataclass
class Task:
    """Arrays of one task: ``X[split]`` (n, [L,] D), ``y[split]`` (n, classes); ``kind`` is
    ``single`` (one-hot, softmax) or ``multi`` (HamNava's soft labels)."""

    name: str
    kind: str
    vocab: Vocabulary
    X: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    ids: np.ndarray

    def layer(self, k: int | None) -> "Task":
        """The task on hidden layer ``k`` of a layered feature (None: the last)."""
        if self.X["train"].ndim != 3:
            return self
        pick = {s: x[:, -1 if k is None else k] for s, x in self.X.items()}
        return Task(self.name, self.kind, self.vocab, pick, self.y, self.ids)

    @property
    def n_layers(self) -> int:
        return self.X["train"].shape[1] if self.X["train"].ndim == 3 else 1


def segments(ds: Dataset, seconds: float) -> Dataset:
    """Every clip of ``ds`` cut into back-to-back windows of ``seconds`` (a shorter clip: one window)."""
    rows, idx = [], []
    for i, row in ds.clips.iterrows():
        n = max(1, int((clip_seconds(row) or 0.0) // seconds))
        for k in range(n):
            rows.append({**row.to_dict(), "clip_id": f"{row['clip_id']}#{k}", "offset": float(row["offset"] or 0) + k * seconds,
                         "duration": seconds})
            idx.append(i)
    sub = ds.subset(idx)
    return Dataset(ds.name, ds.root, pd.DataFrame(rows), sub.labels, list(ds.problems))


def _arrays(ds: Dataset, split_of: np.ndarray, encoder: Encoder, seconds: float, cache_dir: str | Path | None,
            progress: bool) -> tuple[dict, dict, np.ndarray]:
    feature = feature_from_config(encoder.config)
    X, y, ok, problems = dataset_features(ds, feature, seconds, cache_dir, progress)
    split_of = split_of[ok]
    ids = np.asarray(ds.ids, dtype=str)[ok][split_of == "test"]
    return ({s: X[split_of == s] for s in SPLITS}, {s: y[split_of == s] for s in SPLITS}, ids)


def load_task(root: str | Path, dataset: str, encoder: Encoder, seconds: float | None = None,
              label_column: str = "label", cache_dir: str | Path | None = None, progress: bool = False,
              split_seed: int = 0) -> Task:
    """The arrays of ``dataset`` (``hamnava`` or ``nava``) at ``root`` through ``encoder``."""
    if dataset == "hamnava":
        ds = datasets.load("hamnava", root)
        split_of = ds.clips["split"].to_numpy(dtype=str)
        X, y, ids = _arrays(ds, split_of, encoder, seconds or 5.0, cache_dir, progress)
        return Task("hamnava", "multi", ds.vocab, X, y, ids)
    if dataset == "nava":
        ds = segments(datasets.load("nava", root, label_column=label_column), seconds or 5.0)
        split_of = grouped_split(ds.y, ds.clips["recording"].to_numpy(dtype=str), seed=split_seed)
        X, y, ids = _arrays(ds, split_of, encoder, seconds or 5.0, cache_dir, progress)
        return Task(f"nava ({label_column})", "single", ds.vocab, X, y, ids)
    raise ValueError(f"unknown study dataset '{dataset}' (hamnava or nava)")
