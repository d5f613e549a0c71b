"""saz-bench: the corpus ``saz synth bench`` writes, one ``<split>.csv`` manifest per split.

The root is the corpus folder. Every split manifest present (``train.csv``,
``validation.csv``, ``test.csv``, ``test_mix.csv``, or any other the spec names) is read with the
CSV reader and the splits are joined into one dataset whose ``split`` column says which is
which. Frame activity is skipped unless ``activity=True`` (it is large for the full corpus).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from saz.datasets.base import Dataset, DatasetError, register
from saz.datasets.csv_manifest import load_csv
from saz.labels import LabelSet

KNOWN_SPLITS = ("train", "validation", "test", "test_mix")


def _split_names(root: Path) -> list[str]:
    card = root / "card.json"
    if card.exists():
        try:
            names = list(json.loads(card.read_text())["clips_per_class"])
            return [n for n in names if (root / f"{n}.csv").exists()]
        except (ValueError, KeyError):
            pass
    return [n for n in KNOWN_SPLITS if (root / f"{n}.csv").exists()]


@register("saz-bench", "saz-bench corpora written by `saz synth bench` (one CSV manifest per split)")
def load_sazbench(root: Path, *, activity: bool = False, check_audio: bool = True) -> Dataset:
    """Read every split manifest under ``root`` into one dataset."""
    names = _split_names(root)
    if not names:
        raise DatasetError(f"{root}: not a saz-bench root (expected {', '.join(f'{n}.csv' for n in KNOWN_SPLITS)})")
    parts = [load_csv(root / f"{n}.csv", check_audio=check_audio, activity=activity) for n in names]
    vocab = parts[0].vocab
    for n, p in zip(names, parts):
        if p.vocab.names != vocab.names:
            raise DatasetError(f"{root / (n + '.csv')}: classes differ from {names[0]}.csv")
    rates = {p.labels.frame_rate for p in parts}
    frames = None
    if activity and all(p.labels.activity is not None for p in parts) and len(rates) == 1:
        longest = max(p.labels.activity.shape[1] for p in parts)
        frames = np.concatenate([np.pad(p.labels.activity, ((0, 0), (0, longest - p.labels.activity.shape[1]), (0, 0)))
                                 for p in parts])
    labels = LabelSet(vocab, np.concatenate([p.y for p in parts]), frames, rates.pop() if frames is not None else None)
    clips = pd.concat([p.clips for p in parts], ignore_index=True)
    return Dataset("saz-bench", root, clips, labels, [line for p in parts for line in p.problems])
