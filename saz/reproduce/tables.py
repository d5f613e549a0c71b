"""A published table beside the same table computed from saz's runs.

The setting's ``[tables.<id>]`` says how to compute each column: ``"metric@split"`` for a table
of models (``rows`` maps each of its rows to a run), ``"run:metric@split"`` for a table of
classes (one row per class: a published row matches the class of the same name; the rows
``micro avg``, ``macro avg``, ``weighted avg`` and ``samples avg`` take the averages), at the
thresholds ``threshold`` names, times ``scale`` (100 where the paper prints per cent). The
saz value of a cell is the mean over seeds, with the standard deviation over them.
"""

from __future__ import annotations

import csv
import functools
import io as _io
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from saz.labels import normalise_name
from saz.reproduce.runs import RunResult
from saz.reproduce.scores import AVERAGES, Scored, aggregate, per_class, rescore


@dataclass
class Cell:
    paper: float | None
    saz: float | None
    std: float | None
    seeds: int
    integer: bool = False  # a count (support, parameters): shown without decimals


def parse_column(spec: str) -> tuple[str | None, str, str]:
    """``"[run:]metric[@split]"`` as (run or None, metric, split; 'test' by default)."""
    run, _, rest = spec.rpartition(":")
    metric, _, split = rest.partition("@")
    return run or None, metric, split or "test"


def _over_seeds(results: list[RunResult], split: str, threshold: Any, value: Callable[[Scored], float | None],
                scale: float) -> tuple[float | None, float | None, int]:
    """Mean and standard deviation over the seeds of ``value`` of each seed's ``split`` evaluation."""
    vals = [value(rescore(r.evaluations[split], threshold, r.parameters)) for r in results if split in r.evaluations]
    vals = [v * scale for v in vals if v is not None]
    if not vals:
        return None, None, 0
    return float(np.mean(vals)), float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0, len(vals)


def _class_value(name: str, metric: str) -> Callable[[Scored], float | None]:
    """The per-class (or, for an 'avg' row, averaged) ``metric`` of the class called ``name``."""
    key = normalise_name(name)
    avg = key[: -len("_avg")] if key.endswith("_avg") else None
    if avg in AVERAGES:
        return lambda s: aggregate(s, "support" if metric == "support" else f"{avg}_{metric}")

    def value(s: Scored) -> float | None:
        names = [normalise_name(c) for c in s.classes]
        return per_class(s, metric, names.index(key)) if key in names else None
    return value


def _rows(table: dict, spec: dict, runs: dict[str, list[RunResult]]) -> list[tuple[str, list[float | None]]]:
    """(row name, published values) of the table, then the classes (or runs) saz adds."""
    rows = [(str(r[0]), [float(v) for v in r[1:]]) for r in table["rows"]]
    have = {normalise_name(n) for n, _ in rows}
    if table["kind"] == "classes":
        first = parse_column(spec["columns"][0])[0]
        if runs.get(first):
            split = parse_column(spec["columns"][0])[2]
            folder = runs[first][0].evaluations.get(split)
            extra = rescore(folder).classes if folder else []
            rows += [(c, [None] * len(table["columns"])) for c in extra if normalise_name(c) not in have]
    else:
        rows += [(r, [None] * len(table["columns"])) for r in spec.get("rows", {}) if normalise_name(r) not in have]
    return rows


COUNTS = ("support", "parameters")  # metrics that are counts: never scaled, shown without decimals


def _cell(table: dict, spec: dict, runs: dict[str, list[RunResult]], row: str, column: str, paper: float | None) -> Cell:
    """One cell: the paper's value and the mean and spread over seeds of saz's (see the module docstring)."""
    run, metric, split = parse_column(column)
    if table["kind"] == "classes":
        value = _class_value(row, metric)
    else:
        run = spec.get("rows", {}).get(row)
        value = functools.partial(aggregate, metric=metric)
    scale = 1.0 if metric in COUNTS else float(spec.get("scale", 1.0))
    threshold = spec.get("threshold", "tuned")
    mean, std, n = _over_seeds(runs.get(run, []), split, threshold, value, scale) if run else (None, None, 0)
    return Cell(paper, mean, std, n, metric in COUNTS)


def build(table: dict, spec: dict, runs: dict[str, list[RunResult]]) -> dict:
    """The published ``table`` with saz's cells computed as ``spec`` says from ``runs`` (by name)."""
    rows = [{"name": name, "cells": [_cell(table, spec, runs, name, col, paper[j]) for j, col in enumerate(spec["columns"])]}
            for name, paper in _rows(table, spec, runs)]
    return {"id": table["id"], "ref": table["ref"], "title": table["title"], "columns": list(table["columns"]),
            "specs": list(spec["columns"]), "rows": rows, "threshold": spec.get("threshold", "tuned"),
            "note": spec.get("note", "")}


def _fmt(v: float | None, integer: bool = False) -> str:
    if v is None:
        return "—"
    return f"{v:.0f}" if integer or abs(v) >= 1000 else f"{v:.3f}" if abs(v) < 10 else f"{v:.2f}"


def _saz(c: Cell) -> str:
    if c.saz is None:
        return "—"
    return _fmt(c.saz, c.integer) if c.seeds < 2 or (c.integer and c.std == 0) else f"{_fmt(c.saz, c.integer)} ± {_fmt(c.std, c.integer)}"


def to_markdown(t: dict) -> str:
    """The table as Markdown, each column as the paper's value and saz's side by side."""
    head = " | ".join(f"{c} (paper) | {c} (saz)" for c in t["columns"])
    lines = [f"### {t['ref']}: {t['title']}", "", f"saz columns: {', '.join(t['specs'])}; thresholds: {t['threshold']}; "
             "saz values: mean ± std over seeds (one seed: the value); —: not reported / not run.", ""]
    if t["note"]:
        lines += [t["note"], ""]
    lines += [f"| | {head} |", "| --- |" + " --- | --- |" * len(t["columns"])]
    for r in t["rows"]:
        cells = " | ".join(f"{'—' if c.paper is None else f'{c.paper:g}'} | {_saz(c)}" for c in r["cells"])
        lines.append(f"| {r['name']} | {cells} |")
    return "\n".join(lines) + "\n"


def to_csv(t: dict) -> str:
    """The table in long form: one line per row and column with the paper's and saz's values."""
    buf = _io.StringIO()
    w = csv.writer(buf)
    w.writerow(["table", "row", "column", "saz_metric", "paper", "saz", "saz_std", "seeds"])
    for r in t["rows"]:
        for col, spec, c in zip(t["columns"], t["specs"], r["cells"]):
            w.writerow([t["id"], r["name"], col, spec, "" if c.paper is None else c.paper,
                        "" if c.saz is None else round(c.saz, 6), "" if c.std is None else round(c.std, 6), c.seeds])
    return buf.getvalue()
