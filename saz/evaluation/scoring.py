"""Evaluate a checkpoint on a dataset split: metrics, report files and the raw predictions.

The dataset's classes are matched to the model's by name (aliases resolve): a model class the
dataset does not annotate is scored as unknown (NaN), a dataset class the model does not know
is dropped and listed. The protocol stored in the checkpoint decides the truth (binarised for
``hard`` and ``soft-train-hard-eval``) and the thresholds (tuned ones, or 0.5 for the soft
protocols). A clip longer than the model's window is scored, by default, the way ``saz predict``
hears a recording: every window of it, probabilities maxed over windows (``long_clips="windows"``);
``"centre"`` scores only the window at its centre, the fixed-length features training uses.
A dataset with frame activity (MedleyDB, saz-bench with ``activity=true``) also gets segment- and
event-based scores of the timeline (:mod:`saz.evaluation.timeline`) in the report.
``per_clip.csv`` lists each clip's true and predicted labels with its TP, FN and FP by name.
``predictions.npz`` keeps clip ids, truth, probabilities and thresholds so that
:mod:`saz.evaluation.compare` can run paired tests between models later.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from saz import io, metrics, report
from saz.datasets.base import Dataset
from saz.evaluation.dataset_stats import clip_table
from saz.evaluation.timeline import timeline_scores
from saz.features.dataset import dataset_features
from saz.models.predictor import Predictor
from saz.models.train import evaluation_truth
from saz.prediction import Prediction
from saz.vocabulary import align_labels

LONG_CLIPS = ("windows", "centre")


def long_clips_of(predictor: Predictor, clips: pd.DataFrame) -> list[int]:
    """The rows of ``clips`` whose clip is longer than the model's window."""
    from saz.features.dataset import clip_seconds

    return [i for i in range(len(clips)) if (clip_seconds(clips.iloc[i]) or 0.0) > predictor.seconds + 1.0 / predictor.feature.sr]


def window_predictions(predictor: Predictor, clips: pd.DataFrame, rows: list[int]) -> dict[int, Prediction]:
    """:func:`saz.prediction.predict_many` over every window of the clips at ``rows``, by row."""
    from saz.features.dataset import read_clip
    from saz.prediction import predict_many

    sr = predictor.feature.sr
    return dict(zip(rows, predict_many((read_clip(clips.iloc[i], sr) for i in rows), predictor, sr=sr)))


def whole_clip_probabilities(predictor: Predictor, clips: pd.DataFrame, prob: np.ndarray,
                             predictions: dict[int, Prediction] | None = None) -> int:
    """Replace the rows of ``prob`` (one per row of ``clips``) of clips longer than the model's
    window by the maximum over all their windows, as :func:`saz.prediction.predict_many` computes
    it (taken from ``predictions`` by row where given); returns how many clips that was."""
    long = long_clips_of(predictor, clips)
    if predictions is None:
        predictions = window_predictions(predictor, clips, long)
    for i in long:
        if predictions[i].ok:
            prob[i] = predictions[i].probabilities
    return len(long)


def _timeline(predictor: Predictor, ds: Dataset, ok: np.ndarray, predictions: dict[int, Prediction],
              thresholds: np.ndarray) -> dict | None:
    """Scores of the clips' timelines against the dataset's frame activity (in the model's
    classes), or None when the dataset has none."""
    if ds.labels.activity is None:
        return None
    act = ds.labels.activity[ok]
    aligned, _ = align_labels(act.reshape(-1, act.shape[2]), ds.vocab, predictor.vocab)
    return timeline_scores([predictions.get(i) for i in range(len(act))], aligned.reshape(len(act), act.shape[1], -1),
                           ds.labels.frame_rate, thresholds)


def evaluate_checkpoint(predictor: Predictor, ds: Dataset, out_dir: str | Path, protocol: str | None = None,
                        cache_dir: str | Path | None = None, progress: bool = True, title: str | None = None,
                        long_clips: str = "windows", profile: str | None = None, threshold: float | None = None,
                        binarize: str | None = None, figures: bool = True) -> metrics.Evaluation:
    """Score ``predictor`` on ``ds`` (with the thresholds of its threshold ``profile``, if given;
    with ``threshold``, that one for every class, as HamNava's paper scores at 0.5); soft truth is
    made hard by ``binarize`` ("ge": >= 0.5, "gt": > 0.5; default: the rule the model trained with);
    writes report.json/.md, plots (unless ``figures`` is False) and predictions.npz to ``out_dir``. A dataset with frame
    activity also gets its timeline scored (:mod:`saz.evaluation.timeline`): every clip is then
    predicted window by window."""
    if long_clips not in LONG_CLIPS:
        raise ValueError(f"long_clips must be one of {', '.join(LONG_CLIPS)} (got '{long_clips}')")
    protocol = protocol or predictor.info.get("protocol", "auto")
    X, y, ok, problems = dataset_features(ds, predictor.feature, predictor.seconds, cache_dir, progress)
    if len(X) == 0:
        raise ValueError(f"{ds.name}: no clip could be decoded ({len(problems)} problems)")
    y, dropped = align_labels(y, ds.vocab, predictor.vocab)
    binarize = binarize or predictor.info.get("config", {}).get("binarize", "ge")
    truth = evaluation_truth(y, protocol, binarize)
    thresholds = predictor.thresholds_for(profile)
    thresholds = thresholds if protocol in ("auto", "hard") else np.full(len(predictor.vocab), 0.5, np.float32)
    if threshold is not None:
        thresholds = np.full(len(predictor.vocab), threshold, np.float32)
    prob = predictor.probabilities(X)
    clips = ds.clips[ok]
    timed = list(range(len(clips))) if ds.labels.activity is not None else []
    windowed = long_clips_of(predictor, clips) if long_clips == "windows" else []
    predictions = window_predictions(predictor, clips, sorted(set(timed) | set(windowed)))
    n_long = whole_clip_probabilities(predictor, clips, prob, predictions) if long_clips == "windows" else 0
    result = metrics.evaluate(truth, prob, predictor.vocab, thresholds)
    result.timeline = _timeline(predictor, ds, ok, predictions, thresholds)
    result.run = metrics.EvaluationRun(model=predictor.name, seed=predictor.info.get("config", {}).get("seed"),
                                       checkpoint=predictor.source, dataset=ds.name, root=str(ds.root),
                                       protocol=protocol, long_clips=long_clips, windowed_clips=n_long,
                                       dropped_classes=dropped, skipped_clips=problems, threshold=threshold,
                                       binarize=binarize)
    out = Path(out_dir)
    report.write_report(result, out, truth, prob, title=title or f"{predictor.name} on {ds.name}", figures=figures)
    ids = np.array(ds.ids, dtype=str)[ok]
    io.atomic_write(out / "predictions.npz", lambda f: np.savez(f, ids=ids, y_true=truth, y_prob=prob, thresholds=thresholds,
                                                                  classes=np.array(predictor.vocab.names, dtype=str)))
    table = clip_table(ids, truth, prob >= thresholds, list(predictor.vocab.names))
    io.write_text(out / "per_clip.csv", table.to_csv(index=False))
    return result
