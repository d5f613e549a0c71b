"""Mixing stems into a clip, and labels from what is actually audible in it.

Both generators end here: per-class stems are scaled by random gains, summed, normalised to a
random peak below full scale (never clipped), and each class is labelled present only where
its own stem, at its level in the final mix, is above an audibility threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTIVITY_HOP = 512  # samples per activity frame (the log-mel hop at 22.05 kHz)


@dataclass(frozen=True)
class MixConfig:
    """Audibility and level settings shared by both generators."""

    gain_db: tuple[float, float] = (-12.0, 0.0)  # random gain of each stem, relative to the others
    peak_db: tuple[float, float] = (-6.0, -1.0)  # random peak level of the final mix (dBFS)
    level_db: float = -50.0  # a frame is audible when the stem's RMS reaches this (dBFS)...
    masking_db: float = 30.0  # ...and lies within this many dB of the mix's RMS in that frame
    min_duration: float = 0.25  # seconds of audible frames for a class to count as present


def frame_rms_db(y: np.ndarray, hop: int = ACTIVITY_HOP) -> np.ndarray:
    """RMS per non-overlapping frame of ``hop`` samples, in dBFS (-inf for silence)."""
    n = int(np.ceil(len(y) / hop))
    padded = np.zeros(n * hop, dtype=np.float64)
    padded[: len(y)] = y
    rms = np.sqrt((padded.reshape(n, hop) ** 2).mean(axis=1))
    with np.errstate(divide="ignore"):
        return 20 * np.log10(rms)


def active_rms(y: np.ndarray, hop: int = ACTIVITY_HOP, floor_db: float = -60.0) -> float:
    """RMS over the frames where the signal sounds (within ``floor_db`` of its loudest frame)."""
    db = frame_rms_db(y, hop)
    if not np.isfinite(db).any():
        return 0.0
    loud = db >= db.max() + floor_db
    return float(10 ** (db[loud] / 20).mean()) if loud.any() else 0.0


def mix(stems: dict[str, np.ndarray], rng: np.random.Generator, cfg: MixConfig = MixConfig()
        ) -> tuple[np.ndarray, dict[str, float]]:
    """Sum ``stems`` (class -> mono, equal length) at random relative gains; peak-normalised.

    Each stem is first brought to the same active RMS so that the gain range means what it
    says whatever the preset's loudness. Returns the mix and each stem's final linear scale.
    """
    names = sorted(stems)
    n = max(len(s) for s in stems.values())
    total = np.zeros(n, dtype=np.float64)
    scales: dict[str, float] = {}
    for name in names:
        s = stems[name]
        ref = active_rms(s)
        g = 0.0 if ref == 0 else 10 ** (rng.uniform(*cfg.gain_db) / 20) * 0.1 / ref
        scales[name] = g
        total[: len(s)] += g * s
    peak = np.abs(total).max()
    target = 10 ** (rng.uniform(*cfg.peak_db) / 20)
    norm = target / peak if peak > 0 else 1.0
    scales = {k: v * norm for k, v in scales.items()}
    out = (total * norm).astype(np.float32)
    np.clip(out, -1.0, 1.0, out=out)  # float rounding only; the peak is already below 0 dBFS
    return out, scales


def activity(stems: dict[str, np.ndarray], scales: dict[str, float], mixture: np.ndarray,
             classes: list[str], cfg: MixConfig = MixConfig(), sr: int = 22050,
             hop: int = ACTIVITY_HOP) -> tuple[np.ndarray, np.ndarray]:
    """Frame activity ``(frames, n_classes)`` (0/1) and clip labels ``(n_classes,)`` (0/1).

    Stems whose name is not a class (distractors: real sounds outside the vocabulary) are
    part of the mix but never labelled.
    """
    mix_db = frame_rms_db(mixture, hop)
    act = np.zeros((len(mix_db), len(classes)), dtype=np.float32)
    for name, s in stems.items():
        if name not in classes:
            continue
        j = classes.index(name)
        db = frame_rms_db(scales[name] * s.astype(np.float64), hop)[: len(mix_db)]
        audible = (db >= cfg.level_db) & (db >= mix_db[: len(db)] - cfg.masking_db)
        act[: len(db), j] = np.maximum(act[: len(db), j], audible)
    present = (act.sum(axis=0) * hop / sr >= cfg.min_duration).astype(np.float32)
    act[:, present == 0] = 0.0
    return act, present
