"""`real`: every real recording saz can score itself on, with labels in the default vocabulary.

Assembled from a folder laid out like ``../shared`` (``samples/`` and ``fixtures/``), using only
recordings that no saz training pool touches (:func:`saz.synth.sources.held_out`). Splits:

- ``single``: one instrument each: the held-out sample-library recordings, TinySOL,
  Medley-solos-DB and IRMAS training excerpts (IRMAS names only the predominant instrument,
  so its other classes are unknown).
- ``mix``: polyphonic mixtures of held-out real recordings (``saz synth mix`` on them), written
  once to ``cache`` and reused.
- ``band``: real band recordings (IRMAS test excerpts, MedleyDB mixes). MedleyDB lists every
  instrument of a mix; IRMAS annotates eleven classes only, so the classes it has no name for
  (bass, drums, cymbals, ...) are unknown in its excerpts, not absent.
- ``partial``: real ensemble excerpts annotated for a few classes of the vocabulary only
  (HamNava: ``singer`` as voice and ``santour``, the Persian hammered dulcimer, as dulcimer;
  OpenMIC-2018: its crowd-verified classes). Kept apart from ``mix`` and ``band``, whose labels
  are complete, so those splits mean what they meant before.

Instrument names are mapped with ``saz/data/sample_names.toml``; classes a source does not
annotate are unknown (NaN), never assumed absent, except where the source lists everything.
Sample-library recordings whose loudest 100 ms stays below -50 dBFS (breath and key-noise
layers, :func:`saz.audio.is_audible`) are left out of ``single`` and of the mixtures.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from saz.audio import AudioError, is_audible
from saz.features.cache import default_cache_dir
from saz.datasets import load
from saz.datasets.base import Dataset, DatasetError, clips_frame, register
from saz.labels import LabelSet, Vocabulary
from saz.synth.library import pool_mixtures
from saz.synth.sources import held_out, library_pool
from saz.vocabulary import default_vocabulary, resolve_name

MIX_SEED = 20261126


def _mapped(y: np.ndarray, names: tuple[str, ...], vocab: Vocabulary, complete: bool) -> np.ndarray:
    """Columns of ``y`` mapped onto ``vocab`` (max over synonyms); unmapped classes 0 or NaN."""
    out = np.full((len(y), len(vocab)), 0.0 if complete else np.nan, dtype=np.float32)
    for j, name in enumerate(names):
        target = resolve_name(vocab, name)
        if target is None:
            continue
        k = vocab.names.index(target)
        col = y[:, j]
        known = ~np.isnan(col)
        cur = out[known, k]
        out[known, k] = np.where(np.isnan(cur), col[known], np.fmax(cur, col[known]))
    return out


def _part(ds: Dataset, source: str | np.ndarray, split: str, vocab: Vocabulary, complete: bool,
          keep: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    y = _mapped(ds.y, ds.vocab.names, vocab, complete)
    clips = ds.clips.assign(split=split, source=source)
    keep = np.ones(len(y), bool) if keep is None else keep
    keep &= clips["path"].notna().to_numpy()  # a labelled clip whose audio the source does not ship
    if split == "single":  # top-1 needs the instrument that plays
        keep &= np.nan_to_num(y, nan=0.0).max(axis=1) > 0
    else:  # a known absence counts too
        keep &= ~np.isnan(y).all(axis=1)
    return clips[keep].reset_index(drop=True), y[keep]


def _mixes(samples: Path, vocab: Vocabulary, n: int, cache: Path,
           audible: Callable[[str], bool]) -> tuple[pd.DataFrame, np.ndarray]:

    pool = tuple((p, c, s) for p, c, s in library_pool(samples, vocab.names, side="test") if c and audible(p))
    cache = cache / f"real-mix-{n}-{zlib.crc32(repr(pool).encode()):08x}"  # new mixtures when the pool changes
    df = pool_mixtures(pool, vocab.names, n, cache, MIX_SEED, "real-mix-")
    y = df[list(vocab.names)].to_numpy(dtype=np.float32)
    rows = [{"clip_id": r.clip_id, "path": r.path, "split": "mix", "source": "held-out samples mixed"} for r in df.itertuples()]
    return clips_frame(rows), y


@register("real", "real recordings only (held-out samples, fixtures): single, mix and band splits, default vocabulary")
def load_real(root: Path, *, mixes: int = 200, cache: str | None = None) -> Dataset:
    """Read the real evaluation set from a ``../shared``-like ``root``."""

    samples, fixtures = root / "samples", root / "fixtures"
    if not samples.is_dir() and not fixtures.is_dir():
        raise DatasetError(f"{root}: not a real-recordings root (expected samples/ and/or fixtures/ as in ../shared)")
    vocab = default_vocabulary()
    parts: list[tuple[pd.DataFrame, np.ndarray]] = []
    problems: list[str] = []

    @functools.cache
    def audible(path: str) -> bool:
        try:
            return is_audible(path)
        except AudioError as e:
            problems.append(str(e))
            return False

    if samples.is_dir():
        lib = load("samples", samples)
        sources = [str(c or Path(p).parent.parent.name) for c, p in zip(lib.clips["category"], lib.clips["path"])]
        keep = np.array([held_out(p, s) and audible(p) for p, s in zip(lib.clips["path"], sources)])
        parts.append(_part(lib, np.array([f"held-out samples: {s}" for s in sources]), "single", vocab, True, keep))
        if mixes:
            cache_dir = Path(cache) if cache else default_cache_dir()
            parts.append(_mixes(samples, vocab, mixes, cache_dir, audible))
    readers = [("tinysol", "samples", "single", True), ("medley_solos_db", "samples", "single", True),
               ("irmas", "irmas", None, False), ("medleydb", "medleydb", "band", True),
               ("hamnava", "hamnava", "partial", False), ("openmic2018", "openmic2018", "partial", False)]
    for folder, reader, split, complete in readers:
        if not (fixtures / folder).is_dir():
            continue
        ds = load(reader, fixtures / folder)
        problems += [p for p in ds.problems if "not found" not in p]
        if reader == "irmas":  # training excerpts name one instrument; test excerpts list all of its classes
            train = (ds.clips["split"] == "train").to_numpy()
            parts.append(_part(ds, folder, "single", vocab, False, train.copy()))
            parts.append(_part(ds, folder, "band", vocab, False, ~train))
        else:
            parts.append(_part(ds, folder, split, vocab, complete))
    clips = pd.concat([c for c, _ in parts], ignore_index=True)
    y = np.concatenate([y for _, y in parts])
    if not len(clips):
        raise DatasetError(f"{root}: no real recording with an instrument of the default vocabulary")
    return Dataset("real", root, clips, LabelSet(vocab, y), problems)
