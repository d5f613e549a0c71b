"""The studies: HamNava's protocols, and the layer, depth and clip-length sweeps of the Persian SSL paper.

- :func:`protocols`: hamnava-dataset-paper.txt Table 2 and 3. Per encoder, one head trained on
  soft labels (MSE) scored as 2a (MSE, R^2 against soft truth) and 2b (accuracy, F1 at 0.5
  against binarised truth), one trained on binarised labels (BCE) scored as 2c; paired p-values
  between encoders; the per-instrument table (Table 3) of the best encoder on 2b.
- :func:`sweep`: one encoder, one task (HamNava under one protocol, or a Nava-style single-label
  task), and one setting varied: ``encoders`` (several side by side, Table 2), ``layers`` (every hidden layer, persian-music-self-supervised.txt
  Table 3), ``depth`` (hidden layers of the head, Table 4), ``clip-length`` (3 s against 5 s, Table 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from saz.study import report
from saz.study.data import Encoder, Task, load_task
from saz.study.runner import Case, Mapper, summarise, train_cases

PROTOCOLS = {"2a": ("soft", "regression"), "2b": ("soft", "binary"), "2c": ("hard", "binary")}
SWEEPS = {"encoders": "encoder", "layers": "hidden layer", "depth": "hidden layers of the head", "clip-length": "clip length"}


@dataclass
class Settings:
    """How every trial of a study trains, and where features are cached."""

    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    epochs: int = 100
    lr: float = 0.01
    layer: int | None = None  # None: the last hidden layer
    hidden_layers: int = 0
    cache_dir: str | Path | None = None
    progress: bool = False


def protocols(root: str | Path, encoders: list[Encoder], out_dir: str | Path, s: Settings, map_fn: Mapper = map) -> dict:
    """HamNava's three protocols with every encoder side by side (see the module docstring)."""
    tasks = {e.label: load_task(root, "hamnava", e, cache_dir=s.cache_dir, progress=s.progress).layer(s.layer)
             for e in encoders}
    classes = list(next(iter(tasks.values())).vocab.names)
    y_test = {v: t.y["test"] for v, t in tasks.items()}
    trained = {head: train_cases([Case(v, t, head, s.hidden_layers) for v, t in tasks.items()], s.seeds, s.epochs, s.lr, map_fn,
                               Path(out_dir) / "trials")
               for head in ("soft", "hard")}
    result = {"study": "protocols", "n_test": len(next(iter(y_test.values()))),
              "protocols": {p: summarise(trained[head], y_test, scoring, classes) for p, (head, scoring) in PROTOCOLS.items()}}
    best = result["protocols"]["2b"]["best"]
    rows = {f"soft {m}": result["protocols"][p]["variants"][best][f"per_class_{m}"]
            for p, m in (("2a", "mse"), ("2a", "r2"), ("2b", "accuracy"), ("2b", "f1"))}
    rows |= {f"hard {m}": result["protocols"]["2c"]["variants"][best][f"per_class_{m}"] for m in ("accuracy", "f1")}
    result["per_class"] = {"encoder": best, "rows": rows}
    md = [f"# HamNava protocols ({result['n_test']} test clips)", ""]
    for p, summary in result["protocols"].items():
        md += report.table(summary, f"{p}: trained {PROTOCOLS[p][0]}, scored {PROTOCOLS[p][1]}")
    md += report.per_class_table(rows, f"Per instrument, {best} (Table 3)")
    boxes = {f"boxplots_{p}": report.write_boxplots(sm, Path(out_dir), f"protocol_{p}", f"HamNava {p}")
             for p, sm in result["protocols"].items()}
    md += [f"![{k}]({v.name})" for k, v in boxes.items()] + [""]
    result["written"] = {k: str(v) for k, v in {**boxes, **report.write(result, md, out_dir)}.items()}
    return result


def _cases(study: str, root: str | Path, dataset: str, encoders: list[Encoder], head: str, s: Settings, label_column: str,
           values: list) -> list[Case]:
    """The variants of a sweep; ``values``: depths or clip lengths (layers: every one of the encoder;
    encoders: each of ``encoders``, the others sweep the first)."""
    load = lambda seconds=None, e=encoders[0]: load_task(root, dataset, e, seconds, label_column, s.cache_dir,  # noqa: E731
                                                         s.progress)
    if study == "encoders":
        return [Case(e.label, load(values[0] if values else None, e).layer(s.layer), head, s.hidden_layers) for e in encoders]
    if study == "clip-length":
        return [Case(f"{sec:g} s", load(sec).layer(s.layer), head, s.hidden_layers) for sec in values]
    task: Task = load()
    if study == "layers":
        return [Case(str(k), task.layer(k), head, s.hidden_layers) for k in range(task.n_layers)]
    if study == "depth":
        return [Case(str(d), task.layer(s.layer), head, d) for d in values]
    raise ValueError(f"unknown study '{study}' (choose from {', '.join(SWEEPS)})")


def sweep(study: str, root: str | Path, dataset: str, encoders: list[Encoder], out_dir: str | Path, s: Settings,
          protocol: str = "2b", label_column: str = "label", values: list | None = None, map_fn: Mapper = map) -> dict:
    """One setting varied on one encoder and task (see the module docstring)."""
    if dataset != "nava" and protocol not in PROTOCOLS:
        raise ValueError(f"unknown HamNava protocol '{protocol}' (choose from {', '.join(PROTOCOLS)})")
    head, scoring = ("single", "single") if dataset == "nava" else PROTOCOLS[protocol]
    cases = _cases(study, root, dataset, encoders, head, s, label_column, values or [])
    outputs = train_cases(cases, s.seeds, s.epochs, s.lr, map_fn, Path(out_dir) / "trials")
    summary = summarise(outputs, {c.variant: c.task.y["test"] for c in cases}, scoring, list(cases[0].task.vocab.names))
    task = cases[0].task.name + (f", protocol {protocol}" if dataset == "hamnava" else "")
    names = ", ".join(e.label for e in encoders)
    result = {"study": study, "task": task, "encoder": names, "summary": summary}
    md = [f"# {study}: {names} on {task}", ""] + report.table(summary, f"score against {SWEEPS[study]}")
    written = report.write_figures(summary, Path(out_dir), study, SWEEPS[study])
    md += [f"![{k}]({Path(v).name})" for k, v in written.items()] + [""]
    result["written"] = {k: str(v) for k, v in {**written, **report.write(result, md, out_dir)}.items()}
    return result
