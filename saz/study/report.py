"""A study's results as Markdown tables, JSON and plots (``study.md``, ``study.json``, PNGs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from saz import io, plots
from saz.evaluation.compare import cell

COLUMNS = {"single": ("accuracy", "macro_f1"), "regression": ("mse", "r2"), "binary": ("accuracy", "macro_f1", "micro_f1")}


def table(summary: dict, heading: str) -> list[str]:
    """Markdown lines: one row per variant (in study order), mean ± std over seeds, p against the best."""
    cols = COLUMNS[summary["scoring"]]
    lines = [f"## {heading}", "", f"p: paired bootstrap of {summary['metric']} against the best (`{summary['best']}`), first seed.", "",
             "| variant | seeds | " + " | ".join(cols) + " | p |", "| --- | --- |" + " --- |" * (len(cols) + 1)]
    for v, e in summary["variants"].items():
        p = "best" if v == summary["best"] else (f"{e['p_vs_best']:.4f}" if "p_vs_best" in e else "n/a")
        lines.append(f"| {v} | n={len(e['seeds'])} | " + " | ".join(cell(e[c]) for c in cols) + f" | {p} |")
    return lines + [""]


def per_class_table(rows: dict[str, dict[str, float]], heading: str) -> list[str]:
    """Markdown lines: one row per metric, one column per class (HamNava Table 3)."""
    classes = list(next(iter(rows.values())))
    lines = [f"## {heading}", "", "| metric | " + " | ".join(classes) + " |", "| --- |" + " --- |" * len(classes)]
    lines += [f"| {m} | " + " | ".join(f"{v[c]:.3f}" for c in classes) + " |" for m, v in rows.items()]
    return lines + [""]


def write_figures(summary: dict, out: Path, stem: str, xlabel: str) -> dict[str, Path]:
    """The score-against-variant plot, and for single-label tasks the best variant's confusion matrix."""
    key, written = summary["metric"], {}
    vs = summary["variants"]
    fig = plots.score_curve(list(vs), [e[key]["mean"] for e in vs.values()], [e[key]["std"] for e in vs.values()],
                            f"{stem}: {key}", xlabel, key)
    written[f"{stem}_plot"] = io.save_figure(out / f"{stem}.png", fig)
    plots.close(fig)
    if "confusion" in vs[summary["best"]]:
        cm = np.asarray(vs[summary["best"]]["confusion"], float)
        fig = plots.heatmap(cm, summary["classes"], summary["classes"], f"confusion: {summary['best']}",
                            xlabel="predicted", ylabel="true")
        written[f"{stem}_confusion"] = io.save_figure(out / f"{stem}_confusion.png", fig)
        plots.close(fig)
    return written


def write_boxplots(summary: dict, out: Path, stem: str, title: str) -> Path:
    """Box plots over seeds of every score of every variant (as ``saz compare`` draws them)."""
    fig = plots.boxplots({v: {c: e[c]["values"] for c in COLUMNS[summary["scoring"]]} for v, e in summary["variants"].items()},
                         title)
    path = io.save_figure(out / f"{stem}.png", fig)
    plots.close(fig)
    return path


def write(result: dict, markdown: list[str], out_dir: str | Path) -> dict[str, Path]:
    """``study.json`` and ``study.md`` in ``out_dir``."""
    out = Path(out_dir)
    return {"json": io.write_json(out / "study.json", result), "markdown": io.write_text(out / "study.md", "\n".join(markdown))}
