"""What ``saz models info`` says about a registered model or a checkpoint, as text."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from saz.models.checkpoint import Checkpoint


SCORE_NAMES = {"micro": "micro F1", "macro": "macro F1 over all classes", "macro_f1_present": "macro F1 over present classes",
               "map": "mAP", "mse": "MSE", "r2": "R²"}  # the checkpoint's validation scores, as a reader says them


@dataclass
class CheckpointSummary:
    """A checkpoint in words: the heading, its feature line, the per-class threshold table (one
    column per threshold profile), its validation scores as rows of (score, value), and notes on
    profiles and window thresholds."""

    model: str
    heading: str
    feature: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    validation: list[list[str]] = field(default_factory=list)


def validation_rows(validation: dict | None) -> list[list[str]]:
    """A checkpoint's ``validation`` scores as rows of (score, value): an average's F1 with its
    precision and recall in brackets, then each number; a score a run did not compute is left out."""
    rows = []
    for key, value in (validation or {}).items():
        name = SCORE_NAMES.get(key, key)
        if isinstance(value, dict):
            rows.append([f"{name} (precision, recall)", f"{value['f1']:.3f} ({value['precision']:.3f}, {value['recall']:.3f})"])
        elif value is not None:
            rows.append([name, f"{value:.3f}"])
    return rows


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
    notes += taught_notes(info)
    return CheckpointSummary(
        model=ckpt.name,
        heading=f"checkpoint (saz {ckpt.saz_version}), protocol {info.get('protocol')}",
        feature="feature: " + ", ".join(f"{k}={v}" for k, v in ckpt.feature.items()) + f"; {ckpt.seconds:g}-s clips",
        columns=["class", "threshold", *(f"'{p}' profile" for p in profiles)],
        rows=rows,
        notes=notes,
        validation=validation_rows(info.get("validation")),
    )


def taught_notes(info: dict) -> list[str]:
    """What ``saz teach`` taught (a checkpoint's ``info["taught"]``): per class, new or refined, from
    how many recordings, its cross-validated scores, and the no-forgetting check; none otherwise."""
    rows = info.get("taught") or []
    notes = [f"taught from {info.get('examples')} on {info.get('base')} (cross-validation: {info.get('cv')}):"] if rows else []
    for r in rows:
        scores = (r.get("note", "one recording: no cross-validation") if r.get("ap") is None else
                  f"CV AP {r['ap']:.2f} (solo {_score(r.get('ap_solo'))}, in mixtures {_score(r.get('ap_mixed'))}), "
                  f"F1 {r['f1']:.2f} at threshold {r['threshold']:.2f}")
        notes.append(f"  {r['class']} ({r.get('kind')}, as {', '.join(r.get('given_as', []))}): {r['recordings']} "
                     f"recordings, {r['windows']} windows; {scores}; so few recordings make these rough estimates")
    if check := info.get("forgetting_check"):
        notes += check["lines"]
    return notes


def _score(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"
