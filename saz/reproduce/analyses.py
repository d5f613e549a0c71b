"""The analyses and figures a setting's ``[analyses] names`` asks for, written under the output
folder (``analyses/*.csv``, ``figures/*.png``, ``compare/``). Each returns the files it wrote;
the library functions they call work alone too (:mod:`saz.evaluation.dataset_stats`,
:mod:`saz.evaluation.compare`, :mod:`saz.plots`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from saz import io, plots
from saz.datasets import Dataset
from saz.evaluation import compare as cmp
from saz.evaluation import dataset_stats as stats
from saz.reproduce.runs import RunResult
from saz.reproduce.scores import per_class, rescore


@dataclass
class Context:
    """What an analysis reads: the setting, the split dataset, its root, the runs by name."""

    settings: dict
    dataset: Dataset
    root: Path
    out: Path
    runs: dict[str, list[RunResult]]


def _csv(ctx: Context, name: str, df: pd.DataFrame, index: bool = True) -> Path:
    return io.write_text(ctx.out / "analyses" / f"{name}.csv", df.to_csv(index=index))


def _figure(ctx: Context, name: str, fig) -> Path:
    path = io.save_figure(ctx.out / "figures" / f"{name}.png", fig)
    plots.close(fig)
    return path


def _heatmap(ctx: Context, name: str, df: pd.DataFrame, title: str, fmt: str = "{:.0f}", most: int = 30) -> Path:
    """``df`` as a heatmap figure; of a larger matrix, its ``most`` rows (and, when square, columns)
    of the largest sums, as an excerpt (as medleydb-cnn-report.txt Figure 6.1 shows one)."""
    if len(df) > most:
        keep = df.sum(axis=1).sort_values(ascending=False).index[:most]
        df = df.loc[keep, keep] if list(df.index) == list(df.columns) else df.loc[keep]
        title = f"{title}, the {most} most frequent"
    return _figure(ctx, name, plots.heatmap(df.to_numpy(dtype=float), [str(i) for i in df.index],
                                            [str(c) for c in df.columns], title, fmt=fmt))


def class_distribution(ctx: Context) -> list[Path]:
    df = stats.class_distribution(ctx.dataset)
    counts = df[[c for c in df.columns if not c.endswith("%")]]
    return [_csv(ctx, "class_distribution", df), _heatmap(ctx, "class_distribution", counts, "Clips per class and split")]


def hamnava_difficulty(ctx: Context) -> list[Path]:
    df = stats.by_difficulty(ctx.dataset)
    present = df[[c for c in df.columns if c.endswith(" present")]].T
    present.index = [i[: -len(" present")] for i in present.index]
    return [_csv(ctx, "labels_by_difficulty", df), _heatmap(ctx, "labels_by_difficulty", present, "Clips per instrument and difficulty")]


def hamnava_confidence(ctx: Context) -> list[Path]:
    df = stats.confidence(ctx.dataset)
    return [_csv(ctx, "confidence", df),
            _heatmap(ctx, "confidence", df, "Confidence (Eq. 2) and agreement estimate per instrument and difficulty (%)")]


def _first_evaluations(ctx: Context, split: str = "test") -> dict[str, Path]:
    return {name: rs[0].evaluations[split] for name, rs in ctx.runs.items() if rs and split in rs[0].evaluations}


def results_by_difficulty(ctx: Context) -> list[Path]:
    """Each run's test scores (first seed, outputs over 0.5 present) per difficulty level."""
    from saz import metrics

    level = dict(zip(ctx.dataset.ids, stats.difficulty_levels(ctx.dataset)))
    rows = []
    for name, folder in _first_evaluations(ctx).items():
        s = rescore(folder, 0.5)
        with np.load(folder / "predictions.npz") as z:
            ids = [str(i) for i in z["ids"]]
        for lv in sorted(set(level[i] for i in ids)):
            m = np.array([level[i] == lv for i in ids])
            r = metrics.evaluate(s.y_true[m], s.y_prob[m], s.classes, 0.5)
            rows.append({"run": name, "difficulty": lv, "clips": int(m.sum()), "accuracy": r.label_accuracy,
                         "macro_f1": r.macro.f1, "micro_f1": r.micro.f1, "mse": r.mse})
    return [_csv(ctx, "results_by_difficulty", pd.DataFrame(rows), index=False)]


def medleydb_genres(ctx: Context) -> list[Path]:
    """Instrument x genre and co-occurrence matrices, fine and macro labels, from the metadata alone."""
    from saz.datasets.medleydb import track_metadata

    tracks, _ = track_metadata(ctx.root, ctx.settings["data"].get("options", {}).get("metadata_dir"))
    written = [_csv(ctx, "medleydb_tracks", tracks.assign(instruments=tracks["instruments"].str.join(";"),
                                                          macro=tracks["macro"].str.join(";")), index=False)]
    for labels, tag in (("instruments", "fine"), ("macro", "macro")):
        for key, df in stats.occurrence_matrices(tracks, labels).items():
            name = f"{key.replace(' %', '_percent')}_{tag}"
            written.append(_csv(ctx, name, df))
            if key.endswith("%"):
                written.append(_heatmap(ctx, name, df, f"{key} ({tag} labels, {len(tracks)} tracks)"))
    return written


