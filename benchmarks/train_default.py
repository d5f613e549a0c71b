"""Rebuild the bundled default model with the generalisation recipe, in resumable stages.

    python benchmarks/train_default.py --work DIR [--levers all] [--train 4000] [--epochs 40]
        [--patience 6] [--budget CPU_MINUTES] [--init CHECKPOINT|none] [--no-fresh]
        [--samples DIR ...] [--render KEY=VALUE ...] [--ensemble-with CHECKPOINT ...]
        [--combine mean|max] [--tune-also DIR ...] [--ship rule|always] [--device auto]

1. renders a corpus with the recipe's levers (``--train`` clips and a fifth as many for
   validation; TimGM6mb and the held-out real recordings are never used);
2. trains ``saznet`` until validation stops improving (``--patience`` epochs), the epoch cap or
   the CPU budget (``--fresh`` swaps newly rendered clips in every epoch), resumable after an
   interruption, starting from ``--init`` (default: ``benchmarks/models/default-v1.pt``, the
   first default, trained on saz-bench v1; ``--init none`` trains from scratch);
3. with ``--ensemble-with CHECKPOINT...``, makes the shipped model an ensemble of the trained
   checkpoint and those (probabilities averaged, thresholds tuned on the validation clips, and on
   those of ``--tune-also`` folders);
4. scores it exactly as ``benchmarks/generalisation.py`` scores its rows (saz-bench v1 unseen-
   SoundFont test, real single-instrument recordings, real polyphonic audio), and the shipped
   default on the same clips;
5. only if the candidate passes the acceptance rule (:func:`refusals`: it keeps the targets the
   shipped default meets, no test finds it significantly worse, its real polyphonic macro F1 is
   higher; ``--ship always`` skips the rule), copies it to ``saz/models/weights/default.pt``,
   writes its card (``default.md``, shown by ``saz models info default``) and the training curve
   (``benchmarks/results/default_training.{csv,png}``); otherwise it says why and leaves the
   candidate's card and scores in the work folder.

The command line of the shipped default, its scores and how it was chosen are in
``docs/default-model.md``; earlier runs are in the project's git history.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from saz import io, plots
from saz.datasets import load
from saz.evaluation import acceptance, card
from saz.evaluation.calibration import ensemble_of_files
from saz.evaluation.suite import TESTS, eval_sets, score
from saz.models.bundled import record_default_checksum
from saz.models.checkpoint import Checkpoint
from saz.models.ensemble import COMBINE
from saz.models.train import TrainConfig, train_on_dataset, training_input
from saz.prediction import DEFAULT_CARD, DEFAULT_MODEL
from saz.progress import log
from saz.synth.recipes import RECIPE_SEED, build_corpus, parse_levers, recipe
from saz.synth.render import config_overrides
from saz.synth.stream import fresh_clips

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results"
SPEC = ROOT / "benchmarks" / "saz-bench-v1.toml"


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--levers", default="all")
    ap.add_argument("--train", type=int, default=4000)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--patience", type=int, default=6)
    ap.add_argument("--budget", type=float, default=None, help="stop after this many CPU-minutes of training")
    ap.add_argument("--fresh", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--hparam", action="append", default=[], help="saznet hyperparameter KEY=VALUE")
    ap.add_argument("--render", action="append", default=[],
                    help="override a recipe option KEY=VALUE (a RenderConfig field, e.g. sample_fraction=0.7)")
    ap.add_argument("--workers", "-j", type=int, default=2)
    ap.add_argument("--samples", type=Path, nargs="+", default=[SHARED / "samples"],
                    help="sample libraries and/or folders of npm instrument packages (saz.synth.sources.PACKAGE_FAMILIES)")
    ap.add_argument("--init", default=str(Path(__file__).parent / "models" / "default-v1.pt"))
    ap.add_argument("--stage", choices=("corpus", "all"), default="all")
    ap.add_argument("--device", default="auto", help="auto (a CUDA GPU when there is one), cpu, cuda or cuda:N")
    ap.add_argument("--ensemble-with", type=Path, nargs="*", default=[],
                    help="ship an ensemble of the trained model and these checkpoints (probabilities joined by --combine)")
    ap.add_argument("--combine", choices=tuple(COMBINE), default="mean",
                    help="how the ensemble joins its members' probabilities: mean, or max (one member that knows a "
                         "sound speaks for it)")
    ap.add_argument("--tune-also", type=Path, nargs="*", default=[],
                    help="saz-bench-format folders whose validation clips join this run's when the ensemble's "
                         "thresholds are tuned (e.g. the first 800 of saz-bench v1's validation split)")
    ap.add_argument("--ship", choices=("rule", "always"), default="rule",
                    help="rule: replace the shipped default only if the acceptance rule holds (see refusals); "
                         "always: replace it whatever the scores")
    ap.add_argument("--shared", type=Path, default=SHARED, help="the folder the real set is read from (samples/, fixtures/)")
    return ap.parse_args()


def card_run(args: argparse.Namespace, levers: tuple[str, ...], samples: list) -> card.CardRun:
    """The run as the card describes it."""
    return card.CardRun(levers=levers, train=args.train, fresh=args.fresh, samples=tuple(p.name for p in args.samples),
                        recordings=card.recordings(samples), init=args.init, epochs=args.epochs, patience=args.patience,
                        budget=args.budget, render=tuple(args.render), ensemble_with=tuple(p.name for p in args.ensemble_with),
                        tune_also=tuple(p.name for p in args.tune_also), combine=args.combine)


def train(args: argparse.Namespace, cfg, work: Path) -> Path:
    """Train the recipe's model (resumable) and, with ``--ensemble-with``, join it with those checkpoints."""
    ds = load("saz-bench", work / "corpus")
    hparams = dict(h.split("=", 1) for h in args.hparam)
    tc = TrainConfig(model="saznet", hparams=hparams, epochs=args.epochs, patience=args.patience, seed=0,
                     budget_cpu_minutes=args.budget, device=args.device,
                     init=None if args.init == "none" else args.init)
    log("training")
    train_set = ds.subset("train")
    feature, seconds = training_input(tc, train_set)
    with fresh_clips(cfg if args.fresh else None, feature, seconds, train_set.vocab, tc.seed) as fresh:
        path = train_on_dataset(tc, train_set, ds.subset("validation"), work / "run", seconds=seconds,
                                cache_dir=work / "features", resume=True, progress=False, fresh=fresh)
    if not args.ensemble_with:
        return path
    validations = [ds.subset("validation"), *(load("saz-bench", d).subset("validation") for d in args.tune_also)]
    ckpt = ensemble_of_files([path, *args.ensemble_with], validations, args.combine, work / "features", progress=False)
    return ckpt.save(work / "ensemble.pt")


