"""The cultural-instruments document's data: polyphonic clips mixed from a single-instrument
sample library (cultural-instruments-polyphonic-detection.txt 3.1-3.2: 2-5 instruments, the
Hornbostel-Sachs rule, each instrument's recordings split 80/20 between training and test,
8,000 training and 2,000 test clips of 5 s), as ``saz synth mix`` makes them.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from saz.datasets import load
from saz.synth.corpus import build_split
from saz.synth.library import LibraryConfig, LibraryGenerator, library_pools

LIBRARY_KEYS = ("seconds", "sr", "min_instruments", "max_instruments", "category_rule")


def _library_config(synth: dict[str, Any], not_applied: list[str]) -> LibraryConfig:
    """The mixing settings this saz knows; the others (e.g. a mixing mode) listed as not applied."""
    known = {f.name for f in fields(LibraryConfig)}
    kwargs = {k: v for k, v in synth.items() if k in known}
    for k, v in synth.items():
        if k not in known and k not in ("n_train", "n_test", "test_fraction"):
            not_applied.append(f"mixing setting {k} = {v!r} (saz synth mix has no such setting yet)")
    return LibraryConfig(**kwargs)


def mixed_corpus(library: Path, out: Path, synth: dict[str, Any], seed: int, not_applied: list[str]) -> Path:
    """Mix ``synth['n_train']`` training and ``synth['n_test']`` test clips from ``library``
    into ``out`` (``train.csv``, ``test.csv``: a saz-bench folder; resumable); returns ``out``."""
    ds = load("samples", library)
    pools = library_pools(ds, float(synth.get("test_fraction", 0.2)), seed)
    cfg = _library_config(synth, not_applied)
    for split, n in (("train", int(synth["n_train"])), ("test", int(synth["n_test"]))):
        if not pools[split]:
            raise ValueError(f"{library}: no recordings left for the {split} split (each instrument needs two or more)")
        gen = LibraryGenerator(pools[split], tuple(ds.vocab.names), cfg, seed + (split == "test"), prefix=split[:2])
        build_split(gen, out, split, n, ds.vocab.names, cfg.sr)
    return out
