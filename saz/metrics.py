"""Scores for multi-label predictions against hard, soft or partial labels.

``y_true`` is a label matrix (see :mod:`saz.labels`): soft values are binarised at 0.5 for
the classification metrics and kept as they are for MSE and R^2; NaN entries are unknown and
left out of every metric (partial labels). ``y_prob`` holds probabilities in [0, 1].
Averages follow scikit-learn's definitions (zero_division=0), so on fully known hard labels
every number equals scikit-learn's; the tests hold them to that.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, label_ranking_average_precision_score, r2_score, roc_auc_score

from saz.labels import LabelKind, Vocabulary, binarize, label_kind, thresholds_array


def _div(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b > 0)


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Per-entry tp/fp/fn/tn indicator matrices (float), zero where the truth is unknown."""
    known = ~np.isnan(y_true)
    t = np.where(known, y_true, 0) >= 0.5
    p = y_pred >= 0.5
    k = known.astype(np.float64)
    return {
        "tp": (t & p) * k,
        "fp": (~t & p) * k,
        "fn": (t & ~p) * k,
        "tn": (~t & ~p) * k,
    }


def prf_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    precision = _div(tp, tp + fp)
    recall = _div(tp, tp + fn)
    f1 = _div(2 * tp, 2 * tp + fp + fn)
    return precision, recall, f1


def _ranking_metric(fn, t: np.ndarray, s: np.ndarray) -> float | None:
    """A ranking score on one class's known entries, or None when undefined (one class only)."""
    if t.size == 0 or t.min() == t.max():
        return None
    return float(fn(t, s))


def evaluate(
    y_true: np.ndarray,
    y_prob: np.ndarray,
    vocab: Vocabulary | Sequence[str],
    threshold: float | Sequence[float] | np.ndarray = 0.5,
) -> dict:
    """Every metric of the report as one JSON-ready dict.

    Keys: ``kind``, ``n_clips``, ``micro``/``macro``/``weighted``/``samples`` (precision,
    recall, f1), ``label_accuracy``, ``subset_accuracy``, ``roc_auc``, ``map``, ``lrap``,
    ``mse``/``r2`` (soft labels), ``per_class`` (list of dicts), ``no_positive_classes``.
    """
    names = list(vocab.names if isinstance(vocab, Vocabulary) else vocab)
    y_true = np.asarray(y_true, dtype=np.float64)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    if y_true.shape != y_prob.shape or y_true.ndim != 2 or y_true.shape[1] != len(names):
        raise ValueError(f"shapes differ: labels {y_true.shape}, probabilities {y_prob.shape}, {len(names)} classes")
    kind = label_kind(y_true)
    known = ~np.isnan(y_true)
    t_hard = binarize(y_true, 0.5)
    y_pred = binarize(y_prob, thresholds_array(threshold, len(names))).astype(np.float64)
    c = confusion_counts(t_hard, y_pred)
    tp, fp, fn = (c[k].sum(axis=0) for k in ("tp", "fp", "fn"))
    support = tp + fn
    p_c, r_c, f_c = prf_from_counts(tp, fp, fn)
    out: dict = {"kind": kind.value, "n_clips": int(y_true.shape[0]), "n_classes": len(names)}

    mp, mr, mf = prf_from_counts(tp.sum(), fp.sum(), fn.sum())
    out["micro"] = {"precision": float(mp), "recall": float(mr), "f1": float(mf)}
    out["macro"] = {"precision": float(p_c.mean()), "recall": float(r_c.mean()), "f1": float(f_c.mean())}
    w = _div(support, support.sum())
    out["weighted"] = {"precision": float((p_c * w).sum()), "recall": float((r_c * w).sum()), "f1": float((f_c * w).sum())}
    sp, sr, sf = prf_from_counts(*(c[k].sum(axis=1) for k in ("tp", "fp", "fn")))
    out["samples"] = {"precision": float(sp.mean()), "recall": float(sr.mean()), "f1": float(sf.mean())}

    correct = c["tp"] + c["tn"]
    out["label_accuracy"] = float(correct.sum() / max(known.sum(), 1))
    out["subset_accuracy"] = float(np.mean(correct.sum(axis=1) == known.sum(axis=1)))

    per_class = []
    aps, aucs = [], []
    for j, name in enumerate(names):
        kj = known[:, j]
        tj, sj = t_hard[kj, j], y_prob[kj, j]
        ap = _ranking_metric(average_precision_score, tj, sj)
        auc = _ranking_metric(roc_auc_score, tj, sj)
        aps.append(ap)
        aucs.append(auc)
        per_class.append({
            "class": name, "known": int(kj.sum()), "support": int(support[j]),
            "precision": float(p_c[j]), "recall": float(r_c[j]), "f1": float(f_c[j]),
            "ap": ap, "roc_auc": auc,
        })
    defined_ap = [a for a in aps if a is not None]
    defined_auc = [a for a in aucs if a is not None]
    out["map"] = float(np.mean(defined_ap)) if defined_ap else None
    out["roc_auc"] = float(np.mean(defined_auc)) if defined_auc else None
    full = known.all(axis=1) & (t_hard == 1).any(axis=1)
    out["lrap"] = float(label_ranking_average_precision_score(t_hard[full], y_prob[full])) if full.any() else None
    if kind == LabelKind.SOFT:
        out["mse"] = float(np.mean((y_true - y_prob) ** 2))
        out["r2"] = float(r2_score(y_true, y_prob, multioutput="uniform_average"))
    out["per_class"] = per_class
    out["no_positive_classes"] = [n for n, s in zip(names, support) if s == 0]
    return out


