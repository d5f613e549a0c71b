"""Which generalisation lever makes a model trained on generated music hear real instruments?

    python benchmarks/generalisation.py --work DIR [--rows=base,all,-timbres,...] [--train 2400] [--epochs 12]

Every row of the ablation renders its own corpus (``--train`` clips to train on and a fifth as
many to early-stop and tune thresholds on, FluidR3_GM and MuseScore_General unless the row adds
sources; TimGM6mb is never used, so saz-bench v1's test stays unseen), trains ``saznet`` for the
same number of epochs with seed 0, and is scored on the same held-out sets:

- ``v1 test``: the first 500 clips of saz-bench v1's unseen-SoundFont test split;
- ``real single``: real recordings of one instrument (top-1 accuracy over the vocabulary);
- ``real poly``: real polyphonic audio: mixtures of held-out real recordings and real band
  excerpts (macro F1 over the classes present, mAP).

Rows are ``base`` (the v1 recipe), ``base`` plus one lever, ``all`` levers, ``all`` minus one
lever, ``all:fresh`` (a worker renders new clips during training; each epoch swaps them in for
the oldest, so this row also uses a second core), ``all:clip`` / ``all:band`` (saznet's
input normalisation), ``all:wide`` (saznet twice as wide: 266k parameters instead of 73k) and
``all:init:shift`` (``all:init`` with each real recording played up to 2 semitones faster or
slower, ``RenderConfig.sample_shift``), ``all:init:npm`` (``all:init`` with the npm instrument
packages of ``--npm``, the default's other real sources, beside ``--samples``) and
``all:init:freepats`` (``all:init`` with Debian's freepats patches, :mod:`saz.synth.patches`, beside
``--samples``), ``all:init:smooth`` (``all:init`` with label smoothing 0.1), ``all:pcen`` (``all``
with PCEN, :mod:`saz.features.pcen`, in place of the log-mel) and ``all:init:physical`` (``all:init``
with physical-model notes, :mod:`saz.synth.physical`, beside ``--samples``) and ``all:init:isolated``
(``all:init`` with presets playing isolated notes in silence, as recorded notes do, for 30 % of
their stems, ``RenderConfig.preset_isolated``).
Everything is resumable: a corpus chunk, an epoch and a scored row are kept, so
running the command again continues (a row scored on an earlier version of the real set is
scored again, and keeps its old numbers until then); ``--rows=`` with no row only rewrites the tables (after a new
default model). Results: ``benchmarks/results/generalisation.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from saz import io
from saz.compare import macro_f1_present
from saz.datasets import Dataset, load
from saz.evaluation import evaluate_checkpoint
from saz.metrics import bootstrap_intervals, top1_hits
from saz.models import get_model_class
from saz.models.predictor import Predictor
from saz.models.train import TrainConfig, train_on_dataset
from saz.synth.bench import Spec, _generator
from saz.synth.corpus import build_split
from saz.vocabulary import load_map
from saz.synth.patches import FREEPATS
from saz.synth.physical import is_physical_set, render_notes
from saz.synth.recipes import LEVERS, parse_levers, recipe, timbre_sources
from saz.synth.render import RenderConfig, RenderGenerator

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results"
V1_DEFAULT = ROOT / "benchmarks" / "models" / "default-v1.pt"
SAZNET_FEATURE = get_model_class("saznet").default_feature
SEED = 20261126
REAL_SINGLE_BEFORE_AUDIBLE = 456  # size of `real single` before breath and key-noise layers were left out
ROWS = ("v1-default", "base", "+acoustics", "all", "all:clip", "all:init", "+timbres", "+performance", "+ensembles", "all:fresh",
        "all:band", "all:wide", "-timbres", "-acoustics", "-performance", "-ensembles", "all:init:shift", "all:init:npm",
        "all:init:freepats", "all:init:smooth", "all:pcen", "all:init:physical", "all:init:isolated")
RENDER_FLAGS = {  # row flag -> the RenderConfig field it sets
    "shift": ("sample_shift", 2.0),  # real recordings played up to 2 semitones faster or slower
    "isolated": ("preset_isolated", 0.3),  # presets play isolated notes in silence for 30 % of their stems
}


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def row_levers(row: str) -> tuple[str, ...]:
    """Levers of a row's corpus: 'base', 'all', '+LEVER' (base plus one), '-LEVER' (all but one),
    each optionally followed by ':fresh' (fresh clips every epoch), ':clip' or ':band'
    (saznet's input normalisation), ':wide' (saznet's width 256), ':shift', ':isolated', ':npm' and
    ':freepats' (corpus flags, see :func:`row_render`), ':physical' (the same), ':smooth' and ':pcen' (see
    :func:`row_training`)."""
    name = row.split(":")[0]
    if name in ("base", "all"):
        return parse_levers(name)
    if name[:1] in "+-" and name[1:] in LEVERS:
        return (name[1:],) if name[0] == "+" else tuple(x for x in LEVERS if x != name[1:])
    raise ValueError(f"unknown row '{row}' (base, all, +LEVER, -LEVER with LEVER in {', '.join(LEVERS)}; "
                     "then :fresh, :clip, :band, :wide, :init, :shift, :isolated, :npm, :freepats, :physical, :smooth or :pcen)")


class RowTraining(NamedTuple):
    fresh: bool                   # a worker renders new clips during training
    hparams: dict                 # saznet hyperparameters
    init: str | None              # the checkpoint training starts from
    label_smoothing: float        # TrainConfig.label_smoothing
    feature: dict | None          # the input feature (None: saznet's log-mel)


def row_training(row: str) -> RowTraining:
    """How the row trains: ':fresh' clips, saznet's input normalisation (':clip', ':band') and width
    (':wide'), the start (':init' = the saz-bench v1 default, ``benchmarks/models/default-v1.pt``),
    ':smooth' = label smoothing 0.1, ':pcen' = PCEN instead of the log of the mel spectrogram (from
    scratch only: the v1 default heard log-mels)."""
    flags = row.split(":")[1:]
    unknown = set(flags) - {"fresh", "clip", "band", "init", "wide", "shift", "isolated", "npm", "freepats", "physical", "smooth",
                            "pcen"}
    if unknown:
        raise ValueError(f"unknown row flag(s) {', '.join(sorted(unknown))} in '{row}'")
    if {"pcen", "init"} <= set(flags):
        raise ValueError(f"'{row}': ':pcen' trains from scratch (the v1 default heard log-mels), not with ':init'")
    norm = [f for f in flags if f in ("clip", "band")]
    init = str(V1_DEFAULT) if "init" in flags else None
    hparams = ({"input_norm": norm[0]} if norm else {}) | ({"width": 256} if "wide" in flags else {})
    feature = {**SAZNET_FEATURE, "feature": "pcen"} if "pcen" in flags else None
    return RowTraining("fresh" in flags, hparams, init, 0.1 if "smooth" in flags else 0.0, feature)


def row_render(row: str) -> tuple[str, dict, tuple[str, ...]]:
    """The row's corpus folder name, its RenderConfig overrides (:data:`RENDER_FLAGS`) and the real sources it adds
    to ``--samples`` ('npm': the packages of ``--npm``; 'freepats': :data:`FREEPATS`; 'physical':
    physical-model notes, :mod:`saz.synth.physical`, written once to WORK/physical); rows that
    render the same clips share a corpus."""
    flags = row.split(":")[1:]
    sources = ("npm", "freepats", "physical")
    corpus = ":".join([row.split(":")[0], *(f for f in (*RENDER_FLAGS, *sources) if f in flags)])
    return corpus, dict(RENDER_FLAGS[f] for f in RENDER_FLAGS if f in flags), tuple(f for f in sources if f in flags)


def build_corpus(cfg: RenderConfig, out: Path, n_train: int, workers: int) -> None:
    classes = list(load_map())
    for split, n, seed in (("train", n_train, SEED), ("validation", n_train // 5, SEED + 1)):
        build_split(RenderGenerator(cfg, seed, prefix=split[:2]), out, split, n, classes, cfg.sr, 100, workers)


def eval_sets(work: Path, workers: int) -> dict:
    """saz-bench v1's unseen-SoundFont test (first 500 clips) and the real set."""
    spec = Spec.load(ROOT / "benchmarks" / "saz-bench-v1.toml")
    gen, n = _generator(spec, "test", spec.splits["test"], 0.25)
    v1 = work / "v1-test"
    build_split(gen, v1, "test", n, list(load_map()), spec.sr, spec.chunk_size, workers)
    real = load("real", SHARED, mixes=200, cache=str(work / "real-mix"))
    return {"v1": load("saz-bench", v1), "real": real}


