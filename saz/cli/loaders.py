"""The dataset and the model a command names, loaded with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from saz.cli.errors import reported
from saz.cli.params import parse_params

if TYPE_CHECKING:
    from saz.datasets import Dataset
    from saz.models.predictor import Predictor


def load_dataset(name: str, root: Path, options: list[str], split: str | None = None) -> Dataset:
    """Reader ``name`` on ``root`` with its KEY=VALUE ``options``; with ``split``, that split
    only ('all': every clip). Exit status 1 for an unreadable root or an unknown split."""
    import saz.evaluation  # noqa: F401  (registers the real set)
    from saz.datasets import DatasetError, load
    from saz.datasets.splits import split_of

    with reported(DatasetError, KeyError, ValueError, TypeError):
        ds = load(name, root, **parse_params(options))
    if split is None:
        return ds
    with reported(KeyError):
        return split_of(ds, split)


def with_audio(ds: Dataset, root: Path) -> Dataset:
    """The clips of ``ds`` (read from ``root``) that have audio; the others named in one ``skipped:`` line."""
    from saz.cli.output import note

    kept, missing = ds.with_audio()
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        note("skipped", f"{root}: {len(missing)} of {len(ds)} clips have no audio file, left out ({shown}); "
                        f"going on with {len(kept)}")
    return kept


def trust_option() -> bool:
    """The ``--trust-checkpoint`` option of the commands that load a model to use it."""
    return typer.Option(False, "--trust-checkpoint", help="Load a checkpoint of an older saz whose estimator is a "
                        "pickle, which can run any code: only for a file whose source you trust.")


def load_model(model: str, profile: str | None = None, trust: bool = False) -> Predictor:
    """The model ('default' or a checkpoint file), loaded once, with its threshold ``profile``
    checked: exit status 1 for the model (a pickled estimator too, unless ``trust``), 2 for the profile."""
    from saz.models.checkpoint import CheckpointError
    from saz.prediction import load_predictor

    with reported(CheckpointError):
        predictor = load_predictor(model, trust)
    with reported(ValueError, code=2):
        predictor.thresholds_for(profile)
    return predictor
