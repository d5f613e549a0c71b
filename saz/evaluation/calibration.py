"""Threshold profiles fitted to someone's own labelled recordings.

A model's per-class thresholds are tuned on clips of the sources it trained on, and recordings
of sources it never heard score lower (``docs/default-model.md``): the
same probabilities need other thresholds there. Whoever has a few labelled recordings of their
own collection can fit them: :func:`fit_profile` reads the clips as ``saz predict`` hears them
(every window of a long clip, probabilities maxed) and fits each class the labels decide, by one
of :data:`RULES`; the other classes keep the model's own thresholds. ``saz models profile``
writes the result into a copy of the checkpoint as a named threshold profile.

The same holds for the prediction window: a file's probability is its highest window's, so
thresholds tuned at the model's clip length let more false positives through at shorter windows.
:func:`window_thresholds` tunes them again per window; ``saz models windows`` writes them into a
copy of the checkpoint, and ``saz predict --window`` then uses the nearest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from saz.datasets.base import Dataset
from saz.evaluation.scoring import whole_clip_probabilities
from saz.features.dataset import dataset_features
from saz.labels import binarize
from saz.metrics import fpr_thresholds, tune_thresholds
from saz.models.checkpoint import Checkpoint
from saz.models.ensemble import ensemble
from saz.models.predictor import Predictor
from saz.vocabulary import align_labels

RULES = {
    "f1": "the threshold with the best F1 on the clips (classes with positives and negatives there)",
    "fpr": "the tuned threshold lowered to where a share `rate` of the clips' negatives score above it "
           "(classes with negatives there; never raised)",
}


def _check(rule: str, rate: float) -> None:
    if rule not in RULES:
        raise ValueError(f"unknown rule '{rule}' (choose from {', '.join(RULES)})")
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be in [0, 1), got {rate}")


def fit_thresholds(truth: np.ndarray, prob: np.ndarray, own: np.ndarray, rule: str = "f1",
                   rate: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Per-class thresholds fitted by ``rule`` on hard labels ``truth`` (NaN: unknown) and
    probabilities ``prob``, ``own`` where the labels do not decide a class; and which classes
    they decided."""
    _check(rule, rate)
    known = ~np.isnan(truth)
    positives, negatives = ((truth == 1) & known).sum(0), ((truth == 0) & known).sum(0)
    if rule == "f1":
        fitted, decided = tune_thresholds(truth, prob), (positives > 0) & (negatives > 0)
    else:
        fitted, decided = np.minimum(own, fpr_thresholds(truth, prob, rate)), negatives > 0
    return np.where(decided, fitted, own).astype(np.float32), decided


def threshold_moves(names: list[str], before: np.ndarray, after: np.ndarray) -> list[str]:
    """'class 0.72 -> 0.40' for every class whose threshold moved by 0.005 or more."""
    return [f"{c} {a:.2f} -> {b:.2f}" for c, a, b in zip(names, before, after) if abs(a - b) >= 0.005]


def fit_profile(predictor: Predictor, ds: Dataset, rule: str = "f1", rate: float = 0.05,
                cache_dir: str | Path | None = None, progress: bool = True) -> tuple[np.ndarray, dict]:
    """Per-class thresholds for ``predictor`` fitted on the labelled clips of ``ds`` by ``rule``
    (:func:`fit_thresholds`), and what they were fitted on (clips, the classes fitted, skipped
    clips, class names the model does not know)."""
    _check(rule, rate)  # before any feature is computed
    X, y, ok, problems = dataset_features(ds, predictor.feature, predictor.seconds, cache_dir, progress)
    if len(X) == 0:
        raise ValueError(f"{ds.name}: no clip could be decoded ({len(problems)} problems)")
    y, dropped = align_labels(y, ds.vocab, predictor.vocab)
    prob = predictor.probabilities(X)
    whole_clip_probabilities(predictor, ds.clips[ok], prob)
    thresholds, decided = fit_thresholds(binarize(y, 0.5), prob, predictor.thresholds, rule, rate)
    info = {"clips": int(len(X)), "fitted": [n for n, d in zip(predictor.vocab.names, decided) if d],
            "skipped": problems, "unknown_classes": dropped}
    return thresholds, info


