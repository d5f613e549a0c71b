"""``saz train``, ``saz evaluate`` and ``saz compare``: fit a model, score a checkpoint, compare runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from saz.cli.errors import fail, reported
from saz.cli.loaders import load_dataset, load_model, trust_option, with_audio
from saz.cli.output import console, err, note
from saz.cli.params import parse_params

if TYPE_CHECKING:
    from saz.datasets import Dataset
    from saz.metrics import Evaluation
    from saz.models.predictor import Predictor
    from saz.models.train import TrainConfig

# The help of the settings the source documents' runs choose (saz reproduce's presets set them).
PAPER_HELP = {
    "binarize": "Soft labels made hard at 0.5 (the hard protocols, the classifiers): ge (>= 0.5) or gt (> 0.5, "
                "as the HamNava paper and its *_bin files).",
    "oversample": "Oversample rare classes with the MedleyDB report's augmentation (re-cut, time stretch, pitch "
                  "shift) up to the most frequent one.",
    "unknown_labels": "rf/xgb: unknown labels count as absent, or 'skip': each class trains on the clips labelled "
                      "for it (OpenMIC's binary relevance).",
}


def train(
    model: str = typer.Argument(..., help="Registered model name (see `saz models list`)."),
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset reader name."),
    root: Path = typer.Option(..., "--root", "-r", help="Dataset root."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: log.csv, state.pt, model.pt."),
    option: List[str] = typer.Option([], "--option", help="Dataset reader option KEY=VALUE."),
    train_split: str = typer.Option("train", help="Split to train on."),
    val_split: str = typer.Option("validation", help="Split for early stopping and thresholds; cut from the "
                                  "training split (15 %, stratified) when the dataset has none."),
    protocol: str = typer.Option("auto", help="auto | hard | soft-regression | soft-train-hard-eval."),
    epochs: int = typer.Option(30),
    patience: int = typer.Option(6, help="Stop after this many epochs without a better --monitor score."),
    monitor: str = typer.Option("auto", help="Early stopping's criterion, a log.csv column: val_mse, val_loss, train_loss, "
                                "val_map or val_macro_f1_present (auto: val_mse for soft-regression, else val_map)."),
    budget: Optional[float] = typer.Option(None, "--budget-cpu-minutes", help="Stop once training has used this much CPU time (mid-epoch too)."),
    batch_size: Optional[int] = typer.Option(None),
    lr: Optional[float] = typer.Option(None),
    seed: int = typer.Option(0),
    augment: Optional[bool] = typer.Option(None, "--augment/--no-augment", help="Default: the model's own recipe."),
    hparam: List[str] = typer.Option([], "--hparam", help="Model hyperparameter KEY=VALUE."),
    feature_param: List[str] = typer.Option([], "--feature-param", help="Override the model's default feature: KEY=VALUE (feature=NAME: another extractor, from its defaults)."),
    seconds: Optional[float] = typer.Option(None, help="Clip length (default: the median clip duration)."),
    cache: Optional[Path] = typer.Option(None, help="Feature cache folder (default $SAZ_CACHE or ~/.cache/saz)."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in OUT."),
    fresh: Optional[str] = typer.Option(None, help="Render new clips during training with these levers "
                                        "(all, base, or e.g. timbres,acoustics) and swap them in every epoch."),
    samples: List[Path] = typer.Option([], help="Real sample library (../shared/samples) or folder of npm "
                                        "instrument packages (tonejs-instrument-*, Salamander piano) for the "
                                        "'timbres' lever (repeatable)."),
    init: Optional[str] = typer.Option(None, help="Fine-tune: start from this checkpoint's weights ('default' or a path; "
                                       "of an ensemble, as the default is, its first member, or the N-th with "
                                       "'default:N'). Your labels map onto its classes; the classes they never "
                                       "name are left unknown."),
    device: str = typer.Option("auto", help="PyTorch models: auto (a CUDA GPU when there is one), cpu, cuda or cuda:N."),
    label_smoothing: float = typer.Option(0.0, help="PyTorch models: pull training targets towards 0.5 by this share "
                                          "(e.g. 0.1: 1 -> 0.95, 0 -> 0.05)."),
    binarize: str = typer.Option("ge", help=PAPER_HELP["binarize"]),
    oversample: bool = typer.Option(False, "--oversample", help=PAPER_HELP["oversample"]),
    unknown_labels: str = typer.Option("absent", help=PAPER_HELP["unknown_labels"]),
) -> None:
    """Train any model on any dataset with hard, soft or partial labels; writes OUT/model.pt."""
    from saz.cli.synth import fresh_clips
    from saz.models.checkpoint import CheckpointError
    from saz.models.train import TrainConfig, override_feature, starting_feature, train_on_dataset, training_input

    with reported(ValueError, KeyError, CheckpointError):
        cfg = TrainConfig(model, parse_params(hparam), protocol=protocol, epochs=epochs, patience=patience,
                          budget_cpu_minutes=budget, batch_size=batch_size, lr=lr, augment=augment, seed=seed, init=init,
                          device=device, label_smoothing=label_smoothing, binarize=binarize,
                          monitor=monitor, unknown_labels=unknown_labels, oversample=oversample)
        feature_cfg = override_feature(starting_feature(cfg), parse_params(feature_param))
    tr, va = _training_sets(with_audio(load_dataset(dataset, root, option), root), root, train_split, val_split, seed)
    with reported(ValueError):
        if init:
            tr, va = _fine_tuning(cfg, tr, va)
        feature, seconds = training_input(cfg, tr, feature_cfg, seconds)
        with fresh_clips(fresh, samples, seed, feature, seconds, tr.vocab) as take:
            path = train_on_dataset(cfg, tr, va, out, feature_cfg, seconds, cache, resume, fresh=take)
    _report_training(model, path)


def _training_sets(ds: Dataset, root: Path, train: str, validation: str, seed: int) -> tuple[Dataset, Dataset]:
    """The training and validation clips (a line when the latter are cut from the former); exit 1
    for an unknown split or too few clips to train."""
    from saz.datasets.splits import train_and_validation

    with reported(KeyError):
        tr, va, carved = train_and_validation(ds, train, validation, seed)
    if carved:
        err.print(f"no '{validation}' split: validating on a stratified 15 % of '{train}' ({len(va)} clips)")
    if not len(tr) or not len(va):
        fail(f"{root}: {len(tr)} training and {len(va)} validation clips with audio: too few to train")
    return tr, va


def _fine_tuning(cfg: TrainConfig, train: Dataset, val: Dataset) -> tuple[Dataset, Dataset]:
    """The sets labelled over the classes of the checkpoint the run starts from, and a line on
    what that means: which of its classes the labels teach, and how many they leave unknown."""
    import numpy as np

    from saz.models.train import fine_tuning_sets

    train, val = fine_tuning_sets(cfg, train, val)
    taught = [n for j, n in enumerate(train.vocab.names) if (~np.isnan(train.y[:, j])).any()]
    if len(taught) == len(train.vocab):
        err.print(f"fine-tuning from {cfg.init}: your labels teach all {len(taught)} of its classes")
    else:
        err.print(f"fine-tuning from {cfg.init}: your labels teach {len(taught)} of its {len(train.vocab)} classes "
                  f"({', '.join(taught)}); the other {len(train.vocab) - len(taught)} are left unknown, taught neither "
                  "present nor absent")
    return train, val


def _report_training(model: str, path: Path) -> None:
    """The run's one-line result: best epoch, validation scores (the F1 of ``log.csv``), CPU time,
    checkpoint; and a warning when its tuned thresholds call nearly everything present."""
    from saz.metrics import threshold_collapse
    from saz.models.checkpoint import Checkpoint

    ckpt = Checkpoint.load(path)
    info, v = ckpt.info, ckpt.info["validation"]
    if (balance := info.get("data", {}).get("balance")) is not None:
        shift = ", ".join(f"{k} {n} -> {balance['after'][k]}" for k, n in balance["before"].items() if n)
        err.print(f"oversampled to {balance['train_clips']} training clips; positives per class: {shift}")
    if (warning := threshold_collapse(ckpt.thresholds)) is not None:
        note("warning", f"{path}: {warning}")
    console.print(f"{model}: best epoch {info['best_epoch']} of {info['epochs_run']}, validation macro F1 over present "
                  f"classes {v['macro_f1_present']:.3f} (log.csv's val_macro_f1_present), mAP "
                  f"{v['map'] if v['map'] is None else round(v['map'], 3)}; {info['cpu_seconds']:.0f} CPU-s -> {path}")


def evaluate(
    checkpoint: str = typer.Argument(..., help="Checkpoint file (model.pt) or 'default'."),
    dataset: str = typer.Option(..., "--dataset", "-d"),
    root: Path = typer.Option(..., "--root", "-r"),
    split: Optional[str] = typer.Option("test", help="Split to score ('all' for every clip)."),
    out: Path = typer.Option(..., "--out", "-o", help="Report folder."),
    option: List[str] = typer.Option([], "--option", help="Dataset reader option KEY=VALUE."),
    protocol: Optional[str] = typer.Option(None, help="Override the checkpoint's protocol (e.g. hard)."),
    cache: Optional[Path] = typer.Option(None, help="Feature cache folder."),
    long_clips: str = typer.Option("windows", help="Clips longer than the model's window: 'windows' (every "
                                   "window, maxed, as saz predict hears them) or 'centre' (the centre window only)."),
    profile: Optional[str] = typer.Option(None, "--profile", help="Score with one of the model's threshold profiles "
                                          "instead of its tuned thresholds."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Score with this one threshold for every class "
                                              "(e.g. 0.5, as the HamNava paper) instead of the tuned ones."),
    binarize: Optional[str] = typer.Option(None, help="Soft truth made hard at 0.5: ge (>=) or gt (>); default: the "
                                           "rule the model was trained with."),
    trust: bool = trust_option(),
) -> None:
    """Score a checkpoint on a dataset split: report.json/.md, plots and predictions.npz."""
    from saz.evaluation.scoring import LONG_CLIPS, evaluate_checkpoint
    from saz.metrics import threshold_collapse

    if long_clips not in LONG_CLIPS:
        fail(f"--long-clips must be one of {', '.join(LONG_CLIPS)} (got '{long_clips}')", code=2)
    if threshold is not None and not 0.0 < threshold < 1.0:
        fail(f"--threshold must lie strictly between 0 and 1 (got {threshold})", code=2)
    if threshold is not None and profile is not None:
        fail("--threshold and --profile both choose the thresholds: give one", code=2)
    if binarize not in (None, "ge", "gt"):
        fail(f"--binarize must be ge or gt (got '{binarize}')", code=2)
    predictor = load_model(checkpoint, profile, trust)
    ds = with_audio(load_dataset(dataset, root, option, split), root)
    result = evaluate_checkpoint(predictor, ds, out, protocol, cache, long_clips=long_clips, profile=profile,
                                 threshold=threshold, binarize=binarize)
    for line in result.run.skipped_clips:
        note("skipped", line)
    if (warning := threshold_collapse(predictor.thresholds_for(profile))) is not None:
        note("warning", f"{checkpoint}: {warning}")
    console.print(f"{predictor.name} on {dataset}/{split} ({result.n_clips} clips): {_headline(result)} -> {out / 'report.md'}")
    if result.timeline is not None:
        from saz.report import timeline_line

        console.print(timeline_line(result.timeline))
    if predictor.has_attention:
        _attention(predictor, ds, out, cache)


def _attention(predictor: Predictor, ds: Dataset, out: Path, cache: Optional[Path]) -> None:
    """A model with attention over time: its maps of the first clips and, where the dataset has
    frame activity, their score against it (:func:`saz.evaluation.attention.write_attention`)."""
    import json

    from saz.evaluation.attention import write_attention

    files = write_attention(predictor, ds, out, cache_dir=cache)
    line = f"attention maps -> {out / 'attention'}"
    if "score" in files:
        s = json.loads(files["score"].read_text())
        auc = "none scorable" if s["mean_auc"] is None else f"mean ROC AUC {s['mean_auc']:.3f}"
        line += f"; attention against frame activity: {auc} over {s['pairs']} (clip, class) pairs partly active"
    console.print(line)


def _headline(result: Evaluation) -> str:
    """An evaluation in one line: macro F1 over the classes the split labels first, over all the
    model's classes (the absent ones as 0) named apart, then micro F1, mAP, label accuracy."""
    extra = f", MSE {result.mse:.4f}, R² {result.r2:.3f}" if result.mse is not None else ""
    return (f"macro F1 {result.macro_f1_present:.3f} over the {result.n_present} classes present (over all "
            f"{result.n_classes}, absent ones as 0: {result.macro.f1:.3f}), micro F1 {result.micro.f1:.3f}, "
            f"mAP {result.map if result.map is None else round(result.map, 3)}, "
            f"label accuracy {result.label_accuracy:.3f}{extra}")


def compare(
    runs: List[Path] = typer.Argument(..., help="Folders written by `saz evaluate` (same clips)."),
    out: Path = typer.Option(..., "--out", "-o"),
    title: str = typer.Option("Comparison"),
) -> None:
    """Mean ± std over seeds, box plots, per-class F1 and paired p-values against the best model."""
    from saz.evaluation import compare as cmp

    with reported(ValueError):
        result = cmp.compare(runs)
    cmp.write(result, out, title)
    console.print(cmp.to_markdown(result, title))
