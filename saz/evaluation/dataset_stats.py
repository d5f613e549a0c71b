"""Statistics of a dataset's labels that the source documents show beside their results.

* :func:`class_distribution`: clips per class and split, counts and % (medleydb-cnn-report.txt
  Figures 3.2-3.3; HamNava's splits "with a consistent distribution of instruments").
* :func:`occurrence_matrices`: instrument x genre occurrences and instrument co-occurrence, with
  fine or macro labels, from MedleyDB's metadata alone (medleydb-cnn-report.txt chapter 6,
  Figures 6.1-6.4).
* :func:`by_difficulty` and :func:`confidence`: HamNava's label statistics per difficulty level
  and its confidence factor (Eq. 2) per instrument and difficulty (Figure 3), computed on the
  aggregated soft labels the dataset ships (its per-annotator answers, which Eq. 1's agreement
  needs, are not shipped: :func:`confidence` gives the agreement two annotators would reach if
  each soft label were the share of annotators who heard the instrument, an estimate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from saz.datasets import Dataset

LEVELS = {0: "easy", 1: "hard"}


def _present(y: np.ndarray) -> np.ndarray:
    return np.nan_to_num(y, nan=0.0) >= 0.5


def class_distribution(ds: Dataset) -> pd.DataFrame:
    """Positive clips per class (rows) and split (columns ``<split>`` and ``<split> %``, the share
    of that split's clips), over every split the dataset has (all clips when none)."""
    splits = ds.splits or {"all": np.arange(len(ds))}
    pos = _present(ds.y)
    out = pd.DataFrame(index=list(ds.vocab.names))
    for name, idx in splits.items():
        counts = pos[idx].sum(axis=0)
        out[name] = counts.astype(int)
        out[f"{name} %"] = np.round(100.0 * counts / max(len(idx), 1), 2)
    out.index.name = "class"
    return out


def _binary(lists: pd.Series) -> pd.DataFrame:
    names = sorted({n for items in lists for n in items})
    return pd.DataFrame([[n in set(items) for n in names] for items in lists], columns=names, dtype=int)


def occurrence_matrices(tracks: pd.DataFrame, labels: str = "instruments") -> dict[str, pd.DataFrame]:
    """From a table of tracks (:func:`saz.datasets.medleydb.track_metadata`): ``genre`` (tracks of
    each genre, columns, that use each instrument, rows), ``genre %`` (share of the genre's
    tracks), ``cooccurrence`` (tracks using both instruments) and ``cooccurrence %`` (share of the
    row instrument's tracks); ``labels`` is 'instruments' (fine) or 'macro'."""
    b = _binary(tracks[labels])
    genres = pd.get_dummies(tracks["genre"]).astype(int)
    genre = b.T.dot(genres)
    per_genre = genres.sum(axis=0).replace(0, 1)
    co = b.T.dot(b)
    diag = np.diag(co).astype(float)
    diag[diag == 0] = 1.0
    return {"genre": genre, "genre %": (100.0 * genre / per_genre).round(2),
            "cooccurrence": co, "cooccurrence %": (100.0 * co.div(diag, axis=0)).round(2)}


def difficulty_levels(ds: Dataset) -> pd.Series:
    """Each clip's HamNava difficulty as "easy" or "hard" (the CSVs' 0 and 1)."""
    if "difficulty" not in ds.clips.columns:
        raise ValueError(f"{ds.name}: no difficulty column (HamNava's annotation CSVs have one)")
    return ds.clips["difficulty"].map(lambda d: LEVELS.get(int(d), str(d)) if pd.notna(d) else "unknown")


def by_difficulty(ds: Dataset) -> pd.DataFrame:
    """Per difficulty level: clips, mean instruments per clip, and per class the clips where it
    is present (soft label 0.5 or more) and its mean soft label."""
    levels = difficulty_levels(ds)
    pos = _present(ds.y)
    rows = {}
    for level in sorted(levels.unique()):
        m = (levels == level).to_numpy()
        row = {"clips": int(m.sum()), "instruments per clip": round(float(pos[m].sum(axis=1).mean()), 3)}
        for j, c in enumerate(ds.vocab.names):
            row[f"{c} present"] = int(pos[m, j].sum())
            row[f"{c} mean label"] = round(float(np.nanmean(ds.y[m, j])), 4)
        rows[level] = row
    return pd.DataFrame(rows).T.rename_axis("difficulty")


def confidence(ds: Dataset) -> pd.DataFrame:
    """Per class (rows) and difficulty (and 'all'): the confidence factor of Eq. 2, mean of
    ``2 |p - 0.5|`` over the clips, in %, and the agreement estimate ``p^2 + (1-p)^2`` in %."""
    levels = difficulty_levels(ds)
    out = pd.DataFrame(index=list(ds.vocab.names))
    for level in ["all", *sorted(levels.unique())]:
        m = np.ones(len(ds), bool) if level == "all" else (levels == level).to_numpy()
        p = ds.y[m]
        out[f"confidence {level}"] = np.round(100.0 * np.nanmean(2.0 * np.abs(p - 0.5), axis=0), 2)
        out[f"agreement estimate {level}"] = np.round(100.0 * np.nanmean(p ** 2 + (1 - p) ** 2, axis=0), 2)
    out.index.name = "class"
    return out


def clip_table(ids: np.ndarray, y_true: np.ndarray, pred: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """One row per clip: its true and predicted labels and, by name, the true positives, the
    missed (FN) and the false alarms (FP) (medleydb-cnn-report.txt 5.4, for mixtures)."""
    truth = _present(y_true)
    known = ~np.isnan(y_true)
    rows = []
    for i, clip in enumerate(ids):
        def names(mask: np.ndarray) -> str:
            return ";".join(c for c, on in zip(classes, mask) if on)
        rows.append({"clip": str(clip), "true": names(truth[i]), "predicted": names(pred[i] & known[i]),
                     "TP": names(truth[i] & pred[i]), "FN": names(truth[i] & ~pred[i]),
                     "FP": names(~truth[i] & pred[i] & known[i]), "n_true": int(truth[i].sum()),
                     "n_TP": int((truth[i] & pred[i]).sum()), "n_FN": int((truth[i] & ~pred[i]).sum()),
                     "n_FP": int((~truth[i] & pred[i] & known[i]).sum())})
    return pd.DataFrame(rows)
