"""Where a model with attention over time listens for each instrument, and how well that agrees
with frame annotations (openmic-attention-review.txt: trained on clip labels only, the weights
"focus on time segments relevant to each instrument label").

:func:`activity_score` scores the weights against frame activity (MedleyDB's instrument
activations): for every clip and class that is active in part of the clip, the ROC AUC of the
attention weights of its steps against whether the class is active in each step (0.5: the
weights know nothing of where it plays; 1: every active step weighs more than every silent one).
:func:`write_attention` writes a map per clip (classes x time) and, with activity, the score.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from saz import io, plots
from saz.datasets import Dataset
from saz.features.dataset import dataset_features
from saz.models.predictor import Predictor
from saz.vocabulary import align_labels


def step_activity(activity: np.ndarray, steps: int) -> np.ndarray:
    """Frame activity ``(frames, classes)`` of one clip as ``(steps, classes)``: a class is active
    in a step when it is in at least half of the frames the step spans."""
    edges = np.linspace(0, len(activity), steps + 1).round().astype(int)
    return np.stack([activity[a:max(b, a + 1)].mean(axis=0) >= 0.5 for a, b in zip(edges[:-1], edges[1:])])


def fit_frames(activity: np.ndarray, n: int) -> np.ndarray:
    """Activity ``(clips, frames, classes)`` cut to the ``n`` frames the model hears, as the
    features cut the audio (:func:`saz.features.dataset.fit_length`: the centre of a longer clip,
    a shorter one padded with silence at the end)."""
    if activity.shape[1] >= n:
        start = (activity.shape[1] - n) // 2
        return activity[:, start:start + n]
    return np.pad(activity, ((0, 0), (0, n - activity.shape[1]), (0, 0)))


def _auc(scores: np.ndarray, active: np.ndarray) -> float:
    """ROC AUC of ``scores`` for ``active`` steps (ties count a half)."""
    pos, neg = scores[active], scores[~active]
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def activity_score(weights: np.ndarray, activity: np.ndarray, classes: list[str]) -> dict:
    """Mean ROC AUC of the attention ``weights`` ``(n, steps, C)`` against ``activity``
    ``(n, frames, C)`` over the (clip, class) pairs active in part of their clip, per class and
    over all; pairs always or never active are left out (no ranking to score)."""
    per: dict[str, list[float]] = {c: [] for c in classes}
    for w, act in zip(weights, activity):
        steps = step_activity(np.nan_to_num(act, nan=0.0), len(w))
        for j, c in enumerate(classes):
            if 0 < steps[:, j].sum() < len(steps):
                per[c].append(_auc(w[:, j], steps[:, j]))
    scored = [v for vs in per.values() for v in vs]
    return {"pairs": len(scored), "mean_auc": float(np.mean(scored)) if scored else None,
            "per_class": {c: {"pairs": len(v), "mean_auc": float(np.mean(v))} for c, v in per.items() if v}}


def write_attention(predictor: Predictor, ds: Dataset, out_dir: str | Path, n_maps: int = 4,
                    cache_dir: str | Path | None = None) -> dict[str, Path]:
    """Attention maps of the first ``n_maps`` clips of ``ds`` (``attention/<clip>.png``) and, when
    ``ds`` has frame activity, ``attention/activity_score.json`` (:func:`activity_score`)."""
    X, _, ok, _ = dataset_features(ds, predictor.feature, predictor.seconds, cache_dir, progress=False)
    weights = predictor.attention_weights(X)
    out = Path(out_dir) / "attention"
    ids = np.array(ds.ids)[ok]
    names = list(predictor.vocab.names)
    written = {}
    for i in range(min(n_maps, len(X))):
        step = predictor.seconds / weights.shape[1]
        fig = plots.attention_map(weights[i], names, step, f"{ids[i]}: attention over time")
        written[f"map_{i}"] = io.save_figure(out / f"{i:02d}.png", fig)
        plots.close(fig)
    if ds.labels.activity is not None:
        act = fit_frames(ds.labels.activity[ok], int(round(predictor.seconds * ds.labels.frame_rate)))
        aligned, _ = align_labels(act.reshape(-1, act.shape[2]), ds.vocab, predictor.vocab)
        score = activity_score(weights, aligned.reshape(len(act), act.shape[1], -1), names)
        written["score"] = io.write_json(out / "activity_score.json", score)
    return written


def file_attention(predictor: Predictor, path: str | Path) -> tuple[np.ndarray, float]:
    """Attention weights over a whole recording: its consecutive windows of the model's length
    (the last zero-padded), each window's weights in turn, ``(steps, classes)``; and the seconds
    per step."""
    from saz import audio
    from saz.features.dataset import fit_length

    y, sr = audio.load(path, predictor.feature.sr)
    n = int(round(predictor.seconds * sr))
    windows = np.stack([fit_length(y[i:i + n], n) for i in range(0, max(len(y), 1), n)]).astype(np.float32)
    weights = predictor.attention_weights(predictor.feature(windows))
    return weights.reshape(-1, weights.shape[2]), predictor.seconds / weights.shape[1]


def plot_file_attention(predictor: Predictor, path: str | Path, out: str | Path) -> Path:
    """``out``: the attention map of the recording at ``path`` (:func:`file_attention`)."""
    weights, step = file_attention(predictor, path)
    fig = plots.attention_map(weights, list(predictor.vocab.names), step, f"{Path(path).name}: attention over time "
                              f"(per {predictor.seconds:g}-s window)")
    try:
        return io.save_figure(out, fig)
    finally:
        plots.close(fig)
