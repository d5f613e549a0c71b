"""Leave-one-source-out on generated data: how much of what a model learns is one SoundFont?

    python benchmarks/loso.py --work DIR [--train 1200] [--test 400] [--epochs 12]

Four General MIDI SoundFonts from Debian (FluidR3_GM, MuseScore_General, csound's sf_GMbank,
TimGM6mb) take turns as the held-out source. Each fold renders ``--train`` clips (and a fifth as
many for validation) from the other three, with the performance, acoustics and ensembles levers
(the timbre lever's real recordings are left out, so SoundFonts are the only timbre source),
trains ``saznet`` (seed 0, ``--epochs``), and scores it on ``--test`` plain clips rendered from
the held-out SoundFont alone, on music21 pieces never used in training (as saz-bench v1's test).
The gap between the validation score (the SoundFonts it trained on) and the held-out score is
what a model owes to presets it has heard rather than to instruments. The held-out macro F1 is
given twice: with the per-class thresholds tuned on validation (as every saz model ships) and
with 0.5 for every class, which says whether thresholds tuned on heard timbres transfer.
Each fold then trains the model ``--epochs`` more (from its own weights, as the shipped default
was trained in runs) and scores the continued model alone and an ensemble of the two checkpoints
(probabilities averaged, thresholds tuned on validation): evidence, independent of the real
sets, on whether such an ensemble transfers better than its newest member. All three
checkpoints of each fold are also scored on the ``real`` set
(:func:`saz.evaluation.suite.score_real`), the real-audio line every benchmark reports.

Every fold's corpus chunks, epochs and scores are kept, so running again continues. The folds
that train on TimGM6mb are separate models: saz-bench v1's unseen-SoundFont test is untouched.
Results: ``benchmarks/results/loso.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from saz import io, metrics
from saz.datasets import Dataset, load
from saz.evaluation.realset import load_real
from saz.evaluation.scoring import evaluate_checkpoint
from saz.evaluation.suite import REAL_MIXES, score_real
from saz.features.dataset import dataset_features
from saz.models.ensemble import ensemble
from saz.models.predictor import Predictor
from saz.models.train import TrainConfig, train_on_dataset
from saz.progress import log
from saz.synth.corpus import build_split
from saz.synth.recipes import RECIPE_SEED, build_corpus, recipe
from saz.synth.render import RenderConfig, RenderGenerator, corpus_pieces
from saz.vocabulary import load_map

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results"

SOURCES = ("FluidR3_GM", "MuseScore_General", "sf_GMbank", "TimGM6mb")
LEVERS = ("performance", "acoustics", "ensembles")
REAL_KEYS = ("real_single_top1", "real_poly_macro_f1_present", "real_poly_map", "real_single_n", "real_poly_n")


def run_fold(held: str, args: argparse.Namespace, work: Path, real: Dataset) -> dict:
    """Render the fold's corpus and its held-out test, train, score (each step resumable)."""
    others = tuple(s for s in SOURCES if s != held)
    folder = work / held
    cfg = recipe(LEVERS, seed=RECIPE_SEED, soundfonts=others)
    log(f"{held}: corpus from {', '.join(others)}")
    build_corpus(cfg, folder / "corpus", args.train, args.workers)
    test_cfg = RenderConfig(soundfonts=(held,), corpus_pieces=corpus_pieces("test", RECIPE_SEED), corpus_fraction=0.3)
    build_split(RenderGenerator(test_cfg, RECIPE_SEED + 2, prefix="te"), folder / "corpus", "test", args.test,
                list(load_map()), test_cfg.sr, 100, args.workers)
    ds = load("saz-bench", folder / "corpus")
    log(f"{held}: training")
    tc = TrainConfig(model="saznet", epochs=args.epochs, patience=args.epochs, seed=0)
    model = train_on_dataset(tc, ds.subset("train"), ds.subset("validation"), folder / "run",
                             cache_dir=work / "features", resume=True, progress=False)
    log(f"{held}: scoring")
    pred = Predictor.load(model)
    r = evaluate_checkpoint(pred, ds.subset("test"), folder / "eval", cache_dir=work / "features", progress=False)
    val = pred.info["validation"]
    npz = np.load(folder / "eval" / "predictions.npz")
    half = metrics.evaluate(npz["y_true"], npz["y_prob"], list(npz["classes"]), 0.5)
    log(f"{held}: training on, then the ensemble of both checkpoints")
    tc = TrainConfig(model="saznet", epochs=args.epochs, patience=args.epochs, seed=0, init=str(model))
    later = train_on_dataset(tc, ds.subset("train"), ds.subset("validation"), folder / "run-continued",
                             cache_dir=work / "features", resume=True, progress=False)
    X_val, y_val, _, _ = dataset_features(ds.subset("validation"), pred.feature, pred.seconds, work / "features", False)
    both = ensemble([pred, Predictor.load(later)], X_val, y_val, {}).save(folder / "ensemble.pt")
    scores = {name: evaluate_checkpoint(Predictor.load(path), ds.subset("test"), folder / f"eval-{name}",
                                        cache_dir=work / "features", progress=False)
              for name, path in (("continued", later), ("ensemble", both))}
    log(f"{held}: the three checkpoints on the real set")
    real_scores = {name: score_real(Predictor.load(path), real, folder / f"real-{name}", work / "features")
                   for name, path in (("first", model), ("continued", later), ("ensemble", both))}
    return {"trained_on": list(others), "val_macro_f1": val["macro"]["f1"], "val_map": val["map"],
            "held_out_macro_f1": r.macro.f1, "held_out_macro_f1_at_half": half.macro.f1,
            "held_out_map": r.map, "n_test": args.test,
            **{f"{name}_{k}": v for name, e in scores.items() for k, v in (("macro_f1", e.macro.f1), ("map", e.map))},
            **{f"{name}_{k}": e[k] for name, e in real_scores.items() for k in REAL_KEYS}}


