"""Data preparation of a document's setting (its ``[data]`` table): read the dataset with the
reader and options it names, mix the polyphonic clips from a sample library first where it
says ``synth``, and
make the ``train``/``validation``/``test`` splits it asks for (the dataset's own, or a
stratified split with ``stratified`` ratios).

A reader option this version of saz does not know yet is left out and reported as a document
setting not applied (so a setting written for a later saz still runs, and says what it skipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from saz.datasets import Dataset, load
from saz.datasets.splits import stratified_split

SPLITS = ("train", "validation", "test")


@dataclass
class Prepared:
    """The dataset of a setting, split, and what the preparation could not do as written."""

    dataset: Dataset
    not_applied: list[str] = field(default_factory=list)


def read(reader: str, root: Path, options: dict[str, Any], not_applied: list[str]) -> Dataset:
    """``load(reader, root, **options)``, dropping (and listing) options the reader refuses by name."""
    options = dict(options)
    while True:
        try:
            return load(reader, root, **options)
        except TypeError as e:
            unknown = [k for k in options if f"'{k}'" in str(e)]
            if not unknown:
                raise
            for k in unknown:
                not_applied.append(f"{reader} reader option {k} = {options.pop(k)!r} (not in this saz version)")


def _with_audio(ds: Dataset) -> Dataset:
    """``ds`` without the clips it lists but has no audio file for (OpenMIC's partitions name
    some), each left-out clip a problem."""
    ok = np.array([isinstance(p, str) and Path(p).is_file() for p in ds.clips["path"]], dtype=bool)
    if ok.all():
        return ds
    kept = ds.subset(np.flatnonzero(ok))
    kept.problems += [f"{c}: no audio file; left out" for c in np.array(ds.ids)[~ok]]
    return kept


def _split(ds: Dataset, data: dict[str, Any], seed: int) -> Dataset:
    """``ds`` with the three splits: its own (renamed by ``data['splits']``), or a stratified
    split of all its clips when ``data['stratified']`` gives ratios (grouped by ``group``)."""
    clips = ds.clips.copy()
    if data.get("stratified"):
        groups = clips[data["group"]].to_numpy() if data.get("group") in clips.columns else None
        clips["split"] = stratified_split(ds.y, data["stratified"], SPLITS, groups=groups, seed=seed)
    else:
        rename = {v: k for k, v in data.get("splits", {}).items()}
        clips["split"] = clips["split"].map(lambda s: rename.get(s, s))
    return Dataset(ds.name, ds.root, clips, ds.labels, list(ds.problems))


def prepare(data: dict[str, Any], root: Path, out: Path, seed: int = 0) -> Prepared:
    """The split dataset of a setting's ``[data]`` table, read from ``root`` (clips it mixes
    are written under ``out / 'data'``)."""
    not_applied: list[str] = []
    if "synth" in data:
        from saz.reproduce.mixing import mixed_corpus

        root = mixed_corpus(root, out / "data", data["synth"], seed, not_applied)
    options = dict(data.get("options", {}))
    ds = _split(_with_audio(read(data["reader"], root, options, not_applied)), data, seed)
    missing = [s for s in SPLITS if s not in ds.splits and s != "validation"]
    if missing:
        raise ValueError(f"{root}: no clips in split(s) {', '.join(missing)} of {ds.name} ({len(ds)} clips read, "
                         f"{len(ds.problems)} problems{': ' + ds.problems[0] if ds.problems else ''})")
    return Prepared(ds, not_applied)
