"""Rare-class oversampling with the MedleyDB CNN report's augmentation (3.4, codes 3.4 and 3.5).

Every class with fewer positive training clips than the most frequent one gets new clips until it
has as many: each is a copy of one of its single-label clips, cut afresh from the clip's file at a
random offset where the (peak-normalised) signal is above ``min_amplitude`` (3.5), its spectrogram
then time-stretched by a factor in [0.5, 1.5] and pitch-shifted by up to +-12 semitones, each with
probability 0.75, by linear zooming along the time or frequency axis (3.4). A zoomed spectrogram is
cropped or padded back to its shape; the report does not say with what it pads, so padding is the
spectrogram's own minimum (silence), not 0 dB, which on a dB-relative-to-max scale is the loudest.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from scipy import ndimage

from saz import audio

STRETCH = (0.5, 1.5)
SEMITONES = 12.0
P_AUGMENT = 0.75


def fit_shape(s: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``s`` cropped or padded (with its minimum) to ``shape``, from its top-left corner."""
    out = np.full(shape, s.min() if s.size else 0.0, dtype=np.float32)
    rows, cols = min(shape[0], s.shape[0]), min(shape[1], s.shape[1])
    out[:rows, :cols] = s[:rows, :cols]
    return out


def augment(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The report's ``augmenter``: a time stretch, then a pitch shift, each with probability 0.75."""
    shape = s.shape
    if rng.random() < P_AUGMENT:
        s = fit_shape(ndimage.zoom(s, (1, rng.uniform(*STRETCH)), order=1), shape)
    if rng.random() < P_AUGMENT:
        s = fit_shape(ndimage.zoom(s, (2 ** (rng.uniform(-SEMITONES, SEMITONES) / 12), 1), order=1), shape)
    return np.asarray(s, dtype=np.float32)


def recut(y: np.ndarray, n: int, rng: np.random.Generator, min_amplitude: float) -> np.ndarray:
    """The report's ``reExtractWithOffSet``: ``n`` samples of the peak-normalised ``y`` from a random
    sample above ``min_amplitude`` that leaves ``n`` after it (the start without one), tiled if short."""
    peak = float(np.abs(y).max()) if len(y) else 0.0
    y = y / peak if peak > 0 else y
    loud = np.flatnonzero(np.abs(y) > min_amplitude)
    loud = loud[loud <= len(y) - n]
    start = int(rng.choice(loud)) if len(loud) else 0
    cut = y[start:start + n]
    return np.tile(cut, n // len(cut) + 1)[:n] if 0 < len(cut) < n else cut


def class_counts(y: np.ndarray, names: list[str]) -> dict[str, int]:
    """Positive clips per class (labels at or above 0.5; unknown as absent)."""
    pos = np.nan_to_num(np.asarray(y, np.float64), nan=0.0) >= 0.5
    return {n: int(pos[:, j].sum()) for j, n in enumerate(names)}


def oversample(X: np.ndarray, y: np.ndarray, clips: pd.DataFrame, feature: Callable[[np.ndarray], np.ndarray],
               sr: int, seconds: float, seed: int = 0, min_amplitude: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` with augmented copies of single-label clips appended until every class that has
    one reaches the count of the most frequent class. ``clips`` (one row per row of ``X``, with its
    ``path``) gives the files to re-cut; ``feature`` turns a waveform at ``sr`` into a row of ``X``."""
    if X.ndim != 3:
        raise ValueError(f"oversampling augments spectrograms (n, bins, frames); this feature gives {X.shape[1:]}")
    rng = np.random.default_rng(seed)
    hard = np.nan_to_num(np.asarray(y, np.float64), nan=0.0) >= 0.5
    counts = hard.sum(axis=0)
    single = hard.sum(axis=1) == 1
    n, cache = int(round(seconds * sr)), {}
    new_x, new_y = [], []
    for c in np.argsort(counts, kind="stable"):
        pool = np.flatnonzero(single & hard[:, c])
        for _ in range(int(counts.max() - counts[c]) if len(pool) else 0):
            i = int(rng.choice(pool))
            path = clips["path"].iloc[i]
            if path not in cache:
                try:
                    cache[path] = audio.load(path, sr=sr)[0]
                except audio.AudioError:
                    cache[path] = None
            s = X[i] if cache[path] is None else feature(recut(cache[path], n, rng, min_amplitude))
            new_x.append(augment(np.asarray(s, np.float32), rng))
            new_y.append(y[i])
    if not new_x:
        return X, y
    return np.concatenate([X, np.stack(new_x)]), np.concatenate([y, np.stack(new_y)]).astype(np.float32)