def markdown(results: dict, args: argparse.Namespace) -> str:
    lines = ["# Leave-one-source-out on generated data", "",
             "Written by `python benchmarks/loso.py` (see its docstring). Each fold trains `saznet` (seed 0, "
             f"{args.epochs} epochs) on {args.train} + {args.train // 5} clips rendered from three of the four Debian GM "
             "SoundFonts with the performance, acoustics and ensembles levers, and is scored on "
             f"{args.test} plain clips of the fourth, on music21 pieces never trained on. "
             "*Validation* = clips of the three SoundFonts it trained on; the gap is what the model owes to presets it has heard. "
             "Held-out macro F1 with the per-class thresholds tuned on validation, and with 0.5 for every class.", "",
             "| held-out SoundFont | validation macro F1 | validation mAP | held-out macro F1 | held-out macro F1 at 0.5 | "
             "held-out mAP | gap (macro F1) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for held, r in results.items():
        lines.append(f"| {held} | {r['val_macro_f1']:.3f} | {r['val_map']:.3f} | {r['held_out_macro_f1']:.3f} | "
                     f"{r['held_out_macro_f1_at_half']:.3f} | {r['held_out_map']:.3f} | {r['val_macro_f1'] - r['held_out_macro_f1']:+.3f} |")
    if results:
        mean = {k: sum(r[k] for r in results.values()) / len(results)
                for k in ("val_macro_f1", "held_out_macro_f1", "held_out_macro_f1_at_half", "held_out_map")}
        lines += ["", f"Mean over {len(results)} folds: validation macro F1 {mean['val_macro_f1']:.3f}, held-out macro F1 "
                  f"{mean['held_out_macro_f1']:.3f} ({mean['held_out_macro_f1_at_half']:.3f} at 0.5), held-out mAP {mean['held_out_map']:.3f}."]
        lines += ["", "## Training on, and an ensemble of the two checkpoints", "",
                  f"Each fold's model trained {args.epochs} epochs more from its own weights (*continued*), and the "
                  "ensemble of the first and the continued checkpoint (probabilities averaged, thresholds tuned on "
                  "validation), on the held-out SoundFont:", "",
                  "| held-out SoundFont | first macro F1 / mAP | continued macro F1 / mAP | ensemble macro F1 / mAP |",
                  "| --- | --- | --- | --- |"]
        for held, r in ((h, r) for h, r in results.items() if "ensemble_macro_f1" in r):
            lines.append(f"| {held} | {r['held_out_macro_f1']:.3f} / {r['held_out_map']:.3f} | {r['continued_macro_f1']:.3f} / "
                         f"{r['continued_map']:.3f} | {r['ensemble_macro_f1']:.3f} / {r['ensemble_map']:.3f} |")
    real = {held: r for held, r in results.items() if "ensemble_real_poly_map" in r}
    if real:
        first = next(iter(real.values()))
        lines += ["", "## On real audio", "",
                  "The same three checkpoints of each fold on the `real` set (`saz evaluate --dataset real`; clips longer "
                  "than 5 s on their centre window, as in `generalisation.md`): top-1 over the 32 classes on "
                  f"{first['first_real_single_n']} real single-instrument recordings, macro F1 over the classes present and "
                  f"mAP on {first['first_real_poly_n']} real polyphonic clips. No fold heard a real recording: SoundFonts are "
                  "their only timbre source, so this is the floor the real-source levers of `generalisation.md` start from.", "",
                  "| held-out SoundFont | first: single top-1 / poly macro F1 / poly mAP | continued | ensemble |",
                  "| --- | --- | --- | --- |"]
        for held, r in real.items():
            cells = [f"{100 * r[f'{m}_real_single_top1']:.1f} % / {r[f'{m}_real_poly_macro_f1_present']:.3f} / "
                     f"{r[f'{m}_real_poly_map']:.3f}" for m in ("first", "continued", "ensemble")]
            lines.append(f"| {held} | " + " | ".join(cells) + " |")
        mean = {f"{m}_{k}": sum(r[f"{m}_{k}"] for r in real.values()) / len(real) for m in ("first", "continued", "ensemble")
                for k in ("real_single_top1", "real_poly_macro_f1_present")}
        lines += ["", f"Mean over {len(real)} folds, single top-1 / poly macro F1: first "
                  f"{100 * mean['first_real_single_top1']:.1f} % / {mean['first_real_poly_macro_f1_present']:.3f}, continued "
                  f"{100 * mean['continued_real_single_top1']:.1f} % / {mean['continued_real_poly_macro_f1_present']:.3f}, "
                  f"ensemble {100 * mean['ensemble_real_single_top1']:.1f} % / {mean['ensemble_real_poly_macro_f1_present']:.3f}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--folds", default=",".join(SOURCES), help="held-out SoundFonts, comma-separated")
    ap.add_argument("--train", type=int, default=1200)
    ap.add_argument("--test", type=int, default=400)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--workers", "-j", type=int, default=2)
    ap.add_argument("--shared", type=Path, default=SHARED, help="the folder the real set is read from (samples/, fixtures/)")
    args = ap.parse_args()
    work = args.work.resolve()
    results_path = work / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    real = load_real(args.shared, mixes=REAL_MIXES, cache=str(work / "real-mix"))
    for held in filter(None, args.folds.split(",")):
        if held not in SOURCES:
            raise SystemExit(f"unknown SoundFont '{held}' (choose from {', '.join(SOURCES)})")
        if "ensemble_real_poly_map" not in results.get(held, {}):  # folds scored before a later stage run it too
            results[held] = run_fold(held, args, work, real)
            log(f"{held}: {json.dumps(results[held])}")
            io.write_json(results_path, results)
        io.write_json(RESULTS / "loso.json", {"train": args.train, "test": args.test, "epochs": args.epochs, "folds": results})
        io.write_text(RESULTS / "loso.md", markdown(results, args))


if __name__ == "__main__":
    main()
