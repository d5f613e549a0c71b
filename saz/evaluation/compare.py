"""Compare evaluation runs of several models and seeds (``saz compare``).

Input: folders written by :func:`saz.evaluation.scoring.evaluate_checkpoint` (``report.json`` and
``predictions.npz``), all on the same clips. Output: mean and standard deviation over seeds of
micro/macro F1 and mAP per model, box plots of macro precision, recall and F1 over seeds
(openmic-attention-review.txt Figure 2), a per-class F1 table (mean over seeds), and for every
model a paired bootstrap test against the best model (by mean macro F1), each on its first
seed's predictions, for macro F1 and mAP.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from saz import io, metrics, plots


def load_run(folder: str | Path) -> dict:
    """One evaluation run: its report and predictions."""
    folder = Path(folder)
    try:
        result = metrics.Evaluation.from_dict(json.loads((folder / "report.json").read_text()))
        with np.load(folder / "predictions.npz", allow_pickle=False) as z:
            pred = {k: z[k] for k in z.files}
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{folder}: not an evaluation run ({e})") from None
    if result.run is None:
        raise ValueError(f"{folder}: not an evaluation run (its report names no model)")
    return {"folder": str(folder), "model": result.run.model, "seed": result.run.seed,
            "result": result, **pred}


SCORES = ("micro_precision", "micro_recall", "micro_f1", "macro_precision", "macro_recall", "macro_f1",
          "macro_f1_present", "map")
TABLE_SCORES = ("micro_precision", "micro_recall", "micro_f1", "macro_f1", "macro_f1_present", "map")


def _name_models(runs: list[dict]) -> None:
    """Runs of one model with one seed cannot be seeds of each other (two ensembles, say, or one
    checkpoint evaluated twice): such runs are named by their folder instead, so they compare as
    models rather than average as seeds."""
    counts = Counter((r["model"], r["seed"]) for r in runs)
    for r in runs:
        if counts[(r["model"], r["seed"])] > 1:
            r["model"] = f"{r['model']} ({'/'.join(Path(r['folder']).parts[-2:])})"


def mean_std(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def compare(folders: list[str | Path], n_boot: int = 2000, names: dict[str, str] | None = None) -> dict:
    """The comparison as a JSON-ready dict (see the module docstring); ``names``: a model name per
    folder, instead of the one its report gives (a sweep's settings of one model)."""
    runs = [load_run(f) for f in folders]
    for r in runs:
        r["model"] = (names or {}).get(r["folder"], r["model"])
    ids = runs[0]["ids"]
    for r in runs[1:]:
        if not np.array_equal(r["ids"], ids):
            raise ValueError(f"{r['folder']}: not evaluated on the same clips as {runs[0]['folder']}")
        if not np.array_equal(r["y_true"], runs[0]["y_true"], equal_nan=True):
            raise ValueError(f"{r['folder']}: scored against other truth than {runs[0]['folder']} (another protocol?)")
    _name_models(runs)
    by_model: dict[str, list[dict]] = defaultdict(list)
    for r in sorted(runs, key=lambda r: (r["model"], r["seed"] if r["seed"] is not None else -1)):
        by_model[r["model"]].append(r)
    models = {}
    for name, rs in by_model.items():
        entry = {"seeds": [r["seed"] for r in rs], "folders": [r["folder"] for r in rs]}
        for key, get in (("micro_f1", lambda x: x.micro.f1), ("micro_precision", lambda x: x.micro.precision),
                         ("micro_recall", lambda x: x.micro.recall), ("macro_f1", lambda x: x.macro.f1),
                         ("macro_precision", lambda x: x.macro.precision),
                         ("macro_recall", lambda x: x.macro.recall), ("map", lambda x: x.map),
                         ("macro_f1_present", lambda x: x.macro_f1_present)):
            vals = [get(r["result"]) for r in rs]
            entry[key] = {"values": vals, "mean": mean_std(vals)[0], "std": mean_std(vals)[1]}
        classes = [c.name for c in rs[0]["result"].per_class]
        entry["per_class_f1"] = {c: float(np.mean([r["result"].per_class[j].f1 for r in rs])) for j, c in enumerate(classes)}
        models[name] = entry
    best = max(models, key=lambda m: models[m]["macro_f1"]["mean"])
    ref = by_model[best][0]
    for name, rs in by_model.items():
        if name == best:
            continue
        r = rs[0]
        test = metrics.paired_bootstrap(ref["y_true"], ref["y_prob"], r["y_prob"], ref["thresholds"], r["thresholds"],
                                        n_boot=n_boot)
        models[name]["vs_best"] = {"macro_f1_p": test["macro_f1"]["p"], "map_p": test["map"]["p"],
                                   "macro_f1_diff": -test["macro_f1"]["diff"], "map_diff": -test["map"]["diff"]}
    return {"best": best, "n_clips": int(len(ids)), "models": models}


def cell(stat: dict) -> str:
    """A score over seeds: mean ± standard deviation, or the one value of a single seed (no spread
    to show: a ± 0.000 would claim one)."""
    return f"{stat['mean']:.3f}" if len(stat["values"]) == 1 else f"{stat['mean']:.3f} ± {stat['std']:.3f}"


def to_markdown(cmp: dict, title: str = "Comparison") -> str:
    models = cmp["models"]
    order = sorted(models, key=lambda m: -models[m]["macro_f1"]["mean"])
    lines = [f"# {title}", "", f"{cmp['n_clips']} clips. Mean ± standard deviation over n seeds (n=1: the one value); "
             f"p: paired bootstrap against the best model (`{cmp['best']}`), first seed of each.", "",
             "| model | seeds | micro precision | micro recall | micro F1 | macro F1 | macro F1 (present classes) | mAP "
             "| p (macro F1) | p (mAP) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for m in order:
        e = models[m]
        vs = e.get("vs_best")
        p1, p2 = (f"{vs['macro_f1_p']:.4f}", f"{vs['map_p']:.4f}") if vs else ("best", "best")
        cells = " | ".join(cell(e[k]) for k in TABLE_SCORES)
        lines.append(f"| {m} | n={len(e['seeds'])} | {cells} | {p1} | {p2} |")
    classes = list(models[order[0]]["per_class_f1"])
    lines += ["", "## Per-class F1 (mean over seeds)", "", "| class | " + " | ".join(order) + " |",
              "| --- |" + " --- |" * len(order)]
    for c in classes:
        lines.append(f"| {c} | " + " | ".join(f"{models[m]['per_class_f1'][c]:.3f}" for m in order) + " |")
    return "\n".join(lines) + "\n"


def to_csv(cmp: dict) -> str:
    """One line per model and seed: every score of :data:`SCORES`, then the per-class F1 means."""
    models = cmp["models"]
    lines = [",".join(["model", "seed", *SCORES])]
    for m, e in models.items():
        for i, seed in enumerate(e["seeds"]):
            vals = [e[k]["values"][i] for k in SCORES]
            lines.append(",".join([f'"{m}"', str(seed), *("" if v is None else f"{v:.6f}" for v in vals)]))
    return "\n".join(lines) + "\n"


def per_class_csv(cmp: dict) -> str:
    """Per-class F1 (mean over seeds), one line per class, one column per model."""
    models = list(cmp["models"])
    classes = list(cmp["models"][models[0]]["per_class_f1"])
    lines = [",".join(["class", *(f'"{m}"' for m in models)])]
    lines += [",".join([c, *(f"{cmp['models'][m]['per_class_f1'][c]:.6f}" for m in models)]) for c in classes]
    return "\n".join(lines) + "\n"


def write(cmp: dict, out_dir: str | Path, title: str = "Comparison") -> dict[str, Path]:
    """``compare.json``, ``compare.md``, ``compare.csv`` (per seed), ``per_class_f1.csv``,
    ``macro_boxplots.png`` and ``per_class_f1.png`` (mean over seeds per model) in ``out_dir``."""
    out = Path(out_dir)
    written = {"json": io.write_json(out / "compare.json", cmp), "markdown": io.write_text(out / "compare.md", to_markdown(cmp, title)),
               "csv": io.write_text(out / "compare.csv", to_csv(cmp)),
               "per_class_csv": io.write_text(out / "per_class_f1.csv", per_class_csv(cmp))}
    models = cmp["models"]
    classes = list(next(iter(models.values()))["per_class_f1"])
    fig = plots.class_lines({m: [e["per_class_f1"][c] for c in classes] for m, e in models.items()}, classes,
                            f"{title}: per-class F1, mean over seeds", "F1")
    written["per_class_png"] = io.save_figure(out / "per_class_f1.png", fig)
    plots.close(fig)
    fig = plots.boxplots({m: {k: e[k]["values"] for k in ("macro_precision", "macro_recall", "macro_f1")}
                          for m, e in cmp["models"].items()}, title)
    written["boxplots"] = io.save_figure(out / "macro_boxplots.png", fig)
    plots.close(fig)
    return written
