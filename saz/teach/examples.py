"""The user's examples: which recordings name which instrument, cut into windows and mixed into ensembles.

EXAMPLES is a folder of ``<instrument>/<recordings>`` (each audio file under an instrument's folder,
at any depth, is one recording) or a CSV of ``path, instrument[, recording]`` (paths relative to the
CSV; rows of one ``recording`` are parts of one recording). Each recording is cut into windows of
the base model's clip length; each window is also mixed (:func:`saz.synth.mix.mix`, random relative
levels) with windows of other instruments' recordings and of the negatives, labelled by what is
audible in the mix, so a taught instrument is found in an ensemble and not only alone; and each
window is played a little faster and slower (:func:`varied_items`), so that a head taught from one
recording learns the instrument rather than that recording's tuning and tempo.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from saz import audio
from saz.synth.acoustics import AcousticsConfig, master, place
from saz.synth.mix import activity, mix

NEGATIVE = ""  # the instrument of a negative recording: none of the taught classes
MAX_WINDOWS = 24  # windows kept per recording (evenly spaced): a long recording does not swamp short ones
MAX_NEGATIVE_FILES = 200


class TeachError(Exception):
    """Examples that cannot teach anything (the message names the file or folder and the problem)."""


@dataclass
class Items:
    """Training items: waveforms ``(n, samples)``, labels ``(n, classes)``, the recording each
    comes from (``primary``), every recording heard in it (``parts``) and whether it is a mixture."""

    waves: np.ndarray
    labels: np.ndarray
    primary: list[str]
    parts: list[frozenset[str]]
    mixed: np.ndarray


def read_examples(source: str | os.PathLike) -> pd.DataFrame:
    """The examples ``source`` names as rows of ``path, instrument, recording``; TeachError when it names none."""
    p = Path(source)
    if p.is_dir():
        rows = [(str(f), d.name, str(f.relative_to(p))) for d in sorted(p.iterdir()) if d.is_dir()
                for f in audio.scan(d).files]
    elif p.is_file() and p.suffix.lower() == ".csv":
        rows = _csv_rows(p)
    else:
        raise TeachError(f"{p}: expected a folder of <instrument>/<recordings> or a CSV of path, instrument[, recording]")
    if not rows:
        raise TeachError(f"{p}: no recordings found (expected a folder per instrument holding its recordings)")
    return pd.DataFrame(rows, columns=["path", "instrument", "recording"])


def _csv_rows(p: Path) -> list[tuple[str, str, str]]:
    """Rows of the CSV ``p`` (paths relative to it); TeachError without the columns path and instrument."""
    table = pd.read_csv(p, dtype=str).fillna("")
    if not {"path", "instrument"} <= set(table.columns):
        raise TeachError(f"{p}: a CSV of examples needs the columns path and instrument (it has {', '.join(table.columns)})")
    paths = [str((p.parent / f).resolve()) if not os.path.isabs(f) else f for f in table["path"]]
    recordings = table["recording"] if "recording" in table else paths
    return [(f, n, r or f) for f, n, r in zip(paths, table["instrument"], recordings) if f and n.strip()]


def negative_examples(folder: str | os.PathLike, seed: int = 0) -> pd.DataFrame:
    """Recordings of none of the taught instruments (any audio under ``folder``, at most
    :data:`MAX_NEGATIVE_FILES` chosen at random), as example rows; TeachError when there is none."""
    files = audio.scan(folder).files if Path(folder).is_dir() else []
    if not files:
        raise TeachError(f"{folder}: no audio files to use as negatives")
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(files), min(len(files), MAX_NEGATIVE_FILES), replace=False))
    return pd.DataFrame([(str(files[i]), NEGATIVE, f"negative:{files[i]}") for i in chosen],
                        columns=["path", "instrument", "recording"])


def windows(y: np.ndarray, n: int, most: int = MAX_WINDOWS) -> np.ndarray:
    """Windows of ``n`` samples of ``y`` (hop n/2), at most ``most`` evenly spaced ones, silent windows
    dropped (all of them if every one is silent). A short recording (a note) is repeated to fill
    one window, like a phrase of its notes: padded with silence, the embedding would average the silence in."""
    if len(y) <= n:
        return np.resize(y, n)[None] if len(y) else np.zeros((1, n), np.float32)
    starts = np.arange(0, len(y) - n + 1, n // 2)
    cut = np.stack([y[s:s + n] for s in starts[np.linspace(0, len(starts) - 1, min(most, len(starts))).astype(int)]])
    loud = np.array([not audio.is_silent(w) for w in cut])
    return cut[loud] if loud.any() else cut


def solo_items(examples: pd.DataFrame, classes: list[str], sr: int, seconds: float,
               on_skip: Callable[[str], None]) -> Items:
    """Windows of every readable recording of ``examples``, labelled by its instrument (a column of
    ``classes``; none for a negative); an unreadable file is reported by ``on_skip`` and left out."""
    waves, labels, primary = [], [], []
    n = int(round(seconds * sr))
    for row in examples.itertuples():
        try:
            y, _ = audio.load(row.path, sr=sr)
        except (audio.AudioError, OSError, ValueError) as e:
            on_skip(f"{row.path}: {e}" if str(row.path) not in str(e) else str(e))
            continue
        cut = windows(y, n)
        label = np.zeros(len(classes), np.float32)
        if row.instrument != NEGATIVE:
            label[classes.index(row.instrument)] = 1.0
        waves.append(cut)
        labels += [label] * len(cut)
        primary += [row.recording] * len(cut)
    if not waves:
        raise TeachError("none of the example recordings could be read")
    return Items(np.concatenate(waves), np.stack(labels), primary, [frozenset([r]) for r in primary],
                 np.zeros(len(primary), bool))


def varied_items(solo: Items, seed: int, per_window: int, semitones: float, sr: int) -> Items:
    """``per_window`` tape-speed variations of each positive window of ``solo``: played faster or
    slower by up to ``semitones`` (pitch and tempo together, as a different tuning, player or
    tape would), cut or repeated back to the window's length. Each stays a solo window of its
    recording, so cross-validation keeps it with the original."""
    rng = np.random.default_rng(seed)
    n = solo.waves.shape[1]
    chosen = np.flatnonzero(solo.labels.sum(1) > 0).repeat(per_window)
    waves = [np.resize(audio.resample(solo.waves[i], int(round(sr * 2 ** (rng.uniform(-semitones, semitones) / 12))), sr), n)
             for i in chosen]
    primary = [solo.primary[i] for i in chosen]
    return Items(np.stack(waves) if waves else solo.waves[:0], solo.labels[chosen], primary,
                 [frozenset([r]) for r in primary], np.zeros(len(chosen), bool))


def mixed_items(solo: Items, classes: list[str], seed: int, per_window: int = 1,
                acoustics: AcousticsConfig | None = None, sr: int = 22050) -> Items:
    """Each positive window of ``solo`` mixed ``per_window`` times with one or two windows of other
    instruments' recordings or negatives, at random levels; labels say which taught classes are
    audible. With ``acoustics``, the stems are placed in a room and the labelled mix is mastered as
    a record (:mod:`saz.synth.acoustics`: reverb, EQ, noise, codecs, level)."""
    rng = np.random.default_rng(seed)
    who = solo.labels.argmax(1) + (solo.labels.sum(1) > 0) - 1  # class index, -1 for a negative
    waves, labels, primary, parts = [], [], [], []
    for i in np.flatnonzero(who >= 0).repeat(per_window):
        others = np.flatnonzero(who != who[i])
        if not len(others):
            continue
        chosen = _distinct(rng, others, who, int(rng.integers(1, 3)))
        stems = {classes[who[i]]: solo.waves[i]} | {_stem(classes, who[j], k): solo.waves[j] for k, j in enumerate(chosen)}
        if acoustics is not None:
            stems = place(stems, sr, rng, acoustics)
        y, scales = mix(stems, rng)
        labels.append(activity(stems, scales, y, classes, sr=sr)[1])  # before mastering, as saz.synth.render labels
        waves.append(master(y, sr, rng, acoustics) if acoustics is not None else y)
        primary.append(solo.primary[i])
        parts.append(frozenset([solo.primary[i], *(solo.primary[j] for j in chosen)]))
    if not waves:
        return Items(solo.waves[:0], solo.labels[:0], [], [], np.zeros(0, bool))
    return Items(np.stack(waves), np.stack(labels), primary, parts, np.ones(len(waves), bool))


def _distinct(rng: np.random.Generator, candidates: np.ndarray, who: np.ndarray, k: int) -> list[int]:
    """Up to ``k`` windows of ``candidates``, no two of one taught class (negatives may repeat)."""
    out: list[int] = []
    for j in rng.permutation(candidates):
        if who[j] < 0 or all(who[j] != who[o] for o in out):
            out.append(int(j))
        if len(out) == k:
            break
    return out


def _stem(classes: list[str], c: int, k: int) -> str:
    """A background stem's name: its class (so the mix labels it) or, for a negative, a name no class has."""
    return classes[c] if c >= 0 else f"negative {k}"


def join(*parts: Items) -> Items:
    """All items of ``parts``, in order."""
    return Items(np.concatenate([p.waves for p in parts]), np.concatenate([p.labels for p in parts]),
                 [r for p in parts for r in p.primary], [s for p in parts for s in p.parts],
                 np.concatenate([p.mixed for p in parts]))
