"""``saz datasets``: list the dataset readers, summarise a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from saz.cli.loaders import load_dataset
from saz.cli.output import console, heading, note

app = typer.Typer(help="Read datasets in their real formats and summarise them.", no_args_is_help=True)


@app.command("list")
def datasets_list() -> None:
    """List the dataset readers."""
    import saz.evaluation  # noqa: F401  (registers the real set)
    from saz.datasets import DESCRIPTIONS

    table = Table("name", "what it reads")
    for name, desc in sorted(DESCRIPTIONS.items()):
        table.add_row(name, desc)
    console.print(table)


@app.command("info")
def datasets_info(
    name: str = typer.Argument(..., help="Dataset reader name (see `saz datasets list`)."),
    root: Path = typer.Argument(..., help="Dataset root folder (or manifest file for csv)."),
    option: List[str] = typer.Option([], "--option", "-o", help="Reader option KEY=VALUE (repeatable)."),
    plots: Optional[Path] = typer.Option(None, "--plots", help="Write PNG plots (co-occurrence, counts) here."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the summary as JSON here."),
) -> None:
    """Clips per split and class, labels per clip, soft-label histogram, co-occurrence, problems."""
    from saz import io
    from saz.datasets.summary import plot_summary

    ds = load_dataset(name, root, option)
    s = ds.summary()
    heading(name, f"at {s['root']}: {s['clips']} clips, {s['classes']} classes, "
            f"{s['kind']} labels{', frame activity' if s['frame_activity'] else ''}")
    if s["per_split"]:
        console.print("splits: " + ", ".join(f"{k} {v}" for k, v in s["per_split"].items()))
    table = Table("class", "positive clips", "known")
    for c, n in s["per_class"].items():
        table.add_row(c, str(n), str(s["known_per_class"][c]))
    console.print(table)
    console.print("labels per clip: " + ", ".join(f"{k}: {v}" for k, v in s["labels_per_clip"].items()))
    if plots is not None:
        for p in plot_summary(ds, plots):
            console.print(f"plot: {p}")
    if json_out is not None:
        io.write_json(json_out, s)
    for line in s["problems"]:
        note("problem", line)
    console.print(f"{len(s['problems'])} problem(s)")
