"""Features of every clip of a dataset as one array, for training and evaluation.

Each clip (its file, or its ``offset``/``duration`` window) is decoded at the extractor's rate
and fitted to a fixed length (cropped around its centre, or padded with silence at the end)
so the clips stack into one ``(n_clips, ...)`` array. Clips are processed in blocks; each
block is cached as one ``.npz`` (:class:`saz.features.cache.FeatureCache`) keyed by the extractor, the length and the identity of every
file in it, so a rerun after an interruption computes only the missing blocks and an edited
file invalidates only its block. A clip that cannot be decoded gets NaN features and a
problem line naming the file; the rest of the dataset goes on.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from saz import audio
from saz.features.base import Feature, Precomputed
from saz.features.cache import FeatureCache, file_identity
from saz.progress import track

BLOCK = 256


class ClipSet(Protocol):
    """A clips table and its labels, as a :class:`saz.datasets.Dataset` holds them (features do not import datasets)."""

    clips: pd.DataFrame
    y: np.ndarray


@dataclass
class ClipFeatures:
    """``X`` (n_clips, ...) float32; ``ok`` marks clips that decoded; ``problems`` says why others did not."""

    X: np.ndarray
    ok: np.ndarray
    problems: list[str] = field(default_factory=list)


def fit_length(y: np.ndarray, n: int) -> np.ndarray:
    """Crop ``y`` around its centre to ``n`` samples, or pad it with zeros at the end."""
    if len(y) >= n:
        start = (len(y) - n) // 2
        return y[start:start + n]
    return np.pad(y, (0, n - len(y)))


def clip_seconds(row: pd.Series) -> float | None:
    """A clip's duration in seconds (from the table, else from its file's header); None if unreadable."""
    d = row["duration"]
    if pd.isna(d):
        try:
            d = audio.info(row["path"]).duration - float(row["offset"] or 0.0)
        except audio.AudioError:
            return None
    return float(d)


def typical_seconds(clips: pd.DataFrame) -> float:
    """The median clip duration (from the table, else from the files' headers)."""
    durations = [d for d in (clip_seconds(row) for _, row in clips.iterrows()) if d is not None]
    if not durations:
        raise ValueError("no clip of the dataset could be read to find its duration")
    return float(np.median(durations))


def read_clip(row: pd.Series, sr: int) -> np.ndarray | str:
    """A clip's whole audio (its file, or its ``offset``/``duration`` window) at ``sr``, or the problem."""
    duration = None if pd.isna(row["duration"]) else float(row["duration"])
    try:
        y, _ = audio.load(row["path"], sr=sr, offset=float(row["offset"] or 0.0), duration=duration)
    except audio.AudioError as e:
        return str(e)
    return y


def _load_clip(row: pd.Series, sr: int, n: int) -> np.ndarray | str:
    y = read_clip(row, sr)
    return y if isinstance(y, str) else fit_length(y, n)


def _block_key(feature: Feature, seconds: float, rows: pd.DataFrame) -> str:
    h = hashlib.sha256(f"{feature.key()}|{seconds}".encode())
    for _, r in rows.iterrows():
        try:
            ident = file_identity(r["path"], float(r["offset"] or 0.0), None if pd.isna(r["duration"]) else float(r["duration"]))
        except OSError:
            ident = f"missing:{r['path']}"
        h.update(ident.encode())
    return h.hexdigest()[:24]


def _read_precomputed(row: pd.Series, feature: Precomputed) -> np.ndarray | str:
    if pd.isna(row["path"]):
        return f"{row['clip_id']}: no audio file, so no {feature.name} features beside it"
    try:
        return feature.for_file(str(row["path"]))
    except (OSError, ValueError) as e:
        return str(e)


def _precomputed_block(rows: pd.DataFrame, feature: Precomputed) -> dict[str, np.ndarray]:
    """As :func:`_compute_block`, for a feature read from the dataset's files."""
    got = [_read_precomputed(r, feature) for _, r in rows.iterrows()]
    good = np.array([not isinstance(g, str) for g in got])
    X = np.stack([np.full(feature.shape, np.nan, np.float32) if isinstance(g, str) else g for g in got])
    return {"X": X, "ok": good, "problems": np.array([g for g in got if isinstance(g, str)], dtype=str)}


def _compute_block(rows: pd.DataFrame, feature: Feature, n_samples: int, pool: ThreadPoolExecutor) -> dict[str, np.ndarray]:
    """Features of a block of clips: ``X`` (NaN where a clip does not decode), ``ok`` and ``problems``."""
    if isinstance(feature, Precomputed):
        return _precomputed_block(rows, feature)
    loaded = list(pool.map(lambda r: _load_clip(r[1], feature.sr, n_samples), rows.iterrows()))
    good = np.array([not isinstance(y, str) for y in loaded])
    waves = np.stack([y if not isinstance(y, str) else np.zeros(n_samples, np.float32) for y in loaded])
    X = np.concatenate([feature(waves[i:i + 64]) for i in range(0, len(waves), 64)])
    X[~good] = np.nan
    return {"X": X, "ok": good, "problems": np.array([y for y in loaded if isinstance(y, str)], dtype=str)}


def clip_features(clips: pd.DataFrame, feature: Feature, seconds: float, cache_dir: str | Path | None = None,
                  use_cache: bool = True, progress: bool = True, workers: int = 4) -> ClipFeatures:
    """Features of every row of a clips table (see :class:`saz.datasets.Dataset`)."""
    n_samples = int(round(seconds * feature.sr))
    cache = FeatureCache(cache_dir) if use_cache and not isinstance(feature, Precomputed) else None
    if cache:
        cache.remove_leftovers(feature)
    blocks, ok, problems = [], [], []
    starts = range(0, len(clips), BLOCK)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in track(starts, f"features {feature.name}", total=len(starts), enabled=progress):
            rows = clips.iloc[start:start + BLOCK]
            key = _block_key(feature, seconds, rows)
            block = cache.get_block(feature, key, ("X", "ok", "problems")) if cache else None
            if block is None:
                block = _compute_block(rows, feature, n_samples, pool)
                if cache:
                    cache.put_block(feature, key, **block)
            blocks.append(block["X"])
            ok.append(block["ok"])
            problems += [str(p) for p in block["problems"]]
    if not blocks:
        raise ValueError("no clips to compute features for")
    return ClipFeatures(np.concatenate(blocks), np.concatenate(ok), problems)


def dataset_features(ds: ClipSet, feature: Feature, seconds: float, cache_dir: str | Path | None = None,
                     progress: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Features and labels of the clips of ``ds`` that decode, which those are (a mask over
    ``ds``), and one problem line for each of the others."""
    cf = clip_features(ds.clips, feature, seconds, cache_dir=cache_dir, progress=progress)
    return cf.X[cf.ok], ds.y[cf.ok], cf.ok, cf.problems
