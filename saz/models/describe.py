"""What ``saz models info`` says about a registered model or a checkpoint, as text."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from saz.models.checkpoint import Checkpoint


@dataclass
class CheckpointSummary:
    """A checkpoint in words: the heading, its feature line, the per-class threshold table (one
    column per threshold profile) and notes on profiles, window thresholds and validation."""

    model: str
    heading: str
    feature: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


def model_description(name: str) -> tuple[str, str]:
    """A registered model's one-line heading (input kind, source) and its module's docstring."""
    from saz.models import MODELS

    cls = MODELS[name]
    return f"({cls.input_kind} input; source: {cls.source})", (import_module(cls.__module__).__doc__ or "").strip()


def checkpoint_summary(ckpt: Checkpoint) -> CheckpointSummary:
    """The contents of a loaded checkpoint."""
    info = ckpt.info
    profiles = ckpt.threshold_profiles
    rows = [[name, f"{t:.2f}", *(f"{p.thresholds[j]:.2f}" for p in profiles.values())]
            for j, (name, t) in enumerate(zip(ckpt.vocabulary.names, ckpt.thresholds))]
    notes = [f"threshold profile '{name}' (saz predict --profile {name}): {p.about}" for name, p in profiles.items()]
    if tabled := ckpt.window_thresholds:
        windows = ", ".join(f"{w:g}-s" for w in tabled.windows)
        notes.append(f"thresholds for {windows} prediction windows (saz predict --window: the nearest): {tabled.about}")
    notes.append(f"validation: {info.get('validation')}")
    return CheckpointSummary(
        model=ckpt.name,
        heading=f"checkpoint (saz {ckpt.saz_version}), protocol {info.get('protocol')}",
        feature="feature: " + ", ".join(f"{k}={v}" for k, v in ckpt.feature.items()) + f"; {ckpt.seconds:g}-s clips",
        columns=["class", "threshold", *(f"'{p}' profile" for p in profiles)],
        rows=rows,
        notes=notes,
    )
