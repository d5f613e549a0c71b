"""``saz teach``: teach a model new instruments (or refine known ones) from a few of your own recordings."""

from __future__ import annotations

from pathlib import Path

import typer

from saz.cli.errors import reported
from saz.cli.output import console, failed


def teach(
    examples: Path = typer.Argument(..., help="A folder of <instrument>/<recordings>, or a CSV of path, instrument[, recording]."),
    out: Path = typer.Option(..., "--out", "-o", help="The taught checkpoint to write (MINE.pt)."),
    base: str = typer.Option("default", "--base", help="'default' or a checkpoint to teach on (kept frozen)."),
    negatives: Path = typer.Option(None, "--negatives", help="A folder of recordings of none of the taught instruments."),
    seed: int = typer.Option(0, "--seed", help="Seed of the mixtures and the cross-validation folds."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Teach a model the instruments of EXAMPLES: new names become classes, known names (or aliases)
    refine their class; the base's other classes are unchanged. The result works with saz predict
    --model, serve --model, evaluate and models info."""
    from saz.models.checkpoint import CheckpointError
    from saz.teach import TeachError
    from saz.teach import teach as run
    from saz.teach.summary import class_line

    with reported(TeachError, CheckpointError, OSError):
        result = run(examples, base=base, negatives=negatives, seed=seed, progress=progress, on_skip=failed)
        path = result.checkpoint.save(out)
    for row in result.classes:
        console.print(class_line(row))
    for line in result.check["lines"]:
        console.print(line)
    console.print(f"taught model -> {path}")
