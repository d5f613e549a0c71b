"""Generator 1: polyphonic mixtures from a single-instrument sample library (``saz synth mix``).

The method of cultural-instruments-polyphonic-detection.txt section 3.2 (2-5 instruments per
clip; with 4, one per Hornbostel-Sachs category; with 5, one per category plus one), with its
named limitations fixed: every source enters and leaves at a random time at a random gain,
recordings (not clips) are split between training and test so no recording leaks, and a class
is labelled only where it is audible in the mix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np
import pandas as pd

from saz import audio
from saz.datasets.base import Dataset, clips_frame
from saz.labels import LabelSet
from saz.synth.corpus import Clip, build_split
from saz.synth.mix import MixConfig, activity, mix
from saz.vocabulary import default_vocabulary

if TYPE_CHECKING:
    from saz.datasets import Dataset

FADE = 0.02  # seconds of fade-out where a sample is cut


def split_recordings(clips: pd.DataFrame, test_fraction: float, seed: int) -> pd.Series:
    """'train' or 'test' per clip, drawn per class over whole recordings (never per clip).

    A class with a single recording stays in training only.
    """
    rng = np.random.default_rng(seed)
    split = pd.Series("train", index=clips.index)
    for _, g in clips.groupby("class", sort=True):
        recs = np.array(sorted(g["recording"].unique()))
        n_test = int(round(test_fraction * len(recs))) if len(recs) > 1 else 0
        n_test = max(1, n_test) if len(recs) > 1 else 0
        test = set(rng.permutation(recs)[:n_test])
        split[g.index[g["recording"].isin(test)]] = "test"
    return split


@dataclass(frozen=True)
class LibraryConfig:
    seconds: float = 5.0
    sr: int = 22050
    min_instruments: int = 2
    max_instruments: int = 5
    category_rule: bool = True  # the paper's rule for 4 and 5 instruments
    gap: tuple[float, float] = (0.0, 0.6)  # seconds of silence between a source's notes
    mix: MixConfig = field(default_factory=MixConfig)
    whole: bool = False  # every instrument sounds the whole clip, back to back (the cultural-instruments paper's mixes)


@dataclass(frozen=True)
class LibraryGenerator:
    """Picklable clip factory over a pool of (path, class, category) samples for one split."""

    pool: tuple[tuple[str, str, str], ...]
    classes: tuple[str, ...]
    cfg: LibraryConfig
    seed: int
    prefix: str = "m"

    def _choose(self, rng: np.random.Generator, by_class: dict[str, list[str]], category: dict[str, str]) -> list[str]:
        names = sorted(by_class)
        k = int(rng.integers(self.cfg.min_instruments, self.cfg.max_instruments + 1))
        k = min(k, len(names))
        cats = sorted({category[c] for c in names if category[c]})
        if self.cfg.category_rule and k >= 4 and len(cats) >= 4:
            chosen = [str(rng.choice([c for c in names if category[c] == cat])) for cat in cats[:4]]
            rest = [c for c in names if c not in chosen]
            if k == 5 and rest:
                chosen.append(str(rng.choice(rest)))
            return sorted(chosen)
        return sorted(rng.choice(names, size=k, replace=False).tolist())

    def __call__(self, chunk: int, indices: list[int]) -> Iterator[Clip]:
        rng = np.random.default_rng([self.seed, chunk])
        by_class: dict[str, list[str]] = {}
        category: dict[str, str] = {}
        for path, cls, cat in self.pool:
            by_class.setdefault(cls, []).append(path)
            category[cls] = cat
        cache: dict[str, np.ndarray] = {}
        for i in indices:
            chosen = self._choose(rng, by_class, category)
            stems = {c: sample_stem(rng, by_class[c], self.cfg.seconds, self.cfg.sr, cache, self.cfg.gap, whole=self.cfg.whole)
                     for c in chosen}
            mixture, scales = mix(stems, rng, self.cfg.mix)
            act, present = activity(stems, scales, mixture, list(self.classes), self.cfg.mix, self.cfg.sr)
            meta = {"generator": "mix", "soundfont": "", "source": "samples", "instruments": ";".join(chosen), "presets": ""}
            yield Clip(f"{self.prefix}{i:06d}", mixture, act, present, meta)


def sample_stem(rng: np.random.Generator, files: Sequence[str], seconds: float, sr: int,
                cache: dict[str, np.ndarray], gap: tuple[float, float] = (0.0, 0.6), sparse: float = 0.0,
                shift: float = 0.0, whole: bool = False) -> np.ndarray:
    """A source track: random recordings of one instrument between a random entry and exit, or
    with ``whole`` from the first sample to the last, back to back without gaps (every instrument
    "present at the same time throughout", as the cultural-instruments paper mixed its clips).

    With probability ``sparse`` the track is one or two recordings alone in silence (as a
    sample library or an exposed entry sounds), otherwise recordings follow one another.
    With ``shift`` > 0 each recording is played back faster or slower by up to that many
    semitones, moving pitch and formants together as a larger or smaller instrument of the same
    family would: a few real recordings then stand for more instruments than they are.
    ``cache`` keeps decoded files across calls; an unreadable file plays as a short silence.
    """
    n = int(round(seconds * sr))
    out = np.zeros(n, dtype=np.float32)
    if sparse and rng.random() < sparse:
        gap = (1.5, 4.0)
    full = rng.random() < 0.4 or whole
    if whole:
        gap = (0.0, 0.0)
    t0 = 0 if full else int(rng.integers(0, n // 2))
    t1 = n if full else int(rng.integers(min(n, t0 + sr), n + 1))
    t = t0
    while t < t1:
        f = files[int(rng.integers(0, len(files)))]
        if f not in cache:
            try:
                cache[f] = audio.load(f, sr=sr)[0]
            except audio.AudioError:
                cache[f] = np.zeros(int(0.1 * sr), dtype=np.float32)
        y = cache[f]
        if len(y) > n:  # a long recording: a random window of it
            s = int(rng.integers(0, len(y) - n))
            y = y[s : s + n]
        if shift:
            y = audio.resample(y, int(round(sr * 2 ** (rng.uniform(-shift, shift) / 12))), sr)
        seg = y[: t1 - t].copy()
        fade = min(len(seg), int(FADE * sr))
        if fade and len(seg) < len(y):
            seg[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        out[t : t + len(seg)] += seg * float(10 ** (rng.uniform(-6, 0) / 20))
        t += len(seg) + int(rng.uniform(*gap) * sr)
    return out


def pools_from_dataset(clips: pd.DataFrame, test_fraction: float, seed: int) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Sample pools per split ('train', 'test') from a ``samples`` dataset's clips table."""
    split = split_recordings(clips, test_fraction, seed)
    out = {}
    for name in ("train", "test"):
        g = clips[split == name]
        out[name] = tuple((str(p), str(c), str(cat) if isinstance(cat, str) else "")
                          for p, c, cat in zip(g["path"], g["class"], g["category"]))
    return out