def top1_hits(y_true: np.ndarray, y_prob: np.ndarray) -> np.ndarray:
    """Per clip: whether its most probable class is one that plays (truth >= 0.5; NaN counts as not).

    The score of single-instrument recordings, where one answer is asked for, not a set.
    """
    truth = np.nan_to_num(np.asarray(y_true, dtype=np.float64), nan=0.0) >= 0.5
    return truth[np.arange(len(truth)), np.asarray(y_prob).argmax(axis=1)]


def tune_thresholds(
    y_true: np.ndarray, y_prob: np.ndarray, grid: np.ndarray | None = None, default: float = 0.5
) -> np.ndarray:
    """Per-class threshold maximising F1 on known entries (validation set).

    Classes without a positive keep ``default``. Ties go to the threshold nearest ``default``.
    """
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2) if grid is None else np.asarray(grid)
    y_true = np.asarray(y_true, dtype=np.float64)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    out = np.full(y_true.shape[1], default, dtype=np.float32)
    order = np.argsort(np.abs(grid - default), kind="stable")
    for j in range(y_true.shape[1]):
        k = ~np.isnan(y_true[:, j])
        t = y_true[k, j] >= 0.5
        if not t.any():
            continue
        pred = y_prob[k, j][None, :] >= grid[order][:, None]
        tp = (pred & t).sum(1)
        f1 = _div(2 * tp, pred.sum(1) + t.sum())
        out[j] = grid[order][int(np.argmax(f1))]
    return out



def fpr_thresholds(
    y_true: np.ndarray, y_prob: np.ndarray, rate: float, grid: np.ndarray | None = None, default: float = 1.0
) -> np.ndarray:
    """Per class, the lowest grid threshold at which at most a share ``rate`` of the known
    negatives score at or above it (validation set).

    Set by the negatives alone, so it does not follow the positives when a source the model never
    heard scores them lower than the sources it trained on (``docs/generalisation.md``). Classes
    without a negative keep ``default``.
    """
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2) if grid is None else np.sort(np.asarray(grid))
    y_true = np.asarray(y_true, dtype=np.float64)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    out = np.full(y_true.shape[1], default, dtype=np.float32)
    for j in range(y_true.shape[1]):
        k = ~np.isnan(y_true[:, j])
        neg = y_prob[k, j][y_true[k, j] < 0.5]
        if not len(neg):
            continue
        ok = (neg[None, :] >= grid[:, None]).mean(axis=1) <= rate
        out[j] = grid[int(np.argmax(ok))] if ok.any() else grid[-1]
    return out


def _bootstrap_weights(n: int, n_boot: int, seed: int) -> np.ndarray:
    """How often each of ``n`` clips is drawn in each of ``n_boot`` resamples with replacement."""
    rng = np.random.default_rng(seed)
    return np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)]).astype(np.float64)


def _weighted_macro_f1(counts: dict[str, np.ndarray], W: np.ndarray) -> np.ndarray:
    """Macro-F1 for each bootstrap weight vector (rows of ``W``)."""
    tp, fp, fn = (W @ counts[k] for k in ("tp", "fp", "fn"))
    return _div(2 * tp, 2 * tp + fp + fn).mean(axis=1)


