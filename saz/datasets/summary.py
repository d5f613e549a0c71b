"""Plots that describe a dataset: class counts, labels per clip, soft labels, co-occurrence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from saz import io, plots
from saz.datasets.base import Dataset


def plot_summary(ds: Dataset, out_dir: str | Path) -> list[Path]:
    """Write the dataset's PNG plots into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    names = list(ds.vocab.names)
    s = ds.summary()
    written = []
    figs = [
        ("class_counts.png", plots.bars([s["per_class"][n] for n in names], names, f"{ds.name}: clips per class", "clips")),
        ("labels_per_clip.png", plots.bars(list(s["labels_per_clip"].values()), [str(k) for k in s["labels_per_clip"]],
                                           f"{ds.name}: labels per clip", "clips")),
        ("cooccurrence.png", plots.heatmap(plots.cooccurrence(ds.y), names, names,
                                           f"{ds.name}: co-occurrence (% of row class, binarised at 0.5)")),
    ]
    soft = ds.y[(ds.y > 0) & (ds.y < 1)]
    if soft.size:
        figs.append(("soft_labels.png", plots.histogram(ds.y[~np.isnan(ds.y)], f"{ds.name}: label values", "label value")))
    for name, fig in figs:
        written.append(io.save_figure(out / name, fig))
        plots.close(fig)
    return written
