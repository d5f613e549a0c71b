"""The ``saz`` command line: a thin layer over the library's functions.

One module per command group; each command parses its options, calls the library and prints.
:mod:`saz.cli.errors` turns the library's errors into one line and an exit status,
:mod:`saz.cli.params` reads KEY=VALUE options, :mod:`saz.cli.loaders` loads the dataset and the
model a command names, :mod:`saz.cli.inputs` says what a folder scan skipped, :mod:`saz.cli.output`
prints. Heavy modules are imported inside the commands, so ``saz --help`` is fast.
"""

from __future__ import annotations

from typing import Optional

import typer

from saz.cli import annotate, datasets, features, models, predict, reproduce, serve, study, sweep, synth, teach, train
from saz.cli.output import console

app = typer.Typer(
    help="saz: which instruments play in a recording, how sure, and when.",
    no_args_is_help=True,
    add_completion=False,
)


def version() -> None:
    """Print the saz version."""
    from saz._version import __version__

    console.print(__version__)


def _print_version(asked: bool) -> None:
    """``saz --version``: the version, then exit (an eager option, before any command)."""
    if asked:
        version()
        raise typer.Exit()


@app.callback()
def main(show_version: Optional[bool] = typer.Option(None, "--version", callback=_print_version, is_eager=True,
                                                   help="Print the saz version and exit.")) -> None:
    """saz: which instruments play in a recording, how sure, and when."""


app.command()(features.features)
app.command("features-list")(features.features_list)
app.command()(train.train)
app.command()(train.evaluate)
app.command()(train.compare)
app.command()(sweep.sweep)
app.command()(predict.predict)
app.command()(serve.serve)
app.command()(teach.teach)
app.command()(reproduce.reproduce)
app.command()(version)
app.add_typer(datasets.app, name="datasets")
app.add_typer(synth.app, name="synth")
app.add_typer(models.app, name="models")
app.add_typer(annotate.app, name="annotate")
app.add_typer(study.app, name="study")

__all__ = ["app"]
