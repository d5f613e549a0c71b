"""Train one run of a setting per seed and score it on the splits it names, with saz's own
training (:func:`saz.models.train.train_on_dataset`) and scoring
(:func:`saz.evaluation.scoring.evaluate_checkpoint`).

A run folder ``runs/<name>/seed<k>/`` holds the training run (``model.pt``, ``log.csv``) and one
``saz evaluate`` folder per split (``eval-<split>/``). A finished model or evaluation is not done
again, so an interrupted ``saz reproduce`` goes on where it stopped. Training settings this saz
does not know (a field :class:`TrainConfig` lacks, e.g. a stopping criterion) are left out and
reported as not applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from saz.datasets import Dataset
from saz.datasets.splits import train_and_validation
from saz.evaluation.scoring import evaluate_checkpoint
from saz.models.base import get_model_class
from saz.models.predictor import Predictor
from saz.models.train import TrainConfig, override_feature, starting_feature, train_on_dataset

RUN_KEYS = ("name", "feature", "evaluate", "seconds", "label")  # a run's keys that are not TrainConfig's


@dataclass
class RunResult:
    """One run of one seed: its training folder and evaluation folder per split."""

    name: str
    seed: int
    folder: Path
    parameters: int | None = None
    evaluations: dict[str, Path] = field(default_factory=dict)


def train_config(run: dict[str, Any], defaults: dict[str, Any], seed: int, not_applied: list[str]) -> TrainConfig:
    """``TrainConfig`` of a run (its keys over the setting's ``[train]`` defaults); keys it does
    not have are listed in ``not_applied`` (once per run and key)."""
    known = {f.name for f in fields(TrainConfig)}
    settings = {**defaults, **{k: v for k, v in run.items() if k not in RUN_KEYS}}
    for k, v in settings.items():
        line = f"run {run['name']}: training setting {k} = {v!r} (not in this saz version)"
        if k not in known and line not in not_applied:
            not_applied.append(line)
    kwargs = {k: v for k, v in settings.items() if k in known and k != "seed"}
    if kwargs.get("augment") and getattr(get_model_class(run["model"]), "augment", None) is None:
        line = f"run {run['name']}: augmentation (model {run['model']} has no augmentation recipe in this saz version)"
        if line not in not_applied:
            not_applied.append(line)
        kwargs["augment"] = False
    return TrainConfig(seed=seed, **kwargs)


def run_seed(run: dict[str, Any], defaults: dict[str, Any], ds: Dataset, out: Path, seed: int,
             not_applied: list[str], cache: Path | None = None, seconds: float | None = None,
             figures: bool = True) -> RunResult:
    """Train ``run`` with ``seed`` on ``ds``'s train split (validating on its validation split, or
    a stratified 15 % of train without one), unless already done, and score it on each split of
    ``run['evaluate']`` (with ``saz evaluate``'s figures unless ``figures`` is False)."""
    folder = out / "runs" / run["name"] / f"seed{seed}"
    cfg = train_config(run, defaults, seed, not_applied)
    train, val, _ = train_and_validation(ds, seed=seed)
    model_path = folder / "model.pt"
    if not model_path.exists():
        feature = override_feature(starting_feature(cfg), run.get("feature", {}))
        train_on_dataset(cfg, train, val, folder, feature, run.get("seconds", seconds), cache, resume=(folder / "state.pt").exists(),
                         progress=False)
    predictor = Predictor.load(model_path)
    result = RunResult(run["name"], seed, folder, predictor.info.get("parameters"))
    for split in run.get("evaluate", ["test"]):
        target = folder / f"eval-{split}"
        if not (target / "report.json").exists():
            evaluate_checkpoint(predictor, ds.subset(split), target, cache_dir=cache, progress=False,
                                title=f"{run['name']} (seed {seed}) on {split}", figures=figures)
        result.evaluations[split] = target
    return result
