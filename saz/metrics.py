"""Scores for multi-label predictions against hard, soft or partial labels.

``y_true`` is a label matrix (see :mod:`saz.labels`): soft values are binarised at 0.5 for
the classification metrics and kept as they are for MSE and R^2; NaN entries are unknown and
left out of every metric (partial labels). ``y_prob`` holds probabilities in [0, 1].
Averages follow scikit-learn's definitions (zero_division=0), so on fully known hard labels
every number equals scikit-learn's; the tests hold them to that.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, label_ranking_average_precision_score, r2_score, roc_auc_score

from saz.labels import LabelKind, Vocabulary, binarize, label_kind, thresholds_array

AVERAGES = ("micro", "macro", "weighted", "samples")  # the averagings of precision, recall and F1
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)  # the thresholds tuning tries
_OPTIONAL_RUN_KEYS = ("long_clips", "windowed_clips", "threshold", "binarize")  # absent from reports older than them


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


@dataclass(frozen=True)
class Averages:
    """Precision, recall and F1 under one averaging (micro, macro, weighted or samples)."""

    precision: float
    recall: float
    f1: float

    def to_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Averages:
        return cls(d["precision"], d["recall"], d["f1"])


@dataclass(frozen=True)
class ClassScore:
    """One class's scores; ``ap`` and ``roc_auc`` are None where undefined (one truth value only)."""

    name: str
    known: int  # clips whose truth for the class is known
    support: int  # known positives
    precision: float
    recall: float
    f1: float
    ap: float | None
    roc_auc: float | None
    accuracy: float | None = None  # share of the known clips decided right (HamNava Table 3)
    mse: float | None = None       # soft labels: mean squared error of the probabilities (HamNava Table 3)
    r2: float | None = None        # soft labels: R^2 of the probabilities

    def to_dict(self) -> dict[str, Any]:
        return {"class": self.name, "known": self.known, "support": self.support, "precision": self.precision,
                "recall": self.recall, "f1": self.f1, "ap": self.ap, "roc_auc": self.roc_auc,
                "accuracy": self.accuracy, "mse": self.mse, "r2": self.r2}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClassScore:
        return cls(d["class"], d["known"], d["support"], d["precision"], d["recall"], d["f1"], d["ap"], d["roc_auc"],
                   d.get("accuracy"), d.get("mse"), d.get("r2"))


@dataclass(frozen=True)
class EvaluationRun:
    """What was scored, and how: set by :func:`saz.evaluation.evaluate_checkpoint`.

    ``long_clips`` and ``windowed_clips`` are None in reports written before saz scored long clips
    over all their windows; they are left out of the JSON then."""

    model: str
    seed: int | None
    checkpoint: str
    dataset: str
    root: str
    protocol: str
    long_clips: str | None = None
    windowed_clips: int | None = None
    dropped_classes: list[str] = field(default_factory=list)
    skipped_clips: list[str] = field(default_factory=list)
    threshold: float | None = None  # one threshold for every class (``saz evaluate --threshold``); None: the tuned ones
    binarize: str | None = None     # how soft truth was made hard: "ge" (>= 0.5) or "gt" (> 0.5)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None or k not in _OPTIONAL_RUN_KEYS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EvaluationRun:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