def library_pools(ds: Dataset, test_fraction: float, seed: int) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """Sample pools per split ('train', 'test') of a ``samples`` dataset (each recording's class
    is its one label), as :func:`pools_from_dataset` draws them."""
    names = ds.vocab.names
    clips = ds.clips.assign(**{"class": [names[j] for j in ds.y.argmax(axis=1)]})
    return pools_from_dataset(clips, test_fraction, seed)


def pool_mixtures(pool: Sequence[tuple[str, str, str]], classes: Sequence[str], n: int, out: Path, seed: int,
                  prefix: str, split: str = "mix") -> pd.DataFrame:
    """``n`` polyphonic clips mixed from the labelled entries of ``pool`` (distractors left out),
    written once under ``out`` (resumable, :func:`saz.synth.corpus.build_split`): their manifest,
    paths made absolute."""
    cfg = LibraryConfig()
    gen = LibraryGenerator(tuple(e for e in pool if e[1]), tuple(classes), cfg, seed, prefix=prefix)
    df = pd.read_csv(build_split(gen, out, split, n, list(classes), cfg.sr, 50))
    df["path"] = [str(out / p) for p in df["path"]]
    return df


def mixture_dataset(pool: Sequence[tuple[str, str, str]], n: int, out: Path, seed: int, prefix: str) -> Dataset:
    """``n`` validation clips mixed from ``pool`` (as the ``real`` set mixes held-out recordings),
    labelled in the default vocabulary, as a dataset (written once under ``out``)."""
    vocab = default_vocabulary()
    df = pool_mixtures(pool, vocab.names, n, out, seed, f"{prefix}-", split="validation")
    rows = [{"clip_id": r.clip_id, "path": r.path, "split": "validation"} for r in df.itertuples()]
    return Dataset(f"{prefix}-mixtures", out, clips_frame(rows), LabelSet(vocab, df[list(vocab.names)].to_numpy(np.float32)), [])
