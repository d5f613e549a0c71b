"""``saz models``: the model zoo, a checkpoint's contents, ensembles, threshold profiles and
thresholds per prediction window."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from saz.cli.errors import reported
from saz.cli.loaders import load_dataset, load_model
from saz.cli.output import console, heading, note

app = typer.Typer(help="The model zoo: list models, describe a model or checkpoint.", no_args_is_help=True)


@app.command("list")
def models_list() -> None:
    """Every registered model with its input, default feature and source."""
    from saz.models import MODELS

    table = Table("name", "input", "default feature", "source")
    for name, cls in sorted(MODELS.items()):
        feat = ", ".join(f"{k}={v}" for k, v in cls.default_feature.items())
        table.add_row(name, cls.input_kind, feat, cls.source)
    console.print(table)


@app.command("info")
def models_info(model: str = typer.Argument("default", help="'default', a model name, or a checkpoint file.")) -> None:
    """The model card of the bundled default, a registered model's description, or a checkpoint's contents."""
    from saz.models import MODELS
    from saz.models.checkpoint import Checkpoint, CheckpointError
    from saz.models.describe import checkpoint_summary, model_description
    from saz.prediction import default_card, resolve_model

    if model == "default":
        console.print(default_card())
        return
    if model in MODELS:
        title, doc = model_description(model)
        heading(model, title)
        console.print(doc)
        return
    with reported(CheckpointError):
        summary = checkpoint_summary(Checkpoint.load(resolve_model(model)))
    heading(summary.model, summary.heading)
    console.print(summary.feature)
    for columns, rows in ((summary.columns, summary.rows), (["validation", "value"], summary.validation)):
        if rows:
            table = Table(*columns)
            for row in rows:
                table.add_row(*row)
            console.print(table)
    for line in summary.notes:
        console.print(line)


@app.command("ensemble")
def models_ensemble(
    checkpoints: List[str] = typer.Argument(..., help="Two or more checkpoints ('default' or files) of one feature, "
                                            "clip length and vocabulary."),
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset to tune the ensemble's thresholds on."),
    root: Path = typer.Option(..., "--root", "-r"),
    split: str = typer.Option("validation", help="Split to tune thresholds on (not one you will report)."),
    out: Path = typer.Option(..., "--out", "-o", help="The ensemble checkpoint to write."),
    option: List[str] = typer.Option([], "--option", help="Dataset reader option KEY=VALUE."),
    cache: Optional[Path] = typer.Option(None, help="Feature cache folder."),
    combine: str = typer.Option("mean", help="How members' probabilities join: 'mean', or 'max' (one member that "
                                "knows a sound can speak for it)."),
) -> None:
    """One checkpoint that joins the probabilities of several (each keeps its own input scaling)."""
    from saz.evaluation.calibration import tune_ensemble
    from saz.models.checkpoint import Checkpoint, CheckpointError
    from saz.models.ensemble import combination
    from saz.prediction import resolve_model

    with reported(CheckpointError, ValueError):
        combination(combine)  # before any feature is computed
        members = [Checkpoint.load(resolve_model(c)) for c in checkpoints]
    ds = load_dataset(dataset, root, option, split)
    with reported(ValueError):
        ckpt, problems = tune_ensemble(members, [ds], {"ensemble": list(checkpoints), "tuned_on": f"{dataset}/{split} ({len(ds)} clips)"},
                                         combine, cache)
    for line in problems:
        note("skipped", line)
    ckpt.save(out)
    val = ckpt.info["validation"]
    console.print(f"ensemble of {len(members)} -> {out}: on {dataset}/{split} macro F1 {val['macro']['f1']:.3f}, "
                  f"mAP {val['map'] if val['map'] is None else round(val['map'], 3)}")


@app.command("profile")
def models_profile(
    checkpoint: str = typer.Argument(..., help="'default' or a checkpoint file."),
    name: str = typer.Option(..., "--name", "-n", help="Name of the threshold profile (saz predict --profile NAME)."),
    dataset: str = typer.Option(..., "--dataset", "-d", help="Your labelled recordings (e.g. a CSV manifest: csv)."),
    root: Path = typer.Option(..., "--root", "-r"),
    out: Path = typer.Option(..., "--out", "-o", help="The checkpoint to write: a copy with the profile added."),
    split: str = typer.Option("all", help="Split of the dataset to fit on ('all' for every clip)."),
    rule: str = typer.Option("f1", help="f1: best F1 on your clips; fpr: the tuned thresholds lowered to where "
                             "--rate of your negatives score above them."),
    rate: float = typer.Option(0.05, help="The share of negatives allowed above the threshold (rule fpr)."),
    option: List[str] = typer.Option([], "--option", help="Dataset reader option KEY=VALUE."),
    cache: Optional[Path] = typer.Option(None, help="Feature cache folder."),
) -> None:
    """Fit a threshold profile to your own labelled recordings and write the checkpoint with it."""
    from saz.evaluation.calibration import RULES, fit_profile, threshold_moves

    predictor = load_model(checkpoint)
    ds = load_dataset(dataset, root, option, split)
    with reported(ValueError):
        thresholds, info = fit_profile(predictor, ds, rule, rate, cache)
        about = (f"fitted on {info['clips']} clips of {ds.name} ({root.name}, {split}) by rule {rule}: "
                 f"{RULES[rule].replace('`rate`', f'{rate:g}')}; other classes keep the tuned thresholds")
        ckpt = predictor.checkpoint.with_profile(name, thresholds, about)
    for line in info["skipped"]:
        note("skipped", line)
    if info["unknown_classes"]:
        note("not in the model's vocabulary", ", ".join(info["unknown_classes"]))
    ckpt.save(out)
    moved = threshold_moves(predictor.vocab.names, predictor.thresholds, thresholds)
    console.print(f"profile '{name}' ({len(info['fitted'])} classes fitted on {info['clips']} clips) -> {out}")
    console.print(f"thresholds moved: {', '.join(moved) or 'none'}")


@app.command("windows")
def models_windows(
    checkpoint: str = typer.Argument(..., help="'default' or a checkpoint file."),
    dataset: str = typer.Option(..., "--dataset", "-d", help="Labelled validation clips (e.g. saz-bench, csv)."),
    root: Path = typer.Option(..., "--root", "-r"),
    out: Path = typer.Option(..., "--out", "-o", help="The checkpoint to write: a copy with the window thresholds."),
    window: List[float] = typer.Option(..., "--window", "-w", help="A prediction window in seconds (repeat)."),
    split: str = typer.Option("validation", help="Split of the dataset to tune on ('all' for every clip)."),
    option: List[str] = typer.Option([], "--option", help="Dataset reader option KEY=VALUE."),
) -> None:
    """Tune the model's thresholds again for shorter or longer prediction windows (saz predict --window)."""
    from saz.evaluation.calibration import window_thresholds

    predictor = load_model(checkpoint)
    ds = load_dataset(dataset, root, option, split)
    with reported(ValueError):
        table = window_thresholds(predictor, [ds], sorted(set(window)))
        about = f"tuned for F1 at each window on {len(ds.clips)} clips of {ds.name} ({root.name}, {split})"
        ckpt = predictor.checkpoint.with_window_thresholds(table, about)
    ckpt.save(out)
    console.print(f"thresholds for {', '.join(f'{w:g}-s' for w in table)} windows -> {out}")