@dataclass
class Evaluation:
    """Every metric of the report (:func:`evaluate`); :meth:`to_dict` is the ``report.json`` layout.

    ``map``, ``roc_auc`` and ``lrap`` are None when no class defines them; ``mse`` and ``r2`` are
    set for soft labels only; ``run`` says what was scored when a checkpoint was evaluated on a
    dataset; ``timeline`` holds the scores of its timeline against frame annotations, for a
    dataset that has them (:func:`saz.evaluation.timeline.timeline_scores`)."""

    kind: LabelKind
    n_clips: int
    n_classes: int
    micro: Averages
    macro: Averages
    weighted: Averages
    samples: Averages
    label_accuracy: float
    subset_accuracy: float
    map: float | None
    roc_auc: float | None
    lrap: float | None
    per_class: list[ClassScore]
    no_positive_classes: list[str]
    mse: float | None = None
    r2: float | None = None
    run: EvaluationRun | None = None
    timeline: dict[str, Any] | None = None

    @property
    def n_present(self) -> int:
        """How many classes have a positive clip here (the classes an F1 is defined for)."""
        return sum(c.support > 0 for c in self.per_class)

    @property
    def macro_present(self) -> Averages:
        """Macro precision, recall and F1 over the classes with a positive clip (0 when none has):
        the headline of a set that labels only some classes, which the plain macro average (a
        class absent from the set counts as 0 there) would cap at the share of classes it labels."""
        present = [c for c in self.per_class if c.support > 0]
        if not present:
            return Averages(0.0, 0.0, 0.0)
        return Averages(*(float(np.mean([getattr(c, k) for c in present])) for k in ("precision", "recall", "f1")))

    @property
    def macro_f1_present(self) -> float:
        """The F1 of :attr:`macro_present`."""
        return self.macro_present.f1

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict (the layout of ``report.json``; keys in their order there)."""
        d: dict[str, Any] = {"kind": self.kind.value, "n_clips": self.n_clips, "n_classes": self.n_classes}
        d.update({avg: getattr(self, avg).to_dict() for avg in AVERAGES})
        d.update(label_accuracy=self.label_accuracy, subset_accuracy=self.subset_accuracy, map=self.map,
                 roc_auc=self.roc_auc, lrap=self.lrap)
        if self.mse is not None:
            d.update(mse=self.mse, r2=self.r2)
        d.update(per_class=[c.to_dict() for c in self.per_class], no_positive_classes=list(self.no_positive_classes))
        if self.timeline is not None:
            d["timeline"] = self.timeline
        if self.run is not None:
            d["run"] = self.run.to_dict()
        return d

    def subset(self, *keys: str) -> dict[str, Any]:
        """The named keys of :meth:`to_dict` that this result has, in that order (e.g. the
        validation summary a checkpoint keeps)."""
        d = self.to_dict()
        return {k: d[k] for k in keys if k in d}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evaluation:
        """The result of a ``report.json`` (as :meth:`to_dict` wrote it)."""
        return cls(
            LabelKind(d["kind"]), d["n_clips"], d["n_classes"], *(Averages.from_dict(d[a]) for a in AVERAGES),
            d["label_accuracy"], d["subset_accuracy"], d["map"], d["roc_auc"], d["lrap"],
            [ClassScore.from_dict(c) for c in d["per_class"]], list(d["no_positive_classes"]), d.get("mse"), d.get("r2"),
            EvaluationRun.from_dict(d["run"]) if "run" in d else None, d.get("timeline"))


def _averages(c: dict[str, np.ndarray], p_c: np.ndarray, r_c: np.ndarray, f_c: np.ndarray,
              support: np.ndarray) -> dict[str, Averages]:
    """Micro, macro, support-weighted and per-sample averages of precision, recall and F1."""
    mp, mr, mf = prf_from_counts(*(c[k].sum() for k in ("tp", "fp", "fn")))
    w = _div(support, support.sum())
    sp, sr, sf = prf_from_counts(*(c[k].sum(axis=1) for k in ("tp", "fp", "fn")))
    return {
        "micro": Averages(float(mp), float(mr), float(mf)),
        "macro": Averages(float(p_c.mean()), float(r_c.mean()), float(f_c.mean())),
        "weighted": Averages(float((p_c * w).sum()), float((r_c * w).sum()), float((f_c * w).sum())),
        "samples": Averages(float(sp.mean()), float(sr.mean()), float(sf.mean())),
    }


def _mean_defined(values: list[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


def evaluate(
    y_true: np.ndarray,
    y_prob: np.ndarray,
    vocab: Vocabulary | Sequence[str],
    threshold: float | Sequence[float] | np.ndarray = 0.5,
) -> Evaluation:
    """Every metric of the report as an :class:`Evaluation` (``to_dict()`` for JSON): micro, macro,
    weighted and per-sample averages, label and subset accuracy, ROC-AUC, mAP, LRAP, MSE and R^2
    (soft labels), scores per class and the classes without a positive."""
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
    correct = c["tp"] + c["tn"]
    soft = kind == LabelKind.SOFT
    per_class = []
    for j, name in enumerate(names):
        k = known[:, j]
        tj, sj = t_hard[k, j], y_prob[k, j]
        per_class.append(ClassScore(name, int(k.sum()), int(support[j]), float(p_c[j]), float(r_c[j]),
                                    float(f_c[j]), _ranking_metric(average_precision_score, tj, sj),
                                    _ranking_metric(roc_auc_score, tj, sj),
                                    float(correct[:, j].sum() / k.sum()) if k.any() else None,
                                    *(_soft_scores(y_true[k, j], sj) if soft else (None, None))))
    full = known.all(axis=1) & (t_hard == 1).any(axis=1)
    return Evaluation(
        kind, int(y_true.shape[0]), len(names), **_averages(c, p_c, r_c, f_c, support),
        label_accuracy=float(correct.sum() / max(known.sum(), 1)),
        subset_accuracy=float(np.mean(correct.sum(axis=1) == known.sum(axis=1))),
        map=_mean_defined([s.ap for s in per_class]), roc_auc=_mean_defined([s.roc_auc for s in per_class]),
        lrap=float(label_ranking_average_precision_score(t_hard[full], y_prob[full])) if full.any() else None,
        per_class=per_class, no_positive_classes=[n for n, s in zip(names, support) if s == 0],
        mse=float(np.mean((y_true - y_prob) ** 2)) if soft else None,
        r2=float(r2_score(y_true, y_prob, multioutput="uniform_average")) if soft else None,
    )


def _soft_scores(truth: np.ndarray, prob: np.ndarray) -> tuple[float | None, float | None]:
    """MSE and R^2 of one class's probabilities against its soft truth (R^2 None for a constant truth)."""
    if not len(truth):
        return None, None
    r2 = float(r2_score(truth, prob)) if len(truth) > 1 and np.ptp(truth) > 0 else None
    return float(np.mean((truth - prob) ** 2)), r2


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
    grid = THRESHOLD_GRID if grid is None else np.asarray(grid)
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