def main() -> None:
    args = parse_args()
    work = args.work.resolve()
    levers = parse_levers(args.levers)
    try:
        overrides = config_overrides(args.render)
    except ValueError as e:
        raise SystemExit(f"--render {e}") from None
    cfg = recipe(levers, args.samples, seed=RECIPE_SEED, **overrides)
    log(f"corpus ({', '.join(levers) or 'no levers'}, {args.train} clips)")
    build_corpus(cfg, work / "corpus", args.train, args.workers)
    if args.stage == "corpus":
        return
    path = train(args, cfg, work)
    log("scoring")
    sets = eval_sets(SPEC, args.shared, work, args.workers)
    scores = score(path, sets, work / "eval", work / "features")
    reports = {name: json.loads((work / "eval" / name / "report.json").read_text()) for name in TESTS}
    ckpt = Checkpoint.load(path)
    run = card_run(args, levers, cfg.samples)
    scores["training"] = f"started from {card.started(args.init)}; {card.stopping(ckpt.info, run)}"
    scores["model"] = card.model_line(ckpt)
    facts = card.run_facts(ckpt, run, scores, reports)
    if args.ship == "rule" and DEFAULT_MODEL.exists():
        shipped = score(DEFAULT_MODEL, sets, work / "eval-shipped", work / "features")
        reasons = acceptance.refusals(scores, shipped, work / "eval", work / "eval-shipped")
        if reasons:
            card.write(ckpt, facts, work / "candidate.md", work / "candidate.card.json")
            log(f"not shipped ({'; '.join(reasons)}); candidate card and scores in {work}")
            return
    io.write_bytes(DEFAULT_MODEL, path.read_bytes())
    record_default_checksum()
    card.write(ckpt, facts, DEFAULT_CARD, card.facts_path(DEFAULT_CARD))
    io.write_text(RESULTS / "default_training.csv", (work / "run" / "log.csv").read_text())
    previous = None if args.init == "none" else Checkpoint.load(Path(args.init)).info.get("history")
    fig = plots.training_curve(pd.read_csv(work / "run" / "log.csv"), previous, "default model: training curve")
    io.save_figure(RESULTS / "default_training.png", fig)
    plots.close(fig)
    io.write_json(RESULTS / "default_model.json", scores)
    log(f"default model -> {DEFAULT_MODEL}: {json.dumps(scores)}")


if __name__ == "__main__":
    main()