def score(model: Path, sets: dict, out: Path, cache: Path) -> dict:
    """The rows' scores: saz-bench v1's unseen-SoundFont test, the real set (:func:`score_real`) and
    the model's own validation and training figures."""
    pred = Predictor.load(model)
    r_v1 = evaluate_checkpoint(pred, sets["v1"], out / "v1-test", cache_dir=cache, progress=False)
    info = pred.info
    return {"v1_macro_f1": r_v1["macro"]["f1"], "v1_map": r_v1["map"], **score_real(pred, sets["real"], out, cache),
            "val_macro_f1": info["validation"]["macro"]["f1"], "val_map": info["validation"]["map"],
            "best_epoch": info["best_epoch"], "epochs": info["epochs_run"], "cpu_minutes": info["cpu_seconds"] / 60}


def score_real(pred: Predictor, real: Dataset, out: Path, cache: Path) -> dict:
    """Scores on the ``real`` set: top-1 on single-instrument recordings, macro F1 over the classes
    present and mAP on polyphonic audio. Clips longer than the 5-s window are scored on their
    centre window (as every ablation row so far) and, in the ``*_windows`` keys, over all their
    windows as `saz predict` hears a recording (:func:`saz.evaluation.whole_clip_probabilities`).
    The ``*_interval`` keys are 95 % bootstrap intervals over clips
    (:func:`saz.metrics.bootstrap_intervals`). ``real_partial_*``: the excerpts annotated for a few
    classes only (HamNava's voice and santur), per class, kept apart from the polyphonic score."""
    single = real.subset("single")
    poly = real.subset(np.flatnonzero(real.clips["split"].isin(["mix", "band"]).to_numpy()))
    sources = single.clips["source"].to_numpy()
    scores: dict = {}
    for mode, suffix in (("centre", ""), ("windows", "_windows")):
        r_single = evaluate_checkpoint(pred, single, out / f"real-single{suffix}", protocol="hard", cache_dir=cache,
                                       progress=False, long_clips=mode)
        npz = np.load(out / f"real-single{suffix}" / "predictions.npz")
        hit = top1_hits(npz["y_true"], npz["y_prob"])
        r_poly = evaluate_checkpoint(pred, poly, out / f"real-poly{suffix}", protocol="hard", cache_dir=cache,
                                     progress=False, long_clips=mode)
        poly_npz = np.load(out / f"real-poly{suffix}" / "predictions.npz")
        scores.update({f"real_single_top1{suffix}": float(hit.mean()),
                       f"real_single_by_source{suffix}": {str(s): [int((sources == s).sum()), float(hit[sources == s].mean())]
                                                          for s in np.unique(sources)},
                       f"real_single_detected{suffix}": r_single["micro"]["recall"],
                       f"real_poly_macro_f1_present{suffix}": macro_f1_present(r_poly), f"real_poly_map{suffix}": r_poly["map"],
                       f"real_single_top1_interval{suffix}":
                           bootstrap_intervals(npz["y_true"], npz["y_prob"], npz["thresholds"])["top1"],
                       f"real_poly_macro_f1_present_interval{suffix}":
                           bootstrap_intervals(poly_npz["y_true"], poly_npz["y_prob"], poly_npz["thresholds"])["macro_f1_present"]})
    if (real.clips["split"] == "partial").any():  # excerpts annotated for a few classes only: per class
        r = evaluate_checkpoint(pred, real.subset("partial"), out / "real-partial", protocol="hard", cache_dir=cache,
                                progress=False)
        scores["real_partial_n"] = r["n_clips"]
        scores["real_partial_by_class"] = {c["class"]: {k: c[k] for k in ("support", "known", "precision", "recall", "f1")}
                                           for c in r["per_class"] if c["support"] > 0}
    return {**scores, "real_single_n": int(len(single.clips)), "real_poly_n": int(len(poly.clips))}


