"""Variants x seeds through :func:`saz.study.trial.run_trial`, scored and summarised.

Scorings: ``single`` (accuracy and macro F1 of the arg-max class, a confusion matrix),
``regression`` (MSE and R^2 against soft truth: HamNava 2a), ``binary`` (label accuracy and macro
F1 at 0.5 against truth binarised at 0.5: HamNava 2b and 2c). Every variant gets mean ± std over
seeds (:func:`saz.evaluation.compare.mean_std`), and a paired bootstrap p-value against the best
variant on the first seed's test predictions (macro F1 by :func:`saz.metrics.paired_bootstrap`,
MSE by :func:`saz.metrics.paired_bootstrap_mean` of per-clip squared errors).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, r2_score

from saz import io, metrics
from saz.evaluation.compare import mean_std
from saz.labels import binarize
from saz.models.train import digest
from saz.study.data import Task
from saz.study.trial import Trial, run_trial

Mapper = Callable[[Callable, Iterable], Iterable]
HEADLINE = {"single": ("macro_f1", True), "regression": ("mse", False), "binary": ("macro_f1", True)}


@dataclass
class Case:
    """One variant of a study: a task (one layer, one clip length) and the head trained on it."""

    variant: str
    task: Task
    head: str
    hidden_layers: int = 0


def _trial_key(t: Trial) -> str:
    """A fingerprint of everything that decides a trial's outputs."""
    arrays = (np.ascontiguousarray(a, np.float32).tobytes() for a in (t.X_train, t.y_train, t.X_val, t.y_val, t.X_test))
    settings = f"{t.variant}|{t.head}|{t.hidden_layers}|{t.hidden_size}|{t.epochs}|{t.lr}|{t.batch_size}|{t.seed}"
    return digest(settings.encode(), *arrays)


def _stored(store: Path | None, key: str) -> dict | None:
    path = None if store is None else store / f"{key}.npz"
    if path is None or not path.exists():
        return None
    with np.load(path, allow_pickle=False) as z:
        return {"variant": str(z["variant"]), "seed": int(z["seed"]), "prob": z["prob"], "best_epoch": int(z["best_epoch"])}


def train_cases(cases: list[Case], seeds: list[int], epochs: int, lr: float, map_fn: Mapper = map,
                store: str | Path | None = None) -> dict[str, list[dict]]:
    """Every case for every seed (``map_fn``: the engine, the built-in ``map`` by default); outputs
    by variant. With ``store``, each trial's outputs are kept there (one ``.npz`` by fingerprint),
    so a rerun after an interruption trains only the trials not yet done."""
    store = None if store is None else Path(store)
    trials = [Trial(c.variant, c.head, c.task.X["train"], c.task.y["train"], c.task.X["validation"],
                  c.task.y["validation"], c.task.X["test"], c.hidden_layers, epochs=epochs, lr=lr, seed=s)
              for c in cases for s in seeds]
    keys = [_trial_key(t) for t in trials]
    done = {k: r for k in keys if (r := _stored(store, k)) is not None}
    todo = [(k, t) for k, t in zip(keys, trials) if k not in done]
    for k, r in zip((k for k, _ in todo), map_fn(run_trial, [t for _, t in todo])):
        if store is not None:
            io.atomic_write(store / f"{k}.npz", lambda f, r=r: np.savez(f, **r))
        done[k] = r
    out: dict[str, list[dict]] = {c.variant: [] for c in cases}
    for k in keys:
        out[done[k]["variant"]].append(done[k])
    return out


def score(scoring: str, y: np.ndarray, prob: np.ndarray) -> dict:
    """The scores of one trial's test outputs, per clip (``per_clip``) and per class."""
    if scoring == "single":
        t, p = y.argmax(1), prob.argmax(1)
        return {"accuracy": float((t == p).mean()), "macro_f1": float(f1_score(t, p, average="macro", zero_division=0)),
                "per_clip": (t == p).astype(float), "per_class_f1": f1_score(t, p, average=None, labels=range(y.shape[1]),
                                                                             zero_division=0).tolist()}
    if scoring == "regression":
        err = (prob - y) ** 2
        return {"mse": float(err.mean()), "r2": float(r2_score(y, prob)), "per_clip": err.mean(1),
                "per_class_mse": err.mean(0).tolist(), "per_class_r2": r2_score(y, prob, multioutput="raw_values").tolist()}
    t, p = binarize(y), binarize(prob)
    ev = metrics.evaluate(t, prob, [str(j) for j in range(y.shape[1])], 0.5)
    return {"accuracy": ev.label_accuracy, "macro_f1": ev.macro.f1, "micro_f1": ev.micro.f1,
            "per_class_accuracy": (t == p).mean(0).tolist(), "per_class_f1": [c.f1 for c in ev.per_class]}


def _p_value(scoring: str, y: np.ndarray, best: dict, other: dict) -> float:
    if scoring == "regression":
        return metrics.paired_bootstrap_mean(other["score"]["per_clip"], best["score"]["per_clip"])["p"]
    a, b = best["prob"], other["prob"]
    if scoring == "single":
        a, b = (np.eye(y.shape[1], dtype=np.float32)[p.argmax(1)] for p in (a, b))
    return metrics.paired_bootstrap(binarize(y), a, b)["macro_f1"]["p"]


def summarise(outputs: dict[str, list[dict]], y_test: dict[str, np.ndarray], scoring: str, classes: list[str]) -> dict:
    """Mean ± std over seeds of every score, per-class means, and p against the best (see module)."""
    key, higher = HEADLINE[scoring]
    variants = {}
    for v, runs in outputs.items():
        for r in runs:
            r["score"] = score(scoring, y_test[v], r["prob"])
        entry = {"seeds": [r["seed"] for r in runs], "best_epochs": [r["best_epoch"] for r in runs]}
        for name in (k for k, x in runs[0]["score"].items() if isinstance(x, float)):
            vals = [r["score"][name] for r in runs]
            entry[name] = {"values": vals, "mean": mean_std(vals)[0], "std": mean_std(vals)[1]}
        for name in (k for k in runs[0]["score"] if k.startswith("per_class_")):
            entry[name] = dict(zip(classes, np.mean([r["score"][name] for r in runs], axis=0).tolist()))
        if scoring == "single":
            r = runs[0]
            entry["confusion"] = confusion_matrix(y_test[v].argmax(1), r["prob"].argmax(1), labels=range(len(classes))).tolist()
        variants[v] = entry
    best = (max if higher else min)(variants, key=lambda v: variants[v][key]["mean"])
    for v, e in variants.items():
        if v != best and y_test[v].shape == y_test[best].shape:  # other clips (another length): no pairing
            e["p_vs_best"] = _p_value(scoring, y_test[v], outputs[best][0], outputs[v][0])
    return {"scoring": scoring, "metric": key, "best": best, "classes": classes, "variants": variants}