def _weighted_map(t: np.ndarray, s: np.ndarray, known: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Macro average precision for each bootstrap weight vector; classes without positives skipped."""
    per_class = []
    for j in range(t.shape[1]):
        order = np.argsort(-s[:, j], kind="stable")
        wj = W[:, order] * known[order, j]
        tj = t[order, j]
        cum_tp = np.cumsum(wj * tj, axis=1)
        cum_n = np.cumsum(wj, axis=1)
        pos = cum_tp[:, -1]
        ap = _div((wj * tj * _div(cum_tp, cum_n)).sum(axis=1), pos)
        per_class.append(np.where(pos > 0, ap, np.nan))
    return np.nanmean(np.stack(per_class, axis=1), axis=1)


def paired_bootstrap(
    y_true: np.ndarray,
    prob_a: np.ndarray,
    prob_b: np.ndarray,
    threshold_a: float | np.ndarray = 0.5,
    threshold_b: float | np.ndarray = 0.5,
    n_boot: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict:
    """Paired bootstrap over clips of model A minus model B for macro-F1 and mAP.

    Returns per metric: ``a``, ``b``, ``diff``, ``ci`` (1 - alpha percentile interval of the
    difference) and ``p`` (two-sided: twice the smaller tail of the bootstrap differences
    around zero, floored at 1 / n_boot).
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    known = ~np.isnan(y_true)
    t = np.where(known, y_true, 0) >= 0.5
    n, n_classes = y_true.shape
    W = _bootstrap_weights(n, n_boot, seed)
    ones = np.ones((1, n))
    result = {"n_boot": n_boot, "n_clips": n}
    preds = [binarize(p, thresholds_array(th, n_classes)) for p, th in ((prob_a, threshold_a), (prob_b, threshold_b))]
    counts = [confusion_counts(t.astype(np.float64), p) for p in preds]
    for name, stat in (
        ("macro_f1", lambda i, w: _weighted_macro_f1(counts[i], w)),
        ("map", lambda i, w: _weighted_map(t, np.asarray((prob_a, prob_b)[i], dtype=np.float64), known, w)),
    ):
        a, b = float(stat(0, ones)[0]), float(stat(1, ones)[0])
        d = stat(0, W) - stat(1, W)
        lo, hi = np.percentile(d, [100 * alpha / 2, 100 * (1 - alpha / 2)])
        p = 2 * min(np.mean(d <= 0), np.mean(d >= 0))
        result[name] = {"a": a, "b": b, "diff": a - b, "ci": [float(lo), float(hi)], "p": float(min(1.0, max(p, 1 / n_boot)))}
    return result


def bootstrap_intervals(y_true: np.ndarray, y_prob: np.ndarray, thresholds: float | np.ndarray = 0.5,
                        n_boot: int = 2000, seed: int = 0, alpha: float = 0.05) -> dict[str, list[float]]:
    """Percentile intervals (1 - alpha) over clips resampled with replacement, for one model on
    one test set: macro F1 over the classes with a positive in the whole set (the headline number of
    a test where some classes never occur; such a class with no positive in a draw scores 0 in it)
    and top-1 accuracy (the most probable class plays). A small test set says this way how
    far its numbers could move on another draw. (No mAP: a class with no positive in a draw has no
    AP there, and leaving it out moves the mean more than the clips do.)"""
    y_true = np.asarray(y_true, dtype=np.float64)
    t = np.nan_to_num(y_true, nan=0.0) >= 0.5
    n = len(y_true)
    W = _bootstrap_weights(n, n_boot, seed)
    present = t.any(axis=0)
    pred = binarize(y_prob, thresholds_array(thresholds, y_true.shape[1]))
    counts = {k: v[:, present] for k, v in confusion_counts(y_true, pred).items()}
    stats = {"macro_f1_present": _weighted_macro_f1(counts, W), "top1": (W @ top1_hits(y_true, y_prob).astype(np.float64)) / n}
    q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
    return {k: [float(x) for x in np.percentile(v, q)] for k, v in stats.items()}


def annotator_agreement(responses: pd.DataFrame, clip: str = "clip", instrument: str = "instrument",
                        value: str = "value") -> pd.DataFrame:
    """Inter-annotator agreement (HamNava Eq. 1) and confidence factor (Eq. 2) per instrument.

    ``responses`` has one row per (clip, instrument, annotator) with a confidence in [0, 1].
    Eq. 1: for each excerpt, each annotation in turn is the ground truth and the accuracy of the
    other binarised annotations against it is averaged; then averaged over excerpts. Excerpts
    with a single annotation have no agreement and are skipped for it. Eq. 2: the mean of
    2|a - 0.5| (0 for an undecided 0.5, 1 for a certain 0 or 1), averaged per excerpt, then
    over excerpts.
    """
    rows = []
    for inst, g in responses.groupby(instrument, sort=True):
        ags, confs = [], []
        for _, e in g.groupby(clip):
            a = e[value].to_numpy(dtype=np.float64)
            confs.append(np.mean(2 * np.abs(a - 0.5)))
            if a.size >= 2:
                b = a >= 0.5
                same = (b[:, None] == b[None, :]).sum(axis=1) - 1
                ags.append(np.mean(same / (a.size - 1)))
        rows.append({
            "instrument": inst,
            "excerpts": int(g[clip].nunique()),
            "agreement": float(np.mean(ags)) if ags else np.nan,
            "confidence": float(np.mean(confs)),
        })
    return pd.DataFrame(rows, columns=["instrument", "excerpts", "agreement", "confidence"])