def source_table(by_source: dict[str, list]) -> list[str]:
    """Markdown lines: real single-instrument top-1 per held-out source (``score``'s ``real_single_by_source``)."""
    return ["No source is in training except Philharmonia, of which one recording in five is held out.", "",
            "| source | recordings | top-1 |", "| --- | --- | --- |",
            *[f"| {s} | {n} | {100 * t:.1f} % |" for s, (n, t) in by_source.items()]]


def real_single_sizes(results: dict) -> str:
    """How many real single recordings the rows were scored on, and which version of the set that is."""
    sizes = sorted({r["real_single_n"] for r in results.values()})
    text = " or ".join(map(str, sizes))
    if any(n == REAL_SINGLE_BEFORE_AUDIBLE for n in sizes):
        text += (f" ({f'{REAL_SINGLE_BEFORE_AUDIBLE}: ' if len(sizes) > 1 else ''}the set as first assembled, with 65 MTG SoloSax breath and key-noise "
                 "layers counted as saxophone, which the `real` set has left out since 2026-11-26, see "
                 "`docs/generalisation.md`; the mixtures changed with it)")
    return text


def markdown(results: dict, args: argparse.Namespace) -> str:
    lines = ["# Generalisation: ablation of the levers", "",
             f"Written by `python benchmarks/generalisation.py --train {args.train} --epochs {args.epochs}`. Each row renders "
             f"its own corpus ({args.train} training + {args.train // 5} validation 5-s clips), trains `saznet` (seed 0) "
             f"for {args.epochs} epochs (patience {args.epochs}, best epoch kept by validation), and is scored on the same "
             "held-out sets: `v1 test` = first 500 clips of saz-bench v1 `test` (TimGM6mb, never used in any row; "
             "macro F1 with thresholds tuned on the row's own validation), `real single` = "
             f"{real_single_sizes(results)} real single-instrument "
             "recordings (held-out sample libraries, TinySOL, Medley-solos-DB, IRMAS; top-1 over the 32 classes), "
             "`real poly` = 200 mixtures of held-out real recordings + real band excerpts (IRMAS, MedleyDB; macro F1 "
             "over classes present, mAP). Levers: timbres = + csound's GM bank, variation banks, two recorded "
             "drum-kit SoundFonts, real samples (Philharmonia training recordings, Hydrogen kits, Sonic Pi) for 40 % of "
             "the stems they cover (30 % of those as isolated recordings) and real distractor sounds in 30 % of clips; performance = velocity curves, "
             "timing, articulation, expression/vibrato/brightness controllers, detune, slides, transposition; acoustics "
             "= rooms, EQ, compression, limiting, noise, band-limiting, clipping, resampling, MP3/Vorbis; ensembles = "
             "half the clips drawn from real instrumentations. Rows: `v1-default` = the previous default model "
             "(saz-bench v1's 8,000 clips, 16 CPU-minutes), scored as it is, for reference; `base` = no lever (the saz-bench v1 recipe), "
             "`+X` = base plus lever X, `all` = every lever, `-X` = every lever but X, `:fresh` = a worker renders new "
             "clips with the row's recipe during training and each epoch swaps them in for the oldest (this row also "
             "uses the second core), `:clip` / `:band` = saznet's input normalisation, `:wide` = saznet at width 256 (266k parameters, 73k otherwise), `:init` = fine-tuned from the "
             "saz-bench v1 default model (`benchmarks/models/default-v1.pt`) instead of trained from scratch, `:shift` = "
             "each real recording played up to 2 semitones faster or slower (`sample_shift=2.0`), `:npm` = the npm "
             "instrument packages (16 `tonejs-instrument-*` and the Salamander Grand Piano layers, "
             "`docs/generalisation.md`) added to the real sources, `:freepats` = Debian's freepats GUS patches read as "
             "recorded notes (`saz.synth.patches`) added to them, `:physical` = notes of physical models of plucked "
             "strings, bars, tines and pans (`saz.synth.physical`, 480 notes of 10 classes) added to them, "
             "`:isolated` = presets play isolated notes in silence, as recorded notes sound, for 30 % of their stems "
             "(`preset_isolated=0.3`), "
             "`:smooth` = label smoothing 0.1 (training targets 0.05 "
             "and 0.95), `:pcen` = per-channel energy normalisation of the mel spectrogram (`saz.features.pcen`) instead "
             "of its log. A row trains "
             "bit for bit the same on one machine, not across CPUs (their kernels round differently): rows retrained "
             "on another machine moved their v1 test macro F1 by about 0.01, so read differences of that size as noise.", "",
             "| row | v1 test macro F1 | v1 test mAP | real single top-1 | real poly macro F1 | real poly mAP | "
             "validation macro F1 | best epoch |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    mixed = len({r["real_single_n"] for r in results.values()}) > 1  # then each top-1 says of how many
    for row in sorted(results, key=lambda k: ROWS.index(k) if k in ROWS else len(ROWS)):
        r = results[row]
        of = f" of {r['real_single_n']}" if mixed else ""
        lines.append(f"| {row} | {r['v1_macro_f1']:.3f} | {r['v1_map']:.3f} | {100 * r['real_single_top1']:.1f} %{of} | "
                     f"{r['real_poly_macro_f1_present']:.3f} | {r['real_poly_map']:.3f} | {r['val_macro_f1']:.3f} | "
                     f"{r['best_epoch']}/{r['epochs']} |")
    default = RESULTS / "default_model.json"
    if default.exists():
        d = json.loads(default.read_text())
        lines += ["", f"The shipped default model ({d.get('model', 'saznet')}; `benchmarks/train_default.py`: every lever, "
                  "4,000 clips plus fresh clips, "
                  "real recordings as listed in its card (`saz models info default`); "
                  f"{d.get('training', 'fine-tuned from `v1-default` for 40 epochs')}), scored on the same tests: v1 test macro F1 "
                  f"{d['v1_macro_f1']:.3f}, mAP {d['v1_map']:.3f}; real single top-1 {100 * d['real_single_top1']:.1f} % "
                  f"(of {real_single_sizes({'default': d})}); "
                  f"real poly macro F1 {d['real_poly_macro_f1_present']:.3f}, mAP {d['real_poly_map']:.3f}."]
        if "real_single_by_source" in d:
            lines += ["", "Real single-instrument top-1 of the default model per source (leave-one-source-out on real "
                      "recordings):", "", *source_table(d["real_single_by_source"])]
    lines += ["", "Leave-one-source-out on generated data (each Debian GM SoundFont held out in turn): "
              "`benchmarks/results/loso.md` (`python benchmarks/loso.py`)."]
    base, more = timbre_sources(recipe((), None)), timbre_sources(recipe(("timbres",), args.samples))
    lines += ["", "## Timbre sources per class", "",
              "What a clip of each class can sound like: SoundFont presets (over the recipe's SoundFonts, variation "
              "banks and drum-kit SoundFonts) without and with the `timbres` lever, and the real recordings (and distinct "
              "real sources: libraries, drum kits) the lever adds. Held-out sources are never counted here.", "",
              "| class | presets (base) | presets (timbres) | real recordings | real sources |", "| --- | --- | --- | --- | --- |"]
    for name in base:
        lines.append(f"| {name} | {base[name]['presets']} | {more[name]['presets']} | {more[name]['recordings']} | "
                     f"{more[name]['sources']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--train", type=int, default=2400)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--workers", "-j", type=int, default=2)
    ap.add_argument("--samples", type=Path, nargs="+", default=[SHARED / "samples"],
                    help="sample libraries and/or folders of npm instrument packages (saz.synth.sources.PACKAGE_FAMILIES)")
    ap.add_argument("--npm", type=Path, nargs="*", default=[],
                    help="folders of npm instrument packages that only ':npm' rows add to --samples")
    args = ap.parse_args()
    work = args.work.resolve()
    cache = work / "features"
    results_path = work / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    log("evaluation sets")
    sets = eval_sets(work, args.workers)
    n_single = len(sets["real"].subset("single").clips)
    for row in filter(None, args.rows.split(",")):
        if row in results and results[row]["real_single_n"] == n_single:
            continue  # done, on this real set (a row scored on an earlier set is scored again, retrained if need be)
        results[row] = run_row(row, args, work, sets, cache)
        log(f"{row}: {json.dumps(results[row])}")
        io.write_json(results_path, results)
        io.write_json(RESULTS / "generalisation.json", {"train": args.train, "epochs": args.epochs, "rows": results})
        io.write_text(RESULTS / "generalisation.md", markdown(results, args))
    io.write_json(RESULTS / "generalisation.json", {"train": args.train, "epochs": args.epochs, "rows": results})
    io.write_text(RESULTS / "generalisation.md", markdown(results, args))  # also picks up a new default model


def run_row(row: str, args: argparse.Namespace, work: Path, sets: dict, cache: Path) -> dict:
    """Render the row's corpus, train its model (both resumable) and score it."""
    if row == "v1-default":  # the reference: the previous default model, scored as it is
        return score(V1_DEFAULT, sets, work / "rows" / row / "eval", cache)
    levers = row_levers(row)
    how = row_training(row)
    corpus_name, render, extra = row_render(row)
    if "npm" in extra and not args.npm:
        raise SystemExit(f"row {row} needs --npm (folders of npm instrument packages)")
    if "freepats" in extra and not FREEPATS.is_dir():
        raise SystemExit(f"row {row} needs Debian's freepats in {FREEPATS} (apt-get install freepats)")
    if "physical" in extra and not is_physical_set(work / "physical"):
        render_notes(work / "physical")
    extra_roots = [*(args.npm if "npm" in extra else []), *([FREEPATS] if "freepats" in extra else []),
                   *([work / "physical"] if "physical" in extra else [])]
    cfg = recipe(levers, [*args.samples, *extra_roots], seed=SEED, **render)
    folder = work / "rows" / row
    corpus = work / "rows" / corpus_name / "corpus"
    log(f"{row}: corpus ({', '.join(levers) or 'no levers'})")
    build_corpus(cfg, corpus, args.train, args.workers)
    ds = load("saz-bench", corpus)
    log(f"{row}: training")
    tc = TrainConfig(model="saznet", hparams=how.hparams, epochs=args.epochs, patience=args.epochs, seed=0, init=how.init,
                     label_smoothing=how.label_smoothing)
    model = train_on_dataset(tc, ds.subset("train"), ds.subset("validation"), folder / "run", feature_config=how.feature,
                             cache_dir=cache, resume=True, progress=False, fresh_recipe=cfg if how.fresh else None)
    log(f"{row}: scoring")
    return score(model, sets, folder / "eval", cache)


if __name__ == "__main__":
    sys.exit(main())
