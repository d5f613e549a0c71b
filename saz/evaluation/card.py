"""The default model's card (``saz models info default``), written from a template and its facts.

The card is never edited in place: :func:`render` writes it whole from ``templates/card.md``, the
checkpoint (its thresholds, threshold profiles and window thresholds) and the *facts* of the run
that made it (:func:`run_facts`: what was trained and how, the suite's scores, the per-class
reports), kept as JSON beside the checkpoint. Adding a threshold profile to the default therefore
means: change the checkpoint, render the card again from the same facts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any

from saz import io
from saz.evaluation.calibration import threshold_moves
from saz.evaluation.suite import TESTS

if TYPE_CHECKING:
    from saz.models.checkpoint import Checkpoint

JOINED = {"mean": "probabilities averaged", "max": "the highest of its members' probabilities per class"}


@dataclass(frozen=True)
class CardRun:
    """How the default was trained, in the words its card gives (the command line of its recipe)."""

    levers: tuple[str, ...]
    train: int
    fresh: bool
    samples: tuple[str, ...]
    recordings: str  # the real recordings the recipe draws on (:func:`recordings`)
    init: str = "none"
    epochs: int = 40
    patience: int = 6
    budget: float | None = None
    render: tuple[str, ...] = ()
    ensemble_with: tuple[str, ...] = ()
    tune_also: tuple[str, ...] = ()
    combine: str = "mean"


def recordings(samples: list[tuple[str, str, str]]) -> str:
    """The real recordings a recipe draws on (``RenderConfig.samples``), counted per kind of source."""
    kinds: dict[str, list[str]] = {}
    for _, cls, source in samples:
        kinds.setdefault(source.split(":")[0], []).append(cls)
    parts = [f"{kind} ({len(c)} files, {sum(1 for x in c if x)} of them labelled)" for kind, c in sorted(kinds.items())]
    return "; ".join(parts) or "none"


def started(init: str) -> str:
    """The card's words for the starting point of training."""
    if init == "none":
        return "scratch"
    if Path(init).name == "default-v1.pt":
        return "`default-v1.pt` (the first default, trained on saz-bench v1 only)"
    return f"`{Path(init).name}` (an earlier default, trained further)"


def stopping(info: dict[str, Any], run: CardRun) -> str:
    """Why training stopped, as the card says it."""
    best, ran = info["best_epoch"], info["epochs_run"]
    if ran - best >= run.patience:
        return f"trained until validation stopped improving (best epoch {best} of {ran}, patience {run.patience})"
    cap = f"the {run.epochs}-epoch cap" if ran >= run.epochs else f"the {run.budget:g}-CPU-minute budget"
    still = " with validation still improving" if best == ran else ""
    return f"stopped at {cap}{still} (best epoch {best} of {ran}): more training may help"


def model_line(ckpt: Checkpoint) -> str:
    """What the model is, for the card's first line."""
    info = ckpt.info
    if ckpt.kind != "ensemble":
        return f"`{ckpt.name}` ({info['parameters']:,} parameters)"
    others = ", ".join(f"`{m}`" for m in info["ensemble"])
    return (f"an ensemble of this run's `{ckpt.model['members'][0]}` checkpoint and {others} "
            f"({info['parameters']:,} parameters in all), {JOINED[ckpt.combine]}")


def _command(run: CardRun) -> str:
    """The recipe's command line, as the card quotes it."""
    extra = "".join(f" --render {r}" for r in run.render)
    if run.ensemble_with:
        extra += f" --ensemble-with {' '.join(run.ensemble_with)}"
    if run.tune_also:
        extra += f" --tune-also {' '.join(run.tune_also)}"
    if run.ensemble_with and run.combine != "mean":
        extra += f" --combine {run.combine}"
    return (f"python benchmarks/train_default.py --work DIR --levers {','.join(run.levers) or 'base'} --train {run.train}"
            f"{' --fresh' if run.fresh else ''} --samples {' '.join(run.samples)}{extra}")


