"""``saz synth``: labelled polyphonic music, rendered, mixed or built from a benchmark spec.

The only command module that imports :mod:`saz.synth` (``saz train --fresh`` asks it for its
stream of fresh clips), so the rest of the command line runs without the synthesiser.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ContextManager, List, Optional, Sequence, Tuple

import typer
from rich.progress import Progress

from saz.cli.errors import fail, reported
from saz.cli.output import console, note
from saz.progress import progress_bar

if TYPE_CHECKING:
    from saz.features import Feature
    from saz.labels import Vocabulary
    from saz.synth.corpus import ChunkFn
    from saz.synth.stream import Take

app = typer.Typer(help="Generate labelled polyphonic music (saz-bench).", no_args_is_help=True)


def _synth_errors() -> tuple[type[Exception], ...]:
    """What the synthesiser raises for a machine that lacks a part of it (FluidSynth, music21, a
    SoundFont): each becomes one error line naming what to install."""
    from saz.synth.optional import SynthUnavailable
    from saz.synth.soundfont import SoundFontError

    return SynthUnavailable, SoundFontError, FileNotFoundError


def _progress_callback(bar: Progress, title: str) -> Callable[[str, int, int], None]:
    """``tick(split, done, total)``: one bar per split, added when the split first reports."""
    tasks: dict[str, int] = {}

    def tick(split: str, done: int, total: int) -> None:
        if split not in tasks:
            tasks[split] = bar.add_task(f"{title} {split}", total=total, info="")
        bar.update(tasks[split], completed=done)

    return tick


def _build(gen: ChunkFn, out: Path, split: str, n: int, classes: Sequence[str], sr: int, workers: int, bar: Progress,
           title: str) -> Path:
    """Build one split with ``gen`` under ``out`` (resumable), its bar advancing per chunk."""
    from saz.synth.corpus import build_split

    tick = _progress_callback(bar, title)
    done = [0]
    return build_split(gen, out, split, n, classes, sr, 100, workers,
                       lambda k: (done.__setitem__(0, done[0] + k), tick(split, done[0], n)))


def fresh_clips(levers: str | None, samples: List[Path], seed: int, feature: Feature, seconds: float,
                vocab: Vocabulary) -> ContextManager[Take | None]:
    """``saz train --fresh LEVERS``: a worker rendering clips of those levers as ``feature`` over
    ``seconds`` while the block runs, yielding its take (no levers: None, and nothing of
    :mod:`saz.synth` is imported). ValueError for an unknown lever."""
    if levers is None:
        return contextlib.nullcontext(None)
    from saz.synth import stream
    from saz.synth.recipes import parse_levers, recipe

    return stream.fresh_clips(recipe(parse_levers(levers), samples, seed=seed), feature, seconds, vocab, seed)


@app.command("render")
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
    lever: List[str] = typer.Option([], "--lever", "-l", help="Generalisation lever (repeatable): timbres, "
                                    "performance, acoustics, ensembles, or all. 'timbres' adds SoundFonts to --soundfont."),
    samples: List[Path] = typer.Option([], help="Real sample library or folder of npm instrument packages "
                                        "(tonejs-instrument-*, Salamander piano) whose training side the 'timbres' "
                                        "lever uses (repeatable)."),
    set_: List[str] = typer.Option([], "--set", help="Any other render setting KEY=VALUE, after the levers "
                                   "(repeatable), e.g. sample_fraction=0.7, sample_sparse=0.5, sample_shift=2.0."),
) -> None:
    """Render scores with SoundFonts into labelled clips (audio, activity, <split>.csv)."""
    from saz.synth.recipes import parse_levers, render_config
    from saz.synth.render import RenderGenerator, config_overrides

    base = {"seconds": seconds, "sr": sr, "min_instruments": min_instruments, "max_instruments": max_instruments,
            "corpus_fraction": corpus_fraction, "keep_stems": keep_stems}
    with reported(ValueError):
        cfg = render_config(parse_levers(",".join(lever)), samples, seed, base=base, overrides=config_overrides(set_),
                            soundfonts=soundfont, pieces=pieces)
    with reported(*_synth_errors()), progress_bar() as bar:
        gen = RenderGenerator(cfg, seed, prefix=split[:2])
        manifest = _build(gen, out, split, n, gen.classes(), sr, workers, bar, "render")
    console.print(f"{n} clips -> {manifest}")


@app.command("mix")
def synth_mix(
    library: Path = typer.Argument(..., help="Single-instrument sample library (see `saz datasets info samples`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (resumable)."),
    n: int = typer.Option(100, "--n", help="Clips per split."),
    n_test: Optional[int] = typer.Option(None, "--n-test", help="Clips of the test split (default: --n); "
                                         "--n 8000 --n-test 2000 is the cultural-instruments paper's split."),
    splits: List[str] = typer.Option(["train", "test"], "--split", help="Splits to make (train/test recordings)."),
    test_fraction: float = typer.Option(0.2, help="Share of each instrument's recordings kept for test."),
    class_map: str = typer.Option("default", help="'default' (saz vocabulary), 'none', or a TOML file with [map]."),
    min_instruments: int = typer.Option(2), max_instruments: int = typer.Option(5),
    no_category_rule: bool = typer.Option(False, help="Ignore the paper's Hornbostel-Sachs rule for 4-5 instruments."),
    gain_db: Tuple[float, float] = typer.Option((-12.0, 0.0), help="Random gain range of each source (dB)."),
    whole: bool = typer.Option(False, "--whole", help="Every instrument sounds the whole clip (the cultural-instruments "
                               "paper's mixes), instead of random entries and exits."),
    seconds: float = typer.Option(5.0), sr: int = typer.Option(22050),
    seed: int = typer.Option(0), workers: int = typer.Option(1, "--workers", "-j"),
) -> None:
    """Mix recordings of single instruments into labelled polyphonic clips (generator 1)."""
    from saz.datasets import load
    from saz.synth.library import LibraryConfig, LibraryGenerator, library_pools
    from saz.synth.mix import MixConfig
    from saz.vocabulary import class_map as resolve_class_map

    mapping, vocab = resolve_class_map(class_map)
    ds = load("samples", library, class_map=mapping, vocab=vocab)
    for line in ds.problems:
        note("problem", line)
    pools = library_pools(ds, test_fraction, seed)
    cfg = LibraryConfig(seconds=seconds, sr=sr, min_instruments=min_instruments, max_instruments=max_instruments,
                        category_rule=not no_category_rule, mix=MixConfig(gain_db=tuple(gain_db)), whole=whole)
    with progress_bar() as bar:
        for split in splits:
            count = n_test if split == "test" and n_test is not None else n
            gen = LibraryGenerator(pools[split], ds.vocab.names, cfg, seed + (split == "test"), prefix=split[:2])
            manifest = _build(gen, out, split, count, ds.vocab.names, sr, workers, bar, "mix")
            console.print(f"{split}: {count} clips from {len(pools[split])} recordings -> {manifest}")


@app.command("physical")
def synth_physical(
    out: Path = typer.Option(..., "--out", "-o", help="Library folder to write (<class>/<model>_<n>.wav)."),
    per_model: int = typer.Option(40, help="Notes per physical model (saz/data/physical.toml)."),
    seed: int = typer.Option(0),
) -> None:
    """Physical-model notes (plucked strings, bars, tines, pans) as a timbre source: pass the folder
    to `saz synth render --samples` or `saz train --samples` like a sample library."""
    from saz.synth.physical import models, render_notes

    if per_model < 1:
        fail("--per-model must be at least 1", code=2)
    render_notes(out, per_model, seed)
    console.print(f"{per_model * len(models())} notes of {len(models())} physical models -> {out}")


@app.command("bench")
def synth_bench(
    spec: Path = typer.Option(..., "--spec", help="Benchmark spec (TOML), e.g. benchmarks/saz-bench-v1.toml."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (resumable)."),
    scale: float = typer.Option(1.0, help="Shrink every split by this factor (CI builds use 0.02)."),
    workers: int = typer.Option(1, "--workers", "-j"),
    split: List[str] = typer.Option([], "--split", help="Build only this split (repeatable; default: every split)."),
) -> None:
    """Build a versioned benchmark corpus from its spec, with its corpus card."""
    from saz.synth.bench import build

    with reported(ValueError, *_synth_errors()), progress_bar() as bar:
        summary = build(spec, out, scale, workers, _progress_callback(bar, "bench"), split)
    console.print(f"{summary['name']} v{summary['version']} built in {summary['build_seconds']} s -> {out} (card: {out / 'CARD.md'})")
