"""The tests a default model is scored on, and their scores.

Two sets: saz-bench v1's ``test`` split (a SoundFont no recipe trains on, first quarter) and the
``real`` set of recorded audio (:mod:`saz.evaluation.realset`). :func:`score` gives the numbers
the default's card, the acceptance rule and the generalisation tables read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from saz.datasets import Dataset, load
from saz.evaluation.realset import load_real
from saz.evaluation.scoring import evaluate_checkpoint
from saz.metrics import bootstrap_intervals, top1_hits
from saz.models.predictor import Predictor
from saz.synth.bench import Spec, split_generator
from saz.synth.corpus import build_split
from saz.vocabulary import load_map

V1_SCALE = 0.25  # the share of saz-bench v1's test split the suite renders (500 of 2,000 clips)
REAL_MIXES = 200  # mixtures of held-out recordings in the real set
TESTS = ("v1-test", "real-single", "real-poly")  # the evaluation folders under ``out`` that card and acceptance read


def eval_sets(spec_path: str | Path, shared: str | Path, work: str | Path, workers: int = 1) -> dict[str, Dataset]:
    """``{"v1": ..., "real": ...}``: saz-bench v1's unseen-SoundFont test (rendered once under
    ``work``) and the real set read from ``shared`` (a folder with ``samples/`` and ``fixtures/``)."""
    spec, work = Spec.load(spec_path), Path(work)
    gen, n = split_generator(spec, "test", V1_SCALE)
    v1 = work / "v1-test"
    build_split(gen, v1, "test", n, list(load_map()), spec.sr, spec.chunk_size, workers)
    real = load_real(Path(shared), mixes=REAL_MIXES, cache=str(work / "real-mix"))
    return {"v1": load("saz-bench", v1), "real": real}


def score(model: str | Path, sets: dict[str, Dataset], out: str | Path, cache: str | Path) -> dict[str, Any]:
    """The suite's scores of the checkpoint ``model``: saz-bench v1's test, the real set
    (:func:`score_real`) and the model's own validation and training figures."""
    pred, out = Predictor.load(model), Path(out)
    r_v1 = evaluate_checkpoint(pred, sets["v1"], out / "v1-test", cache_dir=cache, progress=False)
    info = pred.info
    return {"v1_macro_f1": r_v1.macro.f1, "v1_map": r_v1.map, **score_real(pred, sets["real"], out, cache),
            "val_macro_f1": info["validation"]["macro"]["f1"], "val_map": info["validation"]["map"],
            "best_epoch": info["best_epoch"], "epochs": info["epochs_run"], "cpu_minutes": info["cpu_seconds"] / 60}


def _single_scores(pred: Predictor, single: Dataset, out: Path, cache: str | Path, mode: str, suffix: str) -> dict[str, Any]:
    """Top-1 (with its bootstrap interval), per source, and the share detected on single-instrument recordings."""
    r = evaluate_checkpoint(pred, single, out / f"real-single{suffix}", protocol="hard", cache_dir=cache,
                            progress=False, long_clips=mode)
    npz = np.load(out / f"real-single{suffix}" / "predictions.npz")
    hit = top1_hits(npz["y_true"], npz["y_prob"])
    sources = single.clips["source"].to_numpy()
    return {f"real_single_top1{suffix}": float(hit.mean()),
            f"real_single_by_source{suffix}": {str(s): [int((sources == s).sum()), float(hit[sources == s].mean())]
                                               for s in np.unique(sources)},
            f"real_single_detected{suffix}": r.micro.recall,
            f"real_single_top1_interval{suffix}": bootstrap_intervals(npz["y_true"], npz["y_prob"], npz["thresholds"])["top1"]}


def _poly_scores(pred: Predictor, poly: Dataset, out: Path, cache: str | Path, mode: str, suffix: str) -> dict[str, Any]:
    """Macro F1 over the classes present (with its bootstrap interval) and mAP on polyphonic clips."""
    r = evaluate_checkpoint(pred, poly, out / f"real-poly{suffix}", protocol="hard", cache_dir=cache,
                            progress=False, long_clips=mode)
    npz = np.load(out / f"real-poly{suffix}" / "predictions.npz")
    return {f"real_poly_macro_f1_present{suffix}": r.macro_f1_present, f"real_poly_map{suffix}": r.map,
            f"real_poly_macro_f1_present_interval{suffix}":
                bootstrap_intervals(npz["y_true"], npz["y_prob"], npz["thresholds"])["macro_f1_present"]}


def _partial_scores(pred: Predictor, real: Dataset, out: Path, cache: str | Path) -> dict[str, Any]:
    """Per-class scores on the excerpts annotated for a few classes only (none when the set has none)."""
    if not (real.clips["split"] == "partial").any():
        return {}
    r = evaluate_checkpoint(pred, real.subset("partial"), out / "real-partial", protocol="hard", cache_dir=cache,
                            progress=False)
    return {"real_partial_n": r.n_clips,
            "real_partial_by_class": {c.name: {k: getattr(c, k) for k in ("support", "known", "precision", "recall", "f1")}
                                      for c in r.per_class if c.support > 0}}


def score_real(pred: Predictor, real: Dataset, out: str | Path, cache: str | Path) -> dict[str, Any]:
    """Scores on the ``real`` set: top-1 on single-instrument recordings, macro F1 over the classes
    present and mAP on polyphonic audio. Clips longer than the model's window are scored on their
    centre window and, in the ``*_windows`` keys, over all their windows as ``saz predict`` hears a
    recording. ``*_interval`` keys are 95 % bootstrap intervals over clips. ``real_partial_*``: the
    excerpts annotated for a few classes only, per class, kept apart from the polyphonic score."""
    out = Path(out)
    single = real.subset("single")
    poly = real.subset(np.flatnonzero(real.clips["split"].isin(["mix", "band"]).to_numpy()))
    scores: dict[str, Any] = {}
    for mode, suffix in (("centre", ""), ("windows", "_windows")):
        scores |= _single_scores(pred, single, out, cache, mode, suffix)
        scores |= _poly_scores(pred, poly, out, cache, mode, suffix)
    scores |= _partial_scores(pred, real, out, cache)
    return {**scores, "real_single_n": int(len(single.clips)), "real_poly_n": int(len(poly.clips))}