def _training(ckpt: Checkpoint, run: CardRun) -> list[str]:
    """The card's bullets on the training data, input, start, stopping and validation."""
    info = ckpt.info
    hist = info["history"]
    fresh = hist[-1].get("fresh_clips", 0) if hist else 0
    tuned_also = ", ".join(f"`{p}`" for p in run.tune_also)
    return [
        f"- Data: {info['data']['train_clips']} generated 5-s clips with the generalisation levers "
        f"{', '.join(run.levers) or '(none)'} (see `saz/synth/recipes.py` and `benchmarks/results/generalisation.md`), "
        f"{info['data']['validation_clips']} more for early stopping and per-class thresholds"
        + (f"; {fresh} freshly rendered clips swapped in during training" if fresh else "")
        + (f"; the ensemble's thresholds were tuned on those together with the validation clips of {tuned_also}"
           if run.tune_also else "")
        + ". Never used: TimGM6mb and the real recordings of the `real` evaluation set.",
        f"- Real recordings in the training recipe: {run.recordings}.",
        f"- Input: {ckpt.seconds:g}-s windows, " + ", ".join(f"{k}={v}" for k, v in ckpt.feature.items()) + ".",
        f"- Started from {started(run.init)}; {stopping(info, run)}; {info['cpu_seconds'] / 60:.0f} CPU-minutes; curve in "
        "`benchmarks/results/default_training.png`. Mixup with label union, gain, pitch/time warping, SpecAugment, "
        "class-balanced BCE.",
        f"- Validation (same recipe{' and ' + tuned_also if run.tune_also else ''}): macro F1 "
        f"{info['validation']['macro']['f1']:.3f}, mAP {info['validation']['map']:.3f}.",
    ]


def run_facts(ckpt: Checkpoint, run: CardRun, scores: dict[str, Any], reports: dict[str, dict]) -> dict[str, Any]:
    """The facts a card is rendered from: the run (``run``), the suite's ``scores``
    (:func:`saz.evaluation.suite.score`) and the per-class rows of the ``reports`` (evaluation
    results by name in :data:`saz.evaluation.suite.TESTS`). JSON-ready."""
    return {
        "header": f"{model_line(ckpt)}, saz {ckpt.saz_version}. Rebuilt by `{_command(run)}` (see its docstring).",
        "training": _training(ckpt, run),
        "scores": scores,
        "tuned_scores": {k: scores[k] for k in ("v1_macro_f1", "real_single_top1", "real_poly_macro_f1_present")},
        "reports": {name: [{k: c[k] for k in ("f1", "ap", "support")} for c in reports[name]["per_class"]]
                    for name in TESTS},
    }


def _interval(bounds: list[float], scale: float = 1.0, unit: str = "") -> str:
    """A 95 % interval for the card: '95 % interval 0.425-0.477'."""
    digits = 1 if unit else 3
    return f"95 % interval {scale * bounds[0]:.{digits}f}-{scale * bounds[1]:.{digits}f}{' ' + unit if unit else ''}"


def _partial_rows(scores: dict[str, Any]) -> list[str]:
    """The row for the real excerpts annotated for a few classes only (``real`` split ``partial``)."""
    if "real_partial_by_class" not in scores:
        return []
    shown = {"dulcimer": "dulcimer (HamNava's santur)"}
    cells = [f"{shown.get(name, name)}: found in {round(c['recall'] * c['support'])} of {c['support']}, precision "
             f"{c['precision']:.2f}, F1 {c['f1']:.2f}" for name, c in scores["real_partial_by_class"].items()]
    return [f"| real ensemble excerpts annotated for a few classes only (HamNava's Persian classical excerpts, "
            f"OpenMIC-2018) | {scores['real_partial_n']} | {'; '.join(cells)} |"]


def _test_rows(s: dict[str, Any]) -> list[str]:
    """The rows of the table of the suite's tests."""
    return [
        f"| saz-bench v1 `test` (unseen TimGM6mb, first 500) | 500 | macro F1 {s['v1_macro_f1']:.3f}, mAP {s['v1_map']:.3f} |",
        f"| real single-instrument recordings (held out) | {s['real_single_n']} | top-1 {100 * s['real_single_top1']:.1f} % "
        f"({_interval(s['real_single_top1_interval'], 100, '%')}) |",
        f"| real polyphonic (held-out recordings mixed, band excerpts) | {s['real_poly_n']} | macro F1 over present "
        f"classes {s['real_poly_macro_f1_present']:.3f} ({_interval(s['real_poly_macro_f1_present_interval'])}), "
        f"mAP {s['real_poly_map']:.3f} |",
        f"| the same real single recordings, every 5-s window of a longer one (as `saz predict` hears them) | "
        f"{s['real_single_n']} | top-1 {100 * s['real_single_top1_windows']:.1f} % |",
        f"| the same real polyphonic clips, every window | {s['real_poly_n']} | macro F1 over present classes "
        f"{s['real_poly_macro_f1_present_windows']:.3f}, mAP {s['real_poly_map_windows']:.3f} |",
        *_partial_rows(s),
    ]


