"""The heads of a taught model: logistic regressions on the base's embeddings, cross-validated by recording.

Folds are made of whole recordings (each class's recordings dealt round-robin into the folds, the
negatives too), and an item is trained on only when none of the recordings heard in it (a
mixture hears several) is in the fold tested: no window of a tested recording is ever seen in
training. The out-of-fold probabilities tune each class's threshold (F1) and give its scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from saz import metrics
from saz.teach.examples import Items

MAX_FOLDS = 5


def fit_heads(Z: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weights ``(classes, dim)`` and biases of one balanced logistic regression per class on standardised
    embeddings ``Z`` (items weighted by ``weight``, ``(n, classes)``: each class its own); a class without
    both positives and negatives gets
    a head that never fires."""
    W, b = np.zeros((y.shape[1], Z.shape[1]), np.float32), np.full(y.shape[1], -10.0, np.float32)
    for j in range(y.shape[1]):
        t = y[:, j] >= 0.5
        if t.any() and not t.all():
            lr = LogisticRegression(C=0.1, class_weight="balanced", max_iter=500).fit(Z, t, sample_weight=None if weight is None else weight[:, j])
            W[j], b[j] = lr.coef_[0], lr.intercept_[0]
    return W, b


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def folds(items: Items, classes: list[str], seed: int) -> dict[str, int]:
    """Recording -> fold: each class's recordings (and the negatives) shuffled and dealt round-robin
    into ``min(MAX_FOLDS, most recordings of a class)`` folds (at least 2)."""
    rng = np.random.default_rng(seed)
    owner: dict[str, int] = {}
    for r, label in zip(items.primary, items.labels):
        owner.setdefault(r, int(label.argmax()) if label.any() else -1)
    by_class = {c: sorted(r for r, o in owner.items() if o == c) for c in range(-1, len(classes))}
    k = max(2, min(MAX_FOLDS, max(len(v) for c, v in by_class.items() if c >= 0)))
    return {r: i % k for recs in by_class.values() for i, r in enumerate(rng.permutation(recs))}


def out_of_fold(Z: np.ndarray, items: Items, fold_of: dict[str, int], weight: np.ndarray | None = None) -> np.ndarray:
    """Probabilities ``(n, classes)`` of each item from heads trained (items weighted by ``weight``)
    without any recording of its fold."""
    p = np.full(items.labels.shape, np.nan, np.float32)
    for f in sorted(set(fold_of.values())):
        test = np.array([fold_of[r] == f for r in items.primary])
        train = np.array([all(fold_of[r] != f for r in parts) for parts in items.parts])
        W, b = fit_heads(Z[train], items.labels[train], None if weight is None else weight[train])
        p[test] = _sigmoid(Z[test] @ W.T + b)
    return p


def scores(p: np.ndarray, items: Items, classes: list[str],
           base_hit: list[np.ndarray | None] | None = None,
           base_music: np.ndarray | None = None) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Thresholds tuned for F1 on the out-of-fold probabilities ``p``, and each class's CV scores
    (AP and F1 over all items, AP solo and in mixtures; None where a class has under 2 recordings).

    ``base_hit[j]``, for a class the base already has (refined), is the base's own decision on each
    item (None for a new class). A refined class fires where the base or its head does, so its
    threshold is tuned for the F1 of that union (:func:`union_threshold`), never lowering the F1 on
    ``base_music`` (a mask of the items of the base's own music) below the base's own. From one
    recording there is no CV of the positives: a new class's threshold is 0.5; a refined class's
    sits just above every item without it, so its head adds no false positive the out-of-fold
    scores can see."""
    y = items.labels
    hits = base_hit if base_hit is not None else [None] * len(classes)
    thresholds = metrics.tune_thresholds(y, p)
    rows = []
    for j, name in enumerate(classes):
        recs = {r for r, t, m in zip(items.primary, y[:, j], items.mixed) if t and not m}
        row: dict[str, Any] = {"class": name, "recordings": len(recs)}
        truth, hit = y[:, j] >= 0.5, hits[j]
        if len(recs) < 2:
            guard = hit is not None and (~truth).any()
            thresholds[j] = min(1.0, float(np.nextafter(p[~truth, j].max(), 1.0))) if guard else 0.5
            row.update(threshold=float(thresholds[j]), ap=None, f1=None, ap_solo=None, ap_mixed=None,
                       note="one recording: no cross-validation, threshold "
                            + ("above every item without it" if guard else "0.5"))
        else:
            if hit is not None:
                thresholds[j] = union_threshold(truth, p[:, j], hit, base_music)
            fired = p[:, j] >= thresholds[j] if hit is None else hit | (p[:, j] >= thresholds[j])
            row.update(threshold=float(thresholds[j]), ap=_ap(y[:, j], p[:, j]), f1=_f1(y[:, j], fired),
                       ap_solo=_ap(y[~items.mixed, j], p[~items.mixed, j]), ap_mixed=_ap(y[items.mixed, j], p[items.mixed, j]))
        rows.append(row)
    return thresholds, rows


def union_threshold(truth: np.ndarray, p: np.ndarray, hit: np.ndarray, guard: np.ndarray | None = None) -> float:
    """The head threshold maximising the F1 of ``hit | (p >= threshold)`` against ``truth``, among
    those that keep the F1 on the ``guard`` items (the base's own music) at least the base's there;
    ties go to the higher threshold (fewer items the base did not decide), and above every ``p``
    (the head never fires) when adding none is best."""
    order = np.argsort(-p[~hit], kind="stable")
    ps, ts = p[~hit][order], truth[~hit][order]
    cum = lambda x: np.concatenate([[0.0], np.cumsum(x)])

    def f1(counted: np.ndarray) -> np.ndarray:
        """F1 over the items ``counted`` when the head fires on the first 0, 1, ... items the base missed."""
        c = counted[~hit][order]
        tp = (hit & truth & counted).sum() + cum(ts & c)
        return 2 * tp / np.maximum(1, (hit & counted).sum() + cum(c) + (truth & counted).sum())

    score = f1(np.ones_like(hit))
    if guard is not None and guard.any():
        kept = f1(guard)
        score = np.where(kept >= kept[0] - 1e-12, score, -1.0)
    best = int(np.flatnonzero(score >= score.max() - 1e-12)[0])
    return float(ps[best - 1]) if best > 0 else min(1.0, float(np.nextafter(p.max(), 1.0)))


def _ap(t: np.ndarray, s: np.ndarray) -> float | None:
    t = t >= 0.5
    return round(float(average_precision_score(t, s)), 4) if t.any() and not t.all() else None


def _f1(t: np.ndarray, pred: np.ndarray) -> float:
    tp = float((pred & (t >= 0.5)).sum())
    return round(2 * tp / max(1.0, float(pred.sum() + (t >= 0.5).sum())), 4)