def curves(ctx: Context) -> list[Path]:
    """Validation scores and the training and validation loss per epoch of each run's first seed."""
    written = []
    for name, rs in ctx.runs.items():
        log = rs[0].folder / "log.csv" if rs else None
        if log is None or not log.exists():
            continue
        df = pd.read_csv(log)
        written.append(_figure(ctx, f"curves/{name}_scores", plots.training_curve(df, title=f"{name}: validation scores")))
        written.append(_figure(ctx, f"curves/{name}_loss", plots.loss_curves(df, title=f"{name}: loss")))
    return written


def spectrograms(ctx: Context, n: int = 3) -> list[Path]:
    """Log-mel spectrograms (1024/512/128) of the first ``n`` test clips, titled with their labels."""
    from saz.features import get_feature
    from saz.features.dataset import read_clip

    feature = get_feature("logmel")
    test = ctx.dataset.subset("test")
    written = []
    for i in range(min(n, len(test))):
        y = read_clip(test.clips.iloc[i], feature.sr)
        if isinstance(y, str):
            continue
        labels = ", ".join(c for c, v in zip(test.vocab.names, np.nan_to_num(test.y[i])) if v >= 0.5) or "none"
        m = feature(y[None, :].astype(np.float32))[0]
        written.append(_figure(ctx, f"spectrograms/{i:02d}", plots.spectrogram(m, feature.frame_rate, f"{test.ids[i]}: {labels}")))
    return written


def per_clip(ctx: Context) -> list[Path]:
    """True and predicted labels, TP/FN/FP per test clip, of each run's first seed (outputs over 0.5)."""
    written = []
    for name, folder in _first_evaluations(ctx).items():
        s = rescore(folder, 0.5)
        with np.load(folder / "predictions.npz") as z:
            ids = z["ids"]
        written.append(_csv(ctx, f"per_clip_{name}", stats.clip_table(ids, s.y_true, s.pred, s.classes), index=False))
    return written


def per_class_f1(ctx: Context) -> list[Path]:
    """Per-class test F1 of every run, mean over seeds (outputs over 0.5), as CSV and figure."""
    table: dict[str, list[float]] = {}
    classes: list[str] = []
    for name, rs in ctx.runs.items():
        scored = [rescore(r.evaluations["test"], 0.5) for r in rs if "test" in r.evaluations]
        if not scored:
            continue
        classes = scored[0].classes
        table[name] = [float(np.mean([per_class(s, "f1", j) for s in scored])) for j in range(len(classes))]
    df = pd.DataFrame(table, index=classes).rename_axis("class")
    return [_csv(ctx, "per_class_f1", df), _figure(ctx, "per_class_f1", plots.class_lines(table, classes, "Per-class F1, mean over seeds", "F1"))]


def compare(ctx: Context) -> list[Path]:
    """``saz compare`` over every run and seed on the test split (box plots, paired tests)."""
    folders = [r.evaluations["test"] for rs in ctx.runs.values() for r in rs if "test" in r.evaluations]
    result = cmp.compare(folders)
    return list(cmp.write(result, ctx.out / "compare", f"{ctx.settings['document']}: models over seeds").values())


def attention(ctx: Context) -> list[Path]:
    """Attention maps of the test clips for each run whose model attends over time (first seed)
    and, where the dataset has frame activity (MedleyDB), their frame-level score against it."""
    from saz.evaluation.attention import write_attention
    from saz.models.predictor import Predictor

    written, rows = [], []
    for name, rs in ctx.runs.items():
        predictor = Predictor.load(rs[0].folder / "model.pt") if rs else None
        if predictor is None or not predictor.has_attention:
            continue
        files = write_attention(predictor, ctx.dataset.subset("test"), ctx.out / "figures" / name)
        written += list(files.values())
        if "score" in files:
            score = json.loads(files["score"].read_text())
            rows.append({"run": name, "class": "all", "pairs": score["pairs"], "mean_auc": score["mean_auc"]})
            rows += [{"run": name, "class": c, **v} for c, v in score["per_class"].items()]
    if rows:
        written.append(_csv(ctx, "attention_activity", pd.DataFrame(rows), index=False))
    return written


ANALYSES: dict[str, Callable[[Context], list[Path]]] = {
    f.__name__: f for f in (class_distribution, hamnava_difficulty, hamnava_confidence, results_by_difficulty,
                            medleydb_genres, curves, spectrograms, per_clip, per_class_f1, compare, attention)
}
