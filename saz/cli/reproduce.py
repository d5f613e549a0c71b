"""``saz reproduce``: rerun a source document's setting on your copy of its dataset and get its
tables beside the published ones."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from saz.cli.errors import fail, reported
from saz.cli.output import console, err, note


def reproduce(
    document: str = typer.Argument(..., help="hamnava | cultural | medleydb | openmic."),
    root: Optional[Path] = typer.Option(None, "--root", "-r", help="The document's dataset (cultural: the "
                                        "single-instrument sample library the clips are mixed from)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder: REPORT.md, tables/, figures/, "
                                       "analyses/, runs/, settings.toml (an interrupted run resumes)."),
    seeds: Optional[int] = typer.Option(None, "--seeds", help="Seeds per model (default: the setting's)."),
    budget: str = typer.Option("paper", "--budget", help="paper (the document's epochs and sizes) or tiny (a smoke run)."),
    settings: Optional[Path] = typer.Option(None, "--settings", help="A setting file (TOML) to use instead of the "
                                            "document's; start from --show-settings."),
    show_settings: bool = typer.Option(False, "--show-settings", help="Print the document's setting (TOML) and exit."),
    cache: Optional[Path] = typer.Option(None, help="Feature cache folder (default $SAZ_CACHE or ~/.cache/saz)."),
) -> None:
    """Run DOCUMENT's setting end to end (data, features, models, training, scoring) and write its
    tables, analyses and figures, each table beside the numbers the document reports."""
    from saz.datasets import DatasetError
    from saz.reproduce import reproduce as run
    from saz.reproduce.settings import BUDGETS, DOCUMENTS, settings_text

    if document not in DOCUMENTS:
        fail(f"unknown document '{document}' (choose from {', '.join(DOCUMENTS)})", code=2)
    if budget not in BUDGETS:
        fail(f"--budget must be one of {', '.join(BUDGETS)} (got '{budget}')", code=2)
    if show_settings:
        console.print(settings_text(document), end="", soft_wrap=True)
        return
    if root is None or out is None:
        fail("--root and --out are needed (or --show-settings)", code=2)
    if seeds is not None and seeds < 1:
        fail(f"--seeds must be at least 1 (got {seeds})", code=2)
    with reported(ValueError, KeyError, DatasetError, OSError):
        result = run(document, root, out, seeds, budget, settings, cache, log=lambda line: err.print(line))
    for line in result.not_applied:
        note("not applied", line)
    from saz.reproduce.tables import to_markdown

    for table in result.tables:
        console.print(to_markdown(table), soft_wrap=True)
    console.print(f"{len(result.tables)} tables, {sum(len(v) for k, v in result.files.items() if k != 'tables')} "
                  f"analysis files -> {out / 'REPORT.md'}")
