"""Evaluation reports: JSON with every number, Markdown tables, PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from saz import io, plots
from saz.metrics import AVERAGES, Evaluation


def single_label_confusion(y_true: np.ndarray, y_prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Confusion matrix (true x predicted) over clips with exactly one known positive label.

    The prediction is the most probable class (medleydb-cnn-report.txt section 5.3). Returns
    the matrix and the indices of the clips used.
    """
    t = np.nan_to_num(np.asarray(y_true, dtype=np.float64), nan=0.0) >= 0.5
    idx = np.flatnonzero(t.sum(axis=1) == 1)
    n = t.shape[1]
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (t[idx].argmax(axis=1), np.asarray(y_prob)[idx].argmax(axis=1)), 1)
    return m, idx


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def to_markdown(result: Evaluation, title: str = "Evaluation") -> str:
    """Summary and per-class tables of an :func:`saz.metrics.evaluate` result."""
    lines = [f"# {title}", "", f"{result.n_clips} clips, {result.n_classes} classes, {result.kind.value} labels.", "",
             f"Macro F1 over the {result.n_present} classes present in these clips: {result.macro_f1_present:.3f} "
             f"(over all {result.n_classes} classes, those absent counted as 0: {result.macro.f1:.3f}).", ""]
    lines += ["| average | precision | recall | F1 |", "| --- | --- | --- | --- |"]
    averages = {f"macro over the {result.n_present} classes present": result.macro_present,
                f"macro over all {result.n_classes} classes (absent ones as 0)": result.macro,
                **{avg: getattr(result, avg) for avg in AVERAGES if avg != "macro"}}
    for avg, r in averages.items():
        lines.append(f"| {avg} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} |")
    lines += ["", "| metric | value |", "| --- | --- |"]
    values = {"map": result.map, "roc_auc": result.roc_auc, "lrap": result.lrap,
              "label_accuracy": result.label_accuracy, "subset_accuracy": result.subset_accuracy}
    if result.mse is not None:
        values.update(mse=result.mse, r2=result.r2)
    lines += [f"| {key} | {_fmt(v)} |" for key, v in values.items()]
    soft = result.mse is not None
    lines += ["", "## Per class", "", "| class | support | known | precision | recall | F1 | accuracy | AP | ROC-AUC |"
              + (" MSE | R² |" if soft else ""), "|" + " --- |" * (11 if soft else 9)]
    for c in result.per_class:
        lines.append(f"| {c.name} | {c.support} | {c.known} | {c.precision:.3f} | {c.recall:.3f} | "
                     f"{c.f1:.3f} | {_fmt(c.accuracy)} | {_fmt(c.ap)} | {_fmt(c.roc_auc)} |"
                     + (f" {_fmt(c.mse)} | {_fmt(c.r2)} |" if soft else ""))
    if result.no_positive_classes:
        lines += ["", f"Classes with no positive clip (F1 undefined, counted as 0): {', '.join(result.no_positive_classes)}."]
    if result.timeline is not None:
        lines += timeline_markdown(result.timeline)
    return "\n".join(lines) + "\n"


def timeline_line(t: dict) -> str:
    """One line of the timeline scores (``Evaluation.timeline``), for the command's summary."""
    seg, ev = t["segment_based"], t["event_based"]
    return (f"timeline of {t['clips']} clip(s) with frame activity: segment-based F1 {seg['f1']:.3f}, error rate "
            f"{_fmt(seg['error_rate'])}; event-based F1 {ev['f1']:.3f}, error rate {_fmt(ev['error_rate'])}")


def timeline_markdown(t: dict) -> list[str]:
    """The lines of the report's timeline section: segment- and event-based scores of the
    segments against the frame annotations (``Evaluation.timeline``), overall and per class."""
    seg, ev = t["segment_based"], t["event_based"]
    lines = ["", "## Timeline", "",
             f"The segments of {t['clips']} clip(s) against their frame annotations (active at {t['active_at']:g} and above): "
             f"segment-based in {seg['segment_seconds']:g}-s segments, event-based with a {ev['collar']:g}-s onset collar "
             f"and offsets within {ev['offset_ratio']:.0%} of the reference's length.", "",
             "| scores | precision | recall | F1 | error rate | reference |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {_fmt(s['error_rate'])} | {s['reference']} |"
              for name, s in (("segment-based", seg), ("event-based", ev))]
    lines += ["", "| class | reference events | segment F1 | event F1 |", "| --- | --- | --- | --- |"]
    lines += [f"| {c['name']} | {c['reference_events']} | {c['segment_f1']:.3f} | {c['event_f1']:.3f} |" for c in t["per_class"]]
    return lines


def write_report(result: Evaluation, out_dir: str | Path, y_true: np.ndarray | None = None,
                 y_prob: np.ndarray | None = None, title: str = "Evaluation", figures: bool = True) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and (unless ``figures`` is False) the PNG plots;
    returns the written paths."""
    out = Path(out_dir)
    names: Sequence[str] = [c.name for c in result.per_class]
    written = {"json": io.write_json(out / "report.json", result.to_dict()), "markdown": io.write_text(out / "report.md", to_markdown(result, title))}
    if not figures:
        return written
    fig = plots.bars([c.f1 for c in result.per_class], names, f"{title}: per-class F1", "F1")
    written["f1_png"] = io.save_figure(out / "per_class_f1.png", fig)
    plots.close(fig)
    if y_true is not None:
        fig = plots.heatmap(plots.cooccurrence(y_true), names, names, "Co-occurrence (% of row class)")
        written["cooccurrence_png"] = io.save_figure(out / "cooccurrence.png", fig)
        plots.close(fig)
    if y_true is not None and y_prob is not None:
        m, idx = single_label_confusion(y_true, y_prob)
        if idx.size:
            fig = plots.heatmap(m, names, names, f"Single-label clips ({idx.size}): confusion", fmt="{:d}",
                                xlabel="predicted", ylabel="true")
            written["confusion_png"] = io.save_figure(out / "confusion_single_label.png", fig)
            plots.close(fig)
    return written