def window_probabilities(predictor: Predictor, ds: Dataset, window: float, progress: bool = True
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Every clip of ``ds`` heard as ``saz predict --window`` ``window`` hears a file (hop half
    the window, the highest window's probabilities): probabilities, and labels in the model's
    vocabulary (NaN: unknown). Clips that cannot be read, or are shorter than the window, are left out."""
    from saz.features.dataset import read_clip
    from saz.prediction import predict_many
    from saz.progress import track

    sr = predictor.feature.sr
    y, _ = align_labels(ds.y, ds.vocab, predictor.vocab)
    read: list[int] = []

    def waves():
        for i, (_, row) in enumerate(track(ds.clips.iterrows(), f"{ds.name} at {window:g}-s windows", len(ds.clips), progress)):
            wave = read_clip(row, sr)
            if not isinstance(wave, str):
                read.append(i)
                yield wave

    results = list(predict_many(waves(), predictor, sr=sr, window=window, hop=window / 2))
    kept = [(i, r.probabilities) for i, r in zip(read, results) if r.ok]
    if not kept:
        why = f" ({results[0].error})" if results else ""
        raise ValueError(f"{ds.name}: no clip could be scored at {window:g}-s windows{why}")
    return np.stack([p for _, p in kept]), y[[i for i, _ in kept]]


def window_thresholds(predictor: Predictor, datasets: list[Dataset], windows: list[float],
                      progress: bool = True) -> dict[float, np.ndarray]:
    """Per-class thresholds tuned for F1 at each prediction window on the labelled clips of
    ``datasets`` together (:func:`window_probabilities`); classes the labels do not decide keep
    the model's own. For :meth:`saz.models.checkpoint.Checkpoint.with_window_thresholds`."""
    table = {}
    for window in windows:
        parts = [window_probabilities(predictor, ds, window, progress) for ds in datasets]
        prob, truth = np.concatenate([p for p, _ in parts]), binarize(np.concatenate([y for _, y in parts]), 0.5)
        table[window] = fit_thresholds(truth, prob, predictor.thresholds, "f1")[0]
    return table


def members_info(members: list[Checkpoint], others: list[str]) -> dict[str, Any]:
    """The info of an ensemble led by ``members[0]``: its info, the members' parameters summed and
    the names of the ``others`` it joins."""
    return {**members[0].info, "parameters": sum(m.info["parameters"] for m in members), "ensemble": list(others)}


def ensemble_of_files(paths: list[str | Path], datasets: list[Dataset], combine: str = "mean",
                      cache_dir: str | Path | None = None, progress: bool = True) -> Checkpoint:
    """:func:`tune_ensemble` of the checkpoint files ``paths``, the first leading (:func:`members_info`)."""
    members = [Checkpoint.load(p) for p in paths]
    info = members_info(members, [Path(p).name for p in paths[1:]])
    return tune_ensemble(members, datasets, info, combine, cache_dir, progress)[0]


def tune_ensemble(members: list[Checkpoint], datasets: list[Dataset], info: dict[str, Any], combine: str = "mean",
                  cache_dir: str | Path | None = None, progress: bool = True) -> tuple[Checkpoint, list[str]]:
    """An ensemble checkpoint of ``members`` whose thresholds are tuned on the clips of all
    ``datasets`` together; returns it and the clips that could not be read."""
    predictors = [Predictor(m) for m in members]
    first = predictors[0]
    parts = [dataset_features(ds, first.feature, first.seconds, cache_dir, progress) for ds in datasets]
    X, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return ensemble(predictors, X, y, info, combine), [line for p in parts for line in p[3]]
