"""The ``saz`` command line: a thin layer over the library's functions."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

app = typer.Typer(
    help="saz: which instruments play in a recording, how sure, and when.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)


def parse_params(items: list[str]) -> dict:
    """``["n_mels=64", "fmax=8000"]`` -> ``{"n_mels": 64, "fmax": 8000}`` (Python literals)."""
    out = {}
    for item in items:
        if "=" not in item:
            raise typer.BadParameter(f"expected KEY=VALUE, got '{item}'")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = ast.literal_eval(v.strip())
        except (ValueError, SyntaxError):
            out[k.strip()] = v.strip()
    return out


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err, transient=False,
    )


@app.command()
def features(
    paths: List[Path] = typer.Argument(..., help="Audio files and/or folders (searched recursively)."),
    feature: str = typer.Option("logmel", "--feature", "-f", help="Registered extractor name."),
    out: Path = typer.Option(Path("saz-features"), "--out", "-o", help="Output folder for .npy files."),
    param: List[str] = typer.Option([], "--param", "-p", help="Extractor parameter KEY=VALUE (repeatable)."),
    sr: int = typer.Option(22050, help="Sample rate the audio is resampled to."),
    workers: int = typer.Option(1, "--workers", "-j", help="Parallel worker processes."),
    cache: Optional[Path] = typer.Option(None, help="Cache folder (default $SAZ_CACHE or ~/.cache/saz)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Recompute everything, write no cache."),
) -> None:
    """Compute a feature for audio files and folders, one .npy per file plus index.csv."""
    from saz.features import FEATURES, FeatureCache, get_feature
    from saz.features.extract import extract_files, output_paths, write_index

    try:
        extractor = get_feature(feature, sr=sr, **parse_params(param))
    except (KeyError, TypeError) as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2)
    pairs = output_paths(paths, out)
    if not pairs:
        err.print(f"[red]error:[/red] no audio files found in {', '.join(map(str, paths))}")
        raise typer.Exit(1)
    store = None if no_cache else FeatureCache(None if cache is None else cache)
    with progress_bar() as bar:
        task = bar.add_task(f"{feature}", total=len(pairs))
        results = extract_files(pairs, extractor, store, workers, on_result=lambda r: bar.advance(task))
    index = write_index(out / "index.csv", extractor, results)

    table = Table(title=f"{extractor.name} ({extractor.key()})")
    for col in ("file", "shape", "min", "mean", "max", "cache"):
        table.add_column(col)
    import numpy as np

    for r in results:
        if r.ok:
            x = np.load(r.output)
            table.add_row(str(r.path), "x".join(map(str, r.shape)), f"{x.min():.2f}", f"{x.mean():.2f}",
                          f"{x.max():.2f}", "hit" if r.cached else "new")
    console.print(table)
    failed = [r for r in results if not r.ok]
    for r in failed:
        err.print(f"[red]failed:[/red] {r.error}")
    console.print(f"{len(results) - len(failed)} of {len(results)} files -> {out}  (index: {index})")
    if failed and len(failed) == len(results):
        raise typer.Exit(1)


@app.command("features-list")
def features_list() -> None:
    """List the registered feature extractors and their default configuration."""
    from saz.features import FEATURES

    table = Table("name", "defaults")
    for name, cls in sorted(FEATURES.items()):
        cfg = cls().config()
        cfg.pop("feature")
        table.add_row(name, ", ".join(f"{k}={v}" for k, v in cfg.items()))
    console.print(table)


datasets_app = typer.Typer(help="Read datasets in their real formats and summarise them.", no_args_is_help=True)
app.add_typer(datasets_app, name="datasets")


@datasets_app.command("list")
def datasets_list() -> None:
    """List the dataset readers."""
    from saz.datasets import DESCRIPTIONS

    table = Table("name", "what it reads")
    for name, desc in sorted(DESCRIPTIONS.items()):
        table.add_row(name, desc)
    console.print(table)


@datasets_app.command("info")
def datasets_info(
    name: str = typer.Argument(..., help="Dataset reader name (see `saz datasets list`)."),
    root: Path = typer.Argument(..., help="Dataset root folder (or manifest file for csv)."),
    option: List[str] = typer.Option([], "--option", "-o", help="Reader option KEY=VALUE (repeatable)."),
    plots: Optional[Path] = typer.Option(None, "--plots", help="Write PNG plots (co-occurrence, counts) here."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the summary as JSON here."),
) -> None:
    """Clips per split and class, labels per clip, soft-label histogram, co-occurrence, problems."""
    from saz import io
    from saz.datasets import DatasetError, load
    from saz.datasets.summary import plot_summary

    try:
        ds = load(name, root, **parse_params(option))
    except (DatasetError, KeyError, ValueError, TypeError) as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    s = ds.summary()
    console.print(f"[bold]{name}[/bold] at {s['root']}: {s['clips']} clips, {s['classes']} classes, "
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
        err.print(f"[yellow]problem:[/yellow] {line}")
    console.print(f"{len(s['problems'])} problem(s)")


@app.command()
def version() -> None:
    """Print the saz version."""
    from saz import __version__

    console.print(__version__)


if __name__ == "__main__":
    app()
