"""Build the clip sets shipped with ``saz teach``: the no-forgetting check set and the background set.

    python benchmarks/teach_check_set.py --shared ../shared --work /tmp/teach-check

``saz/teach/check_set.npz``, which every ``saz teach`` run scores, has two parts of 48 clips each,
as log-mel features of the default model's input (5 s at 22.05 kHz):

- ``v1-validation``: the first 48 clips of saz-bench v1's ``validation`` split
  (``benchmarks/saz-bench-v1.toml``, rendered with FluidSynth; our own generated music);
- ``real``: held-out real recordings of the default's classes (the ``real`` set's side of the
  train/test divide), 24 alone and 24 mixed by ``saz synth mix``'s generator, taken only from the
  sources of ``../shared/samples`` whose licences allow redistribution (:data:`FREE_SOURCES`).

``saz/teach/background_set.npz``: the first 128 clips of saz-bench v1's ``train`` split, which
teaching adds to the user's examples as ensembles labelled in the base's classes (never scored by
the check: disjoint clips). The same spec, samples and seed give the same files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from saz import audio
from saz.features import feature_from_config
from saz.models.predictor import Predictor
from saz.prediction import load_predictor
from saz.progress import log
from saz.synth.bench import Spec, split_generator
from saz.synth.corpus import build_split
from saz.synth.library import pool_mixtures
from saz.synth.sources import library_pool
from saz.teach.checkset import BACKGROUND_FILE, CHECK_FILE, ClipSet
from saz.vocabulary import default_vocabulary

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "benchmarks" / "saz-bench-v1.toml"
PER_PART = 48
BACKGROUND_CLIPS = 128
SEED = 20261203
FREE_SOURCES = {  # folder of ../shared/samples -> licence (see its README)
    "mtg_solosax": "CC BY 4.0", "splendid_grand_piano": "public domain", "karoryfer_ganjo": "CC0",
    "karoryfer_gogodze": "CC0", "ethan_winer": "public domain", "bjdniel": "CC BY-SA 4.0",
}


def v1_clips(split: str, n: int, work: Path, classes: list[str]) -> pd.DataFrame:
    """The first ``n`` clips of saz-bench v1's ``split``, rendered under ``work``."""
    spec = Spec.load(SPEC)
    gen, _ = split_generator(spec, split)
    csv = build_split(gen, work / f"v1-{split}", split, n, classes, spec.sr, spec.chunk_size)
    df = pd.read_csv(csv)
    df["path"] = [str(work / f"v1-{split}" / p) for p in df["path"]]
    return df


def real(samples: Path, work: Path, classes: list[str]) -> pd.DataFrame:
    """Held-out recordings of the free sources: half alone (one per class in turn), half mixed."""
    pool = [e for e in library_pool(samples, classes, side="test") if e[1] and e[2] in FREE_SOURCES
            and audio.is_audible(e[0])]
    rng = np.random.default_rng(SEED)
    by_class = {c: [e for e in pool if e[1] == c] for c in sorted({e[1] for e in pool})}
    alone = []
    while len(alone) < PER_PART // 2:
        for c, entries in by_class.items():
            if entries and len(alone) < PER_PART // 2:
                path, _, _ = entries.pop(int(rng.integers(len(entries))))
                alone.append({"path": path, **{k: float(k == c) for k in classes}})
    mixed = pool_mixtures(tuple(pool), classes, PER_PART // 2, work / "real-mix", SEED, "check-mix-")
    return pd.concat([pd.DataFrame(alone), mixed[["path", *classes]]], ignore_index=True)


def features(df: pd.DataFrame, predictor: Predictor) -> np.ndarray:
    """Log-mel features of each clip's first ``seconds`` (a shorter recording padded with silence)."""
    feature = feature_from_config(predictor.checkpoint.feature)
    n = int(round(predictor.seconds * feature.sr))
    waves = np.zeros((len(df), n), np.float32)
    for i, path in enumerate(df["path"]):
        y, _ = audio.load(path, sr=feature.sr)
        waves[i, : min(n, len(y))] = y[:n]
    return feature(waves)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--work", type=Path, required=True, help="Where the rendered and mixed clips go.")
    args = ap.parse_args()
    default = load_predictor("default")
    classes = list(default_vocabulary().names)
    check = {"v1-validation": v1_clips("validation", PER_PART, args.work, classes),
             "real": real(args.shared / "samples", args.work, classes)}
    write(check, default, classes, CHECK_FILE)
    write({"v1-train": v1_clips("train", BACKGROUND_CLIPS, args.work, classes)}, default, classes, BACKGROUND_FILE)


def write(parts: dict[str, pd.DataFrame], default: Predictor, classes: list[str], path: Path) -> None:
    """The clips of ``parts`` as one :class:`ClipSet` at ``path``."""
    X = np.concatenate([features(df, default) for df in parts.values()])
    y = np.concatenate([df[classes].to_numpy(np.float32) for df in parts.values()])
    part = np.concatenate([[name] * len(df) for name, df in parts.items()])
    clips = ClipSet(X, y, part, default.checkpoint.feature, default.seconds, tuple(classes))
    log(f"{len(X)} clips ({', '.join(f'{k}: {len(v)}' for k, v in parts.items())}) -> {clips.save(path)}")


if __name__ == "__main__":
    main()
