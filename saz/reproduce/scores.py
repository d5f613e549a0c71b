"""The numbers a reproduced table shows, read from a run's ``saz evaluate`` folders.

Each evaluation is rescored from its ``predictions.npz`` with :func:`saz.metrics.evaluate` at
the thresholds a table asks for: ``"tuned"`` (the run's own, tuned on validation) or a fixed
number for every class (the 0.5 of HamNava 3.1 and cultural-instruments 5). Metric names:

* aggregate: ``{micro,macro,weighted,samples}_{precision,recall,f1}``, ``accuracy`` (label-wise,
  Keras' binary accuracy), ``subset_accuracy``, ``mse``, ``r2``, ``map``, ``roc_auc``, ``bce``,
  ``support`` (known positives), ``parameters`` (of the trained model);
* per class: ``precision``, ``recall``, ``f1``, ``support``, ``ap``, ``roc_auc``, ``accuracy``,
  ``mse``, ``r2``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from saz import metrics

AVERAGES = ("micro", "macro", "weighted", "samples")


@dataclass
class Scored:
    """One evaluation folder, rescored: the evaluation, its arrays and the trained model's info."""

    result: metrics.Evaluation
    y_true: np.ndarray
    y_prob: np.ndarray
    pred: np.ndarray
    classes: list[str]
    parameters: int | None


@functools.lru_cache(maxsize=256)
def rescore(folder: Path, threshold: str | float = "tuned", parameters: int | None = None) -> Scored:
    """The evaluation in ``folder`` at ``threshold`` ("tuned" or one value for every class), of a
    model with ``parameters`` trainable parameters (kept for the next call: a table asks for
    each evaluation once per cell, and an evaluation folder is written once)."""
    with np.load(folder / "predictions.npz", allow_pickle=False) as z:
        y_true, y_prob, tuned, classes = z["y_true"], z["y_prob"], z["thresholds"], [str(c) for c in z["classes"]]
    thr = tuned if threshold == "tuned" else np.full(len(classes), float(threshold), np.float32)
    return Scored(metrics.evaluate(y_true, y_prob, classes, thr), y_true, y_prob, y_prob >= thr, classes, parameters)


def _bce(s: Scored) -> float:
    known = ~np.isnan(s.y_true)
    p = np.clip(s.y_prob[known], 1e-7, 1 - 1e-7)
    t = s.y_true[known]
    return float(-(t * np.log(p) + (1 - t) * np.log(1 - p)).mean())


def aggregate(s: Scored, metric: str) -> float | None:
    """An aggregate metric of ``s`` (see the module docstring); None where undefined."""
    avg, _, part = metric.partition("_")
    if avg in AVERAGES and part in ("precision", "recall", "f1"):
        return float(getattr(getattr(s.result, avg), part))
    simple = {"accuracy": s.result.label_accuracy, "subset_accuracy": s.result.subset_accuracy, "mse": s.result.mse,
              "r2": s.result.r2, "map": s.result.map, "roc_auc": s.result.roc_auc, "parameters": s.parameters,
              "support": sum(c.support for c in s.result.per_class)}
    if metric == "bce":
        return _bce(s)
    if metric not in simple:
        raise ValueError(f"unknown metric '{metric}'")
    return None if simple[metric] is None else float(simple[metric])


def per_class(s: Scored, metric: str, j: int) -> float | None:
    """A metric of class ``j`` of ``s`` (see the module docstring); None where undefined."""
    c = s.result.per_class[j]
    if metric in ("precision", "recall", "f1", "support", "ap", "roc_auc"):
        v = getattr(c, metric)
        return None if v is None else float(v)
    known = ~np.isnan(s.y_true[:, j])
    t, p = s.y_true[known, j], s.y_prob[known, j]
    if not known.any():
        return None
    if metric == "accuracy":
        return float(((t >= 0.5) == s.pred[known, j]).mean())
    if metric == "mse":
        return float(((t - p) ** 2).mean())
    if metric == "r2":
        var = float(((t - t.mean()) ** 2).sum())
        return None if var == 0 else 1.0 - float(((t - p) ** 2).sum()) / var
    raise ValueError(f"unknown per-class metric '{metric}'")