def threshold_collapse(thresholds: np.ndarray) -> str | None:
    """A warning when more than half of the ``thresholds`` sit at the lowest the tuning tries
    (:data:`THRESHOLD_GRID`): F1 was then best with the model saying "present" for nearly every
    clip (too few or too alike validation clips, or a model that has not learned), and an F1 read
    at those thresholds says little; None otherwise."""
    t = np.asarray(thresholds, dtype=np.float64)
    low = int((t <= THRESHOLD_GRID[0] + 1e-6).sum())
    if 2 * low <= len(t):
        return None
    return (f"{low} of {len(t)} thresholds at or below {THRESHOLD_GRID[0]:g}, the lowest tuning tries: the model "
            "calls nearly everything present, so F1 at these thresholds says little (too few validation clips, "
            "or a model that has not learned?)")


def fpr_thresholds(
    y_true: np.ndarray, y_prob: np.ndarray, rate: float, grid: np.ndarray | None = None, default: float = 1.0
) -> np.ndarray:
    """Per class, the lowest grid threshold at which at most a share ``rate`` of the known
    negatives score at or above it (validation set).

    Set by the negatives alone, so it does not follow the positives when a source the model never
    heard scores them lower than the sources it trained on (``docs/models.md``). Classes
    without a negative keep ``default``.
    """
    grid = THRESHOLD_GRID if grid is None else np.sort(np.asarray(grid))
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


def paired_bootstrap_mean(a: np.ndarray, b: np.ndarray, n_boot: int = 2000, seed: int = 0) -> dict:
    """Paired bootstrap over clips of the mean of per-clip scores ``a`` minus ``b`` (squared
    errors, hits): ``diff`` and a two-sided ``p`` as :func:`paired_bootstrap` computes it."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    W = _bootstrap_weights(len(a), n_boot, seed)
    d = (W @ (a - b)) / len(a)
    p = 2 * min(np.mean(d <= 0), np.mean(d >= 0))
    return {"diff": float(np.mean(a - b)), "p": float(min(1.0, max(p, 1 / n_boot)))}
