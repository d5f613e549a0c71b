"""Figures shared by reports, dataset summaries and predictions (matplotlib, headless)."""

from __future__ import annotations

from typing import Sequence

import matplotlib
import matplotlib.patches

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def cooccurrence(y: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Row-normalised co-occurrence in percent: of the clips with class i, how many have j.

    Labels are binarised at ``threshold`` (hamnava-dataset-paper.txt Figure 4); unknown
    entries count as absent. The diagonal is 100 for every class that occurs.
    """
    b = (np.nan_to_num(np.asarray(y, dtype=np.float64), nan=0.0) >= threshold).astype(np.float64)
    counts = b.T @ b
    diag = np.diag(counts).copy()
    return np.divide(100 * counts, diag[:, None], out=np.zeros_like(counts), where=diag[:, None] > 0)


def heatmap(matrix: np.ndarray, rows: Sequence[str], cols: Sequence[str], title: str,
            fmt: str = "{:.0f}", cmap: str = "Blues", xlabel: str = "", ylabel: str = "") -> Figure:
    """Annotated heatmap; cell text is drawn only when the matrix is small enough to read."""
    n_r, n_c = matrix.shape
    fig, ax = plt.subplots(figsize=(max(4, 0.5 * n_c + 2), max(3, 0.45 * n_r + 1.5)))
    im = ax.imshow(matrix, cmap=cmap, aspect="auto")
    ax.set_xticks(range(n_c), cols, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n_r), rows, fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if n_r * n_c <= 900:
        peak = np.nanmax(matrix) if matrix.size else 0
        for i in range(n_r):
            for j in range(n_c):
                if not np.isfinite(matrix[i, j]):
                    continue  # no value: an empty cell
                ax.text(j, i, fmt.format(matrix[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if matrix[i, j] > 0.6 * peak else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def bars(values: Sequence[float], names: Sequence[str], title: str, ylabel: str) -> Figure:
    """Vertical bar chart, one bar per class."""
    fig, ax = plt.subplots(figsize=(max(5, 0.4 * len(names) + 2), 3.5))
    ax.bar(range(len(names)), values, color="#3b75af")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def histogram(values: np.ndarray, title: str, xlabel: str, bins: int = 20) -> Figure:
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.hist(values, bins=bins, range=(0, 1), color="#3b75af", edgecolor="white")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def boxplots(values: dict[str, dict[str, Sequence[float]]], title: str) -> Figure:
    """One panel per metric, one box per model: ``values[model][metric]`` over seeds."""
    models = list(values)
    metrics = list(next(iter(values.values())))
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 3.6), sharey=True)
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        ax.boxplot([values[m][metric] for m in models], showmeans=True)
        ax.set_xticks(range(1, len(models) + 1), models, rotation=60, ha="right", fontsize=8)
        ax.set_title(metric.replace("_", " "))
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def heard_at(starts: np.ndarray, window: float, duration: float, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The time axis cut at every window's start and end, and per stretch and class the highest
    probability of the windows that hear it: ``(edges, values)``, values ``(stretches, classes)``.

    So a moment is drawn as the file's answer reads it (a segment spans its windows, the file's
    probability is its best window's): a colour above a class's threshold lies exactly inside an
    outlined segment, and one stretch of music gets one colour whichever window it fell in.
    """
    starts = np.asarray(starts, dtype=np.float64)
    duration = max(float(duration), float(starts[-1]) + 1e-3)
    edges = np.unique(np.concatenate([[0.0, duration], starts, np.minimum(starts + window, duration)]))
    values = np.zeros((len(edges) - 1, probs.shape[1]), dtype=np.float64)
    for s, p in zip(starts, probs):
        lo, hi = np.searchsorted(edges, [s, min(s + window, duration)])
        values[lo:hi] = np.maximum(values[lo:hi], p)
    return edges, values


def timeline(envelope: np.ndarray, envelope_rate: float, duration: float, starts: np.ndarray, window: float,
             probs: np.ndarray, classes: Sequence[str], segments: Sequence[tuple[int, float, float]], title: str,
             note: str = "") -> Figure:
    """Waveform envelope above an instruments-by-time activity map (:func:`heard_at`), with a
    legend: colour is probability, an outline a segment above the class's threshold; ``note``
    (the classes not drawn, say) is written under it.

    ``probs`` is (windows, classes) for windows starting at ``starts`` (seconds); ``segments``
    holds (row, start, end) in rows of ``classes``.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 2.9 + 0.28 * len(classes)), sharex=True,
                                      gridspec_kw={"height_ratios": [1, max(1.5, 0.18 * len(classes))]})
    fig.subplots_adjust(bottom=0.1 + 0.25 / (1 + 0.28 * len(classes)))  # room for the note
    t = np.arange(len(envelope)) / envelope_rate
    top.fill_between(t, -envelope, envelope, color="#555555", linewidth=0)
    top.set_ylabel("amplitude")
    top.set_ylim(-1, 1)
    top.set_title(title)
    edges, values = heard_at(starts, window, duration, probs)
    mesh = bottom.pcolormesh(edges, np.arange(len(classes) + 1), values.T, cmap="magma", vmin=0, vmax=1, shading="flat")
    outline = {"fill": False, "edgecolor": "#35d0ff", "linewidth": 1.5}
    for row, start, end in segments:
        bottom.add_patch(matplotlib.patches.Rectangle((start, row + 0.1), end - start, 0.8, **outline))
    bottom.set_yticks(np.arange(len(classes)) + 0.5, classes, fontsize=8)
    bottom.set_ylim(len(classes), 0)
    bottom.set_xlim(0, edges[-1])
    bottom.set_xlabel("time (s)")
    fig.colorbar(mesh, ax=[top, bottom], label="probability (colour): the best window hearing that moment",
                 fraction=0.03, pad=0.01)
    fig.legend(handles=[matplotlib.patches.Patch(label="outline: above the class's threshold (detected)", **outline)],
               loc="upper right", fontsize=8, frameon=False)
    fig.text(0.01, 0.01, note, fontsize=7, va="bottom", wrap=True)
    return fig


def close(fig: Figure) -> None:
    plt.close(fig)


def training_curve(log: pd.DataFrame, previous: list[dict] | None = None, title: str = "training curve") -> Figure:
    """Validation macro F1 (over the classes present, at the thresholds tuned each epoch) and mAP
    per epoch of a training ``log`` (``log.csv`` of a run), with training loss on a second axis.
    ``previous`` (the ``--init`` checkpoint's own history) is drawn first, so a model trained in
    several runs shows one curve, a dotted line where this run starts (an older history, which
    logged another F1, draws no F1 before it)."""
    before = pd.DataFrame(previous or [], columns=log.columns)
    df = pd.concat([before, log.assign(epoch=log["epoch"] + len(before))], ignore_index=True)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(df["epoch"], df["val_macro_f1_present"], label="validation macro F1 (present classes)")
    ax.plot(df["epoch"], df["val_map"], label="validation mAP")
    if len(before):
        ax.axvline(len(before) + 0.5, color="black", linestyle=":", linewidth=1, label="restart from --init")
    ax.set_xlabel("epoch")
    ax.set_ylim(0, 1)
    ax2 = ax.twinx()
    ax2.plot(df["epoch"], df["train_loss"], color="grey", linestyle=":", label="training loss")
    ax2.set_ylabel("training loss")
    ax.legend(loc="lower right")
    ax.set_title(title)
    return fig


def loss_curves(log: pd.DataFrame, title: str = "training and validation loss") -> Figure:
    """Training and validation loss per epoch of a training ``log`` (``log.csv``): the curves
    medleydb-cnn-report.txt Figure 4.1 shows, and the criterion of loss-based early stopping."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for column, label in (("train_loss", "training loss"), ("val_loss", "validation loss")):
        if column in log.columns:
            ax.plot(log["epoch"], log[column], marker="o", markersize=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(loc="upper right")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def spectrogram(matrix: np.ndarray, frame_rate: float | None, title: str, ylabel: str = "mel band") -> Figure:
    """One feature matrix (bands x frames, e.g. a log-mel spectrogram in dB) as an image over time."""
    fig, ax = plt.subplots(figsize=(7, 3))
    extent = None if not frame_rate else (0.0, matrix.shape[1] / frame_rate, 0, matrix.shape[0])
    im = ax.imshow(matrix, origin="lower", aspect="auto", cmap="magma", extent=extent)
    ax.set_xlabel("seconds" if frame_rate else "frame")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return fig


def class_lines(values: dict[str, Sequence[float]], names: Sequence[str], title: str, ylabel: str) -> Figure:
    """One marker per class and series (e.g. each model's mean per-class F1 over seeds:
    openmic-attention-review.txt Figure 3), classes along x."""
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(names) + 2), 3.8))
    for label, v in values.items():
        ax.plot(range(len(names)), v, marker="o", linestyle="", label=label)
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def attention_map(weights: np.ndarray, classes: Sequence[str], step_seconds: float, title: str) -> Figure:
    """Attention weights ``(steps, classes)`` of one clip as an image, classes by time: where a
    model with attention over time listens for each instrument."""
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.25 * len(classes) + 1)))
    im = ax.imshow(weights.T, origin="lower", aspect="auto", cmap="viridis",
                   extent=(0.0, weights.shape[0] * step_seconds, -0.5, len(classes) - 0.5))
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set_xlabel("seconds")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="weight")
    fig.tight_layout()
    return fig


def score_curve(xs: Sequence[str], means: Sequence[float], stds: Sequence[float], title: str, xlabel: str,
                ylabel: str) -> Figure:
    """One score against an ordered setting (layer, depth, clip length), mean with a ±std band over seeds."""
    m, s = np.asarray(means, float), np.asarray(stds, float)
    fig, ax = plt.subplots(figsize=(max(4.5, 0.4 * len(xs) + 2), 3.5))
    ax.plot(range(len(xs)), m, marker="o", color="#3b75af")
    ax.fill_between(range(len(xs)), m - s, m + s, color="#3b75af", alpha=0.2)
    ax.set_xticks(range(len(xs)), list(xs), fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
