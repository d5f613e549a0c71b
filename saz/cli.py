"""The ``saz`` command line: a thin layer over the library's functions."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import List, Optional, Tuple

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


synth_app = typer.Typer(help="Generate labelled polyphonic music (saz-bench).", no_args_is_help=True)
app.add_typer(synth_app, name="synth")


def _progress_callback(bar: Progress, title: str):
    tasks: dict[str, int] = {}

    def tick(split: str, done: int, total: int) -> None:
        if split not in tasks:
            tasks[split] = bar.add_task(f"{title} {split}", total=total)
        bar.update(tasks[split], completed=done)

    return tick


@synth_app.command("render")
def synth_render(
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (resumable)."),
    n: int = typer.Option(100, "--n", help="Number of clips."),
    soundfont: List[str] = typer.Option(["FluidR3_GM"], "--soundfont", "-s", help="SoundFont name or path (repeatable)."),
    split: str = typer.Option("train", help="Split name written to the manifest."),
    pieces: str = typer.Option("train", help="music21 piece set: train or test (disjoint)."),
    corpus_fraction: float = typer.Option(0.3, help="Share of clips drawn from the music21 corpus."),
    min_instruments: int = typer.Option(1), max_instruments: int = typer.Option(6),
    seconds: float = typer.Option(5.0), sr: int = typer.Option(22050),
    seed: int = typer.Option(0), workers: int = typer.Option(1, "--workers", "-j"),
    keep_stems: bool = typer.Option(False, "--keep-stems", help="Also write each class's stem."),
) -> None:
    """Render scores with SoundFonts into labelled clips (audio, activity, <split>.csv)."""
    from saz.synth.corpus import build_split
    from saz.synth.render import RenderConfig, RenderGenerator, corpus_pieces

    cfg = RenderConfig(soundfonts=tuple(soundfont), seconds=seconds, sr=sr, min_instruments=min_instruments,
                       max_instruments=max_instruments, corpus_fraction=corpus_fraction,
                       corpus_pieces=corpus_pieces(pieces, seed) if corpus_fraction > 0 else (), keep_stems=keep_stems)
    gen = RenderGenerator(cfg, seed, prefix=split[:2])
    with progress_bar() as bar:
        tick = _progress_callback(bar, "render")
        done = [0]
        manifest = build_split(gen, out, split, n, gen.classes(), sr, 100, workers,
                               lambda k: (done.__setitem__(0, done[0] + k), tick(split, done[0], n)))
    console.print(f"{n} clips -> {manifest}")


@synth_app.command("mix")
def synth_mix(
    library: Path = typer.Argument(..., help="Single-instrument sample library (see `saz datasets info samples`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (resumable)."),
    n: int = typer.Option(100, "--n", help="Clips per split."),
    splits: List[str] = typer.Option(["train", "test"], "--split", help="Splits to make (train/test recordings)."),
    test_fraction: float = typer.Option(0.2, help="Share of each instrument's recordings kept for test."),
    class_map: str = typer.Option("default", help="'default' (saz vocabulary), 'none', or a TOML file with [map]."),
    min_instruments: int = typer.Option(2), max_instruments: int = typer.Option(5),
    no_category_rule: bool = typer.Option(False, help="Ignore the paper's Hornbostel-Sachs rule for 4-5 instruments."),
    gain_db: Tuple[float, float] = typer.Option((-12.0, 0.0), help="Random gain range of each source (dB)."),
    seconds: float = typer.Option(5.0), sr: int = typer.Option(22050),
    seed: int = typer.Option(0), workers: int = typer.Option(1, "--workers", "-j"),
) -> None:
    """Mix recordings of single instruments into labelled polyphonic clips (generator 1)."""
    import tomllib

    from saz.datasets import load
    from saz.synth.corpus import build_split
    from saz.synth.instruments import default_vocabulary
    from saz.synth.library import LibraryConfig, LibraryGenerator, default_class_map, pools_from_dataset
    from saz.synth.mix import MixConfig

    if class_map == "default":
        mapping, vocab = default_class_map(), default_vocabulary()
    elif class_map == "none":
        mapping, vocab = {}, None
    else:
        mapping, vocab = tomllib.loads(Path(class_map).read_text())["map"], None
    ds = load("samples", library, class_map=mapping, vocab=vocab)
    for line in ds.problems:
        err.print(f"[yellow]problem:[/yellow] {line}")
    names = ds.vocab.names
    clips = ds.clips.assign(**{"class": [names[j] for j in ds.y.argmax(axis=1)]})
    pools = pools_from_dataset(clips, test_fraction, seed)
    cfg = LibraryConfig(seconds=seconds, sr=sr, min_instruments=min_instruments, max_instruments=max_instruments,
                        category_rule=not no_category_rule, mix=MixConfig(gain_db=tuple(gain_db)))
    with progress_bar() as bar:
        tick = _progress_callback(bar, "mix")
        for split in splits:
            gen = LibraryGenerator(pools[split], names, cfg, seed + (split == "test"), prefix=split[:2])
            done = [0]
            manifest = build_split(gen, out, split, n, names, sr, 100, workers,
                                   lambda k, s=split, d=done: (d.__setitem__(0, d[0] + k), tick(s, d[0], n)))
            console.print(f"{split}: {n} clips from {len(pools[split])} recordings -> {manifest}")


@synth_app.command("bench")
def synth_bench(
    spec: Path = typer.Option(..., "--spec", help="Benchmark spec (TOML), e.g. benchmarks/saz-bench-v1.toml."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (resumable)."),
    scale: float = typer.Option(1.0, help="Shrink every split by this factor (CI builds use 0.02)."),
    workers: int = typer.Option(1, "--workers", "-j"),
) -> None:
    """Build a versioned benchmark corpus from its spec, with its corpus card."""
    from saz.synth.bench import build

    with progress_bar() as bar:
        summary = build(spec, out, scale, workers, _progress_callback(bar, "bench"))
    console.print(f"{summary['name']} v{summary['version']} built in {summary['build_seconds']} s -> {out} (card: {out / 'CARD.md'})")


@app.command()
def version() -> None:
    """Print the saz version."""
    from saz import __version__

    console.print(__version__)


if __name__ == "__main__":
    app()
