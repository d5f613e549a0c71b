"""What the prediction window costs: the default model at shorter windows than it was trained on.

    python benchmarks/window_length.py --tune RECIPEVAL BENCHVAL [--also FOLDER ...]
        [--windows 5 4 3 2.5 2 1.5 1] [--add-to-default]

``saz predict --window W`` cuts a recording into windows of ``W`` seconds (hop ``W``/2) and gives
each instrument its highest window probability; shorter windows draw a finer timeline. The
members were trained on 5-s clips, and their thresholds were tuned at 5 s. For each window this
script hears every validation clip of each folder (saz-bench format) as ``saz predict`` does
(:func:`saz.evaluation.calibration.window_probabilities`) and scores macro F1 over the classes present and
mAP, with the thresholds tuned at 5 s and with thresholds tuned again at that window on the
``--tune`` folders' clips (:func:`saz.evaluation.calibration.fit_thresholds`, as
:func:`saz.evaluation.calibration.window_thresholds` does). ``--also`` folders are scored only: e.g. the
``lg-*`` and ``unheard`` folders of ``benchmarks/unheard_gap.py``'s work folder, mixtures in the
texture of the real polyphonic clips (single notes with silence between them), to see whether a
shorter window helps there. Only validation clips are read.

With ``--add-to-default`` the thresholds tuned at every window other than 5 s are written into
the shipped default (:meth:`saz.models.checkpoint.Checkpoint.with_window_thresholds`), where ``saz predict
--window`` picks the nearest; its answers at 5-s windows do not change.

Results: ``benchmarks/results/window_length.{md,json,png}``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from saz import io, plots
from saz.datasets import load
from saz.evaluation import card
from saz.evaluation.calibration import fit_thresholds, window_probabilities
from saz.evaluation.compare import macro_f1_present
from saz.labels import binarize
from saz.metrics import evaluate
from saz.models.bundled import record_default_checksum
from saz.models.checkpoint import Checkpoint
from saz.prediction import DEFAULT_CARD, DEFAULT_MODEL, load_predictor
from saz.progress import log

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results"

def scores(y: np.ndarray, p: np.ndarray, names: list[str], thresholds: np.ndarray) -> dict:
    r = evaluate(y, p, names, thresholds)
    return {"macro_f1_present": round(macro_f1_present(r), 4), "map": round(float(r.map), 4)}


def table_md(rows: list[dict], folders: list[str], windows: list[float]) -> list[str]:
    lines = ["| window (s) | " + " | ".join(folders) + " |", "| --- |" + " --- |" * len(folders)]
    for w in windows:
        cells = []
        for name in folders:
            r = next(r for r in rows if r["window"] == w and r["set"] == name)
            cells.append(f"{r['shipped']['macro_f1_present']:.3f} / **{r['retuned']['macro_f1_present']:.3f}** / {r['shipped']['map']:.3f}")
        lines.append(f"| {w:g} | " + " | ".join(cells) + " |")
    return lines


def figure(rows: list[dict], folders: list[str], path: Path) -> None:
    fig, ax = plots.plt.subplots(figsize=(7, 4))
    for name in folders:
        mine = [r for r in rows if r["set"] == name]
        line, = ax.plot([r["window"] for r in mine], [r["retuned"]["macro_f1_present"] for r in mine], "o-", label=name)
        ax.plot([r["window"] for r in mine], [r["shipped"]["macro_f1_present"] for r in mine], "x--", color=line.get_color(), alpha=0.6)
    ax.set_xlabel("prediction window (s); dashed: thresholds tuned at 5 s, solid: tuned at each window")
    ax.set_ylabel("macro F1 over present classes")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    io.save_figure(path, fig)
    plots.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tune", type=Path, nargs="+", required=True, help="folders whose clips thresholds are tuned on")
    ap.add_argument("--also", type=Path, nargs="*", default=[], help="further folders, scored only")
    ap.add_argument("--windows", type=float, nargs="+", default=[5.0, 4.0, 3.0, 2.5, 2.0, 1.5, 1.0])
    ap.add_argument("--add-to-default", action="store_true", help="write the per-window thresholds into the default")
    args = ap.parse_args()
    pred = load_predictor("default")
    if args.add_to_default and pred.seconds not in args.windows:
        ap.error(f"--add-to-default compares against the default's own {pred.seconds:g}-s window: include it in --windows")
    names = list(pred.vocab.names)
    sets = {f.name: load("saz-bench", f).subset("validation") for f in [*args.tune, *args.also]}
    tune = [f.name for f in args.tune]
    rows, table = [], {}
    for w in args.windows:
        log(f"window {w:g} s")
        heard = {name: window_probabilities(pred, ds, w, progress=False) for name, ds in sets.items()}
        truth = binarize(np.concatenate([heard[n][1] for n in tune]), 0.5)
        table[w] = fit_thresholds(truth, np.concatenate([heard[n][0] for n in tune]), pred.thresholds, "f1")[0]
        for name, (p, y) in heard.items():
            rows.append({"window": w, "set": name, "shipped": scores(y, p, names, pred.thresholds),
                         "retuned": scores(y, p, names, table[w])})
    io.write_json(RESULTS / "window_length.json", {"tune": tune, "rows": rows,
                                                   "thresholds": {str(w): [float(x) for x in t] for w, t in table.items()}})
    also = f" --also {' '.join(f.name for f in args.also)}" if args.also else ""
    lines = ["# The prediction window", "",
             f"Written by `python benchmarks/window_length.py --tune {' '.join(tune)}{also}`: the shipped default heard "
             "as `saz predict --window W` hears a file (hop W/2, the highest window) on validation clips. Each cell: "
             f"macro F1 over the classes present with the thresholds tuned at 5 s / with thresholds tuned again at that "
             f"window on {' and '.join(tune)} (what `saz predict --window W` now uses, the nearest window) / mAP.", "",
             *table_md(rows, list(sets), args.windows), "",
             "Folders: `recipeval` = validation clips of the default's training recipe, `benchval` = saz-bench v1 "
             "validation clips (the two the default's thresholds were tuned on); `soundfont-notes`, "
             "`heard-recordings`, `freepats` = mixtures of single notes with silence between them, as the real "
             "polyphonic clips are mixed (`benchmarks/unheard_gap.py`), of SoundFonts and recordings the default "
             "heard and of freepats, which it did not."]
    io.write_text(RESULTS / "window_length.md", "\n".join(lines) + "\n")
    figure(rows, list(sets), RESULTS / "window_length.png")
    log(f"wrote {RESULTS / 'window_length.md'}")
    if args.add_to_default:
        others = {w: t for w, t in table.items() if w != pred.seconds}
        shortest, last = min(others), tune[-1]
        at = {(r["window"], r["set"]): r for r in rows}
        about = (f"tuned for F1 at each window on the validation clips of {' and '.join(tune)}, as the 5-s thresholds "
                 f"were; at {shortest:g}-s windows macro F1 on {last} {at[shortest, last]['retuned']['macro_f1_present']:.3f} "
                 f"with them, {at[shortest, last]['shipped']['macro_f1_present']:.3f} with the 5-s ones, "
                 f"{at[pred.seconds, last]['shipped']['macro_f1_present']:.3f} at {pred.seconds:g} s")
        ckpt = Checkpoint.load(DEFAULT_MODEL).with_window_thresholds(others, about)
        ckpt.save(DEFAULT_MODEL)
        record_default_checksum()
        card.write(ckpt, card.read_facts(card.facts_path(DEFAULT_CARD)), DEFAULT_CARD, card.facts_path(DEFAULT_CARD))
        log(f"wrote thresholds for {', '.join(f'{w:g}-s' for w in others)} windows into {DEFAULT_MODEL}")


if __name__ == "__main__":
    main()