def source_table(by_source: dict[str, list]) -> list[str]:
    """Markdown lines: real single-instrument top-1 per held-out source (``real_single_by_source`` of
    :func:`saz.evaluation.suite.score`)."""
    return ["No source is in training except Philharmonia, of which one recording in five is held out.", "",
            "| source | recordings | top-1 |", "| --- | --- | --- |",
            *[f"| {s} | {n} | {100 * t:.1f} % |" for s, (n, t) in by_source.items()]]


def _window_lines(ckpt: Checkpoint) -> list[str]:
    """The paragraph on the checkpoint's thresholds for other prediction windows (none: no lines)."""
    windows = ckpt.window_thresholds
    if windows is None:
        return []
    tabled = ", ".join(f"{w:g}" for w in windows.windows)
    return ["", f"Prediction windows: `saz predict --window W` reads the probabilities with thresholds tuned again "
            f"at the nearest of {tabled} and {ckpt.seconds:g} seconds ({windows.about}). A shorter window gives a "
            "file more windows, and an absent instrument more chances to score high in one "
            "(`benchmarks/results/window_length.md`). A threshold profile keeps its thresholds at every window."]


def _profile_lines(ckpt: Checkpoint, tuned: dict[str, Any]) -> list[str]:
    """The section on the checkpoint's further threshold profiles, each scored beside the tuned
    thresholds (``tuned``: their scores), and on its window thresholds (neither: no section)."""
    profiles = ckpt.threshold_profiles
    if not profiles and ckpt.window_thresholds is None:
        return []

    def cells(sc: dict) -> str:
        return f"{sc['v1_macro_f1']:.3f} | {100 * sc['real_single_top1']:.1f} % | {sc['real_poly_macro_f1_present']:.3f}"

    lines = ["## Threshold profiles", "",
             "The same probabilities read with other per-class thresholds: `saz predict --profile NAME`, the API's "
             "`profile` parameter, the web page's *Thresholds* menu. Scored on the tests above:", "",
             "| profile | how its thresholds were set | v1 test macro F1 | real single top-1 | real poly macro F1 (present) |",
             "| --- | --- | --- | --- | --- |", f"| tuned (default) | tuned for F1 on the validation clips | {cells(tuned)} |"]
    lines += [f"| {name} | {p.about} | {cells(p.scores)} |" for name, p in profiles.items() if p.scores]
    for name, p in profiles.items():
        moved = threshold_moves(ckpt.vocabulary.names, ckpt.thresholds, p.thresholds)
        lines += ["", f"Thresholds that '{name}' moves: {', '.join(moved) or 'none'}."]
    return [*lines, *_window_lines(ckpt), "", ""]


def _per_class(ckpt: Checkpoint, reports: dict[str, list[dict]]) -> list[str]:
    """The table of per-class scores on each test, beside the class's threshold."""
    lines = ["| class | threshold | " + " | ".join(f"{t} F1 | {t} AP | {t} support" for t in reports) + " |",
             "| --- | --- |" + " --- | --- | --- |" * len(reports)]
    for j, name in enumerate(ckpt.vocabulary.names):
        cells = [f"{r[j]['f1']:.3f} | {'n/a' if r[j]['ap'] is None else format(r[j]['ap'], '.3f')} | {r[j]['support']}"
                 for r in reports.values()]
        lines.append(f"| {name} | {ckpt.thresholds[j]:.2f} | " + " | ".join(cells) + " |")
    return lines


def render(ckpt: Checkpoint, facts: dict[str, Any]) -> str:
    """The card of ``ckpt`` from the ``facts`` of the run that made it (:func:`run_facts`)."""
    template = Template(resources.files("saz.evaluation").joinpath("templates/card.md").read_text())
    scores = facts["scores"]
    return template.substitute(
        header=facts["header"], training="\n".join(facts["training"]), tests="\n".join(_test_rows(scores)),
        sources="\n".join(source_table(scores["real_single_by_source"])),
        profiles="\n".join(_profile_lines(ckpt, facts["tuned_scores"])), per_class="\n".join(_per_class(ckpt, facts["reports"])))


def write(ckpt: Checkpoint, facts: dict[str, Any], card_path: str | Path, facts_path: str | Path) -> Path:
    """Write the card and its facts (both atomically); returns the card's path."""
    io.write_json(facts_path, facts)
    return io.write_text(card_path, render(ckpt, facts))


def facts_path(card_path: str | Path) -> Path:
    """Where the facts of the card at ``card_path`` are kept: beside it, ``NAME.card.json``."""
    return Path(card_path).with_suffix(".card.json")


def read_facts(path: str | Path) -> dict[str, Any]:
    """The facts a card was rendered from (:func:`write`)."""
    return json.loads(Path(path).read_text())
