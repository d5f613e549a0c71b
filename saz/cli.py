"""The ``saz`` command line: a thin layer over the library's functions."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import List, Optional, Tuple

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from saz import progress
from saz.progress import progress_bar

app = typer.Typer(
    help="saz: which instruments play in a recording, how sure, and when.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = progress.console


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
    from saz.features import FeatureCache, get_feature
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
        task = bar.add_task(f"{feature}", total=len(pairs), info="")
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
    import saz.evaluation  # noqa: F401  (registers the real set)
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
    import saz.evaluation  # noqa: F401  (registers the real set)
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
            tasks[split] = bar.add_task(f"{title} {split}", total=total, info="")
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
    lever: List[str] = typer.Option([], "--lever", "-l", help="Generalisation lever (repeatable): timbres, "
                                    "performance, acoustics, ensembles, or all. 'timbres' adds SoundFonts to --soundfont."),
    samples: List[Path] = typer.Option([], help="Real sample library or folder of npm instrument packages "
                                        "(tonejs-instrument-*, Salamander piano) whose training side the 'timbres' "
                                        "lever uses (repeatable)."),
    set_: List[str] = typer.Option([], "--set", help="Any other render setting KEY=VALUE, after the levers "
                                   "(repeatable), e.g. sample_fraction=0.7, sample_sparse=0.5, sample_shift=2.0."),
) -> None:
    """Render scores with SoundFonts into labelled clips (audio, activity, <split>.csv)."""
    from saz.synth.corpus import build_split
    from saz.synth.recipes import lever_options, parse_levers
    from saz.synth.render import RenderConfig, RenderGenerator, config_overrides, corpus_pieces

    opts = {}
    try:
        for name in parse_levers(",".join(lever)):
            opts.update(lever_options(name, samples))
        opts.update(config_overrides(set_))
    except ValueError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    fonts = tuple(dict.fromkeys([*soundfont, *opts.pop("soundfonts", ())]))
    base = {"seconds": seconds, "sr": sr, "min_instruments": min_instruments, "max_instruments": max_instruments,
            "corpus_fraction": corpus_fraction, "keep_stems": keep_stems,
            "corpus_pieces": corpus_pieces(pieces, seed) if corpus_fraction > 0 else ()}
    cfg = RenderConfig(**{**base, **opts, "soundfonts": fonts})
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
    from saz.vocabulary import default_vocabulary
    from saz.synth.library import LibraryConfig, LibraryGenerator, pools_from_dataset
    from saz.vocabulary import default_class_map
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


@synth_app.command("physical")
def synth_physical(
    out: Path = typer.Option(..., "--out", "-o", help="Library folder to write (<class>/<model>_<n>.wav)."),
    per_model: int = typer.Option(40, help="Notes per physical model (saz/data/physical.toml)."),
    seed: int = typer.Option(0),
) -> None:
    """Physical-model notes (plucked strings, bars, tines, pans) as a timbre source: pass the folder
    to `saz synth render --samples` or `saz train --samples` like a sample library."""
    from saz.synth.physical import models, render_notes

    if per_model < 1:
        err.print("[red]error:[/red] --per-model must be at least 1")
        raise typer.Exit(2)
    render_notes(out, per_model, seed)
    console.print(f"{per_model * len(models())} notes of {len(models())} physical models -> {out}")


@synth_app.command("bench")
def synth_bench(
    spec: Path = typer.Option(..., "--spec", help="Benchmark spec (TOML), e.g. benchmarks/saz-bench-v1.toml."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (resumable)."),
    scale: float = typer.Option(1.0, help="Shrink every split by this factor (CI builds use 0.02)."),
    workers: int = typer.Option(1, "--workers", "-j"),
    split: List[str] = typer.Option([], "--split", help="Build only this split (repeatable; default: every split)."),
) -> None:
    """Build a versioned benchmark corpus from its spec, with its corpus card."""
    from saz.synth.bench import build

    try:
        with progress_bar() as bar:
            summary = build(spec, out, scale, workers, _progress_callback(bar, "bench"), split)
    except ValueError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    console.print(f"{summary['name']} v{summary['version']} built in {summary['build_seconds']} s -> {out} (card: {out / 'CARD.md'})")


# -- models: list, info, train, evaluate, compare --------------------------------------------------

models_app = typer.Typer(help="The model zoo: list models, describe a model or checkpoint.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list() -> None:
    """Every registered model with its input, default feature and source."""
    from saz.models import MODELS

    table = Table("name", "input", "default feature", "source")
    for name, cls in sorted(MODELS.items()):
        feat = ", ".join(f"{k}={v}" for k, v in cls.default_feature.items())
        table.add_row(name, cls.input_kind, feat, cls.source)
    console.print(table)


@models_app.command("info")
def models_info(model: str = typer.Argument("default", help="'default', a model name, or a checkpoint file.")) -> None:
    """The model card of the bundled default, a registered model's description, or a checkpoint's contents."""
    from saz.models import MODELS
    from saz.models.checkpoint import Checkpoint, CheckpointError
    from saz.prediction import default_card, resolve_model

    if model == "default":
        console.print(default_card())
        return
    if model in MODELS:
        cls = MODELS[model]
        console.print(f"[bold]{model}[/bold] ({cls.input_kind} input; source: {cls.source})")
        console.print((__import__(cls.__module__, fromlist=["_"]).__doc__ or "").strip())
        return
    try:
        ckpt = Checkpoint.load(resolve_model(model))
    except CheckpointError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    info = ckpt.info
    console.print(f"[bold]{ckpt.name}[/bold] checkpoint (saz {ckpt.saz_version}), protocol {info.get('protocol')}")
    console.print("feature: " + ", ".join(f"{k}={v}" for k, v in ckpt.feature.items()) + f"; {ckpt.seconds:g}-s clips")
    profiles = ckpt.threshold_profiles
    table = Table("class", "threshold", *(f"'{p}' profile" for p in profiles))
    for j, (name, t) in enumerate(zip(ckpt.vocabulary.names, ckpt.thresholds)):
        table.add_row(name, f"{t:.2f}", *(f"{p.thresholds[j]:.2f}" for p in profiles.values()))
    console.print(table)
    for name, p in profiles.items():
        console.print(f"threshold profile '{name}' (saz predict --profile {name}): {p.about}")
    if tabled := ckpt.window_thresholds:
        windows = ", ".join(f"{w:g}-s" for w in tabled.windows)
        console.print(f"thresholds for {windows} prediction windows (saz predict --window: the nearest): {tabled.about}")
    console.print(f"validation: {info.get('validation')}")


@models_app.command("ensemble")
def models_ensemble(
    checkpoints: List[str] = typer.Argument(..., help="Two or more checkpoints ('default' or files) of one feature, "
                                            "clip length and vocabulary."),
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset to tune the ensemble's thresholds on."),
    root: Path = typer.Option(..., "--root", "-r"),
    split: str = typer.Option("validation", help="Split to tune thresholds on (not one you will report)."),
    out: Path = typer.Option(..., "--out", "-o", help="The ensemble checkpoint to write."),
    option: List[str] = typer.Option([], "--option", help="Dataset reader option KEY=VALUE."),
    cache: Optional[Path] = typer.Option(None, help="Feature cache folder."),
    combine: str = typer.Option("mean", help="How members' probabilities join: 'mean', or 'max' (one member that "
                                "knows a sound can speak for it)."),
) -> None:
    """One checkpoint that joins the probabilities of several (each keeps its own input scaling)."""
    from saz.features.dataset import dataset_features
    from saz.models.checkpoint import CheckpointError
    from saz.models.ensemble import combination, ensemble
    from saz.models.predictor import Predictor
    from saz.prediction import resolve_model

    try:
        combination(combine)  # before any feature is computed
        members = [Predictor.load(resolve_model(c)) for c in checkpoints]
    except (CheckpointError, ValueError) as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    ds = _split(_load_dataset(dataset, root, option), split)
    first = members[0]
    X, y, _, problems = dataset_features(ds, first.feature, first.seconds, cache)
    for line in problems:
        err.print(f"[yellow]skipped:[/yellow] {line}")
    try:
        ckpt = ensemble(members, X, y, {"ensemble": list(checkpoints), "tuned_on": f"{dataset}/{split} ({len(X)} clips)"},
                        combine)
    except ValueError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    ckpt.save(out)
    val = ckpt.info["validation"]
    console.print(f"ensemble of {len(members)} -> {out}: on {dataset}/{split} macro F1 {val['macro']['f1']:.3f}, "
                  f"mAP {val['map'] if val['map'] is None else round(val['map'], 3)}")


@models_app.command("profile")
def models_profile(
    checkpoint: str = typer.Argument(..., help="'default' or a checkpoint file."),
    name: str = typer.Option(..., "--name", "-n", help="Name of the threshold profile (saz predict --profile NAME)."),
    dataset: str = typer.Option(..., "--dataset", "-d", help="Your labelled recordings (e.g. a CSV manifest: csv)."),
    root: Path = typer.Option(..., "--root", "-r"),
    out: Path = typer.Option(..., "--out", "-o", help="The checkpoint to write: a copy with the profile added."),
    split: str = typer.Option("all", help="Split of the dataset to fit on ('all' for every clip)."),
    rule: str = typer.Option("f1", help="f1: best F1 on your clips; fpr: the tuned thresholds lowered to where "
                             "--rate of your negatives score above them."),
    rate: float = typer.Option(0.05, help="The share of negatives allowed above the threshold (rule fpr)."),
    option: List[str] = typer.Option([], "--option", help="Dataset reader option KEY=VALUE."),
    cache: Optional[Path] = typer.Option(None, help="Feature cache folder."),
) -> None:
    """Fit a threshold profile to your own labelled recordings and write the checkpoint with it."""
    from saz.evaluation.calibration import RULES, fit_profile, threshold_moves

    predictor = _predictor(checkpoint, None)
    ds = _load_dataset(dataset, root, option)
    ds = ds if split == "all" else _split(ds, split)
    try:
        thresholds, info = fit_profile(predictor, ds, rule, rate, cache)
        about = (f"fitted on {info['clips']} clips of {ds.name} ({root.name}, {split}) by rule {rule}: "
                 f"{RULES[rule].replace('`rate`', f'{rate:g}')}; other classes keep the tuned thresholds")
        ckpt = predictor.checkpoint.with_profile(name, thresholds, about)
    except ValueError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    for line in info["skipped"]:
        err.print(f"[yellow]skipped:[/yellow] {line}")
    if info["unknown_classes"]:
        err.print(f"[yellow]not in the model's vocabulary:[/yellow] {', '.join(info['unknown_classes'])}")
    ckpt.save(out)
    moved = threshold_moves(predictor.vocab.names, predictor.thresholds, thresholds)
    console.print(f"profile '{name}' ({len(info['fitted'])} classes fitted on {info['clips']} clips) -> {out}")
    console.print(f"thresholds moved: {', '.join(moved) or 'none'}")


@models_app.command("windows")
def models_windows(
    checkpoint: str = typer.Argument(..., help="'default' or a checkpoint file."),
    dataset: str = typer.Option(..., "--dataset", "-d", help="Labelled validation clips (e.g. saz-bench, csv)."),
    root: Path = typer.Option(..., "--root", "-r"),
    out: Path = typer.Option(..., "--out", "-o", help="The checkpoint to write: a copy with the window thresholds."),
    window: List[float] = typer.Option(..., "--window", "-w", help="A prediction window in seconds (repeat)."),
    split: str = typer.Option("validation", help="Split of the dataset to tune on ('all' for every clip)."),
    option: List[str] = typer.Option([], "--option", help="Dataset reader option KEY=VALUE."),
) -> None:
    """Tune the model's thresholds again for shorter or longer prediction windows (saz predict --window)."""
    from saz.evaluation.calibration import window_thresholds

    predictor = _predictor(checkpoint, None)
    ds = _load_dataset(dataset, root, option)
    ds = ds if split == "all" else _split(ds, split)
    try:
        table = window_thresholds(predictor, [ds], sorted(set(window)))
        about = f"tuned for F1 at each window on {len(ds.clips)} clips of {ds.name} ({root.name}, {split})"
        ckpt = predictor.checkpoint.with_window_thresholds(table, about)
    except ValueError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    ckpt.save(out)
    console.print(f"thresholds for {', '.join(f'{w:g}-s' for w in table)} windows -> {out}")


def _load_dataset(name: str, root: Path, option: list[str]):
    import saz.evaluation  # noqa: F401  (registers the real set)
    from saz.datasets import DatasetError, load

    try:
        return load(name, root, **parse_params(option))
    except (DatasetError, KeyError, ValueError, TypeError) as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)


def _split(ds, split: str):
    try:
        return ds.subset(split)
    except KeyError as e:
        err.print(f"[red]error:[/red] {e.args[0]}")
        raise typer.Exit(1)


@app.command()
def train(
    model: str = typer.Argument(..., help="Registered model name (see `saz models list`)."),
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset reader name."),
    root: Path = typer.Option(..., "--root", "-r", help="Dataset root."),
    out: Path = typer.Option(..., "--out", "-o", help="Run folder: log.csv, state.pt, model.pt."),
    option: List[str] = typer.Option([], "--option", help="Dataset reader option KEY=VALUE."),
    train_split: str = typer.Option("train", help="Split to train on."),
    val_split: str = typer.Option("validation", help="Split for early stopping and thresholds; cut from the "
                                  "training split (15 %, stratified) when the dataset has none."),
    protocol: str = typer.Option("auto", help="auto | hard | soft-regression | soft-train-hard-eval."),
    epochs: int = typer.Option(30),
    patience: int = typer.Option(6, help="Stop after this many epochs without a better validation score."),
    budget: Optional[float] = typer.Option(None, "--budget-cpu-minutes", help="Stop once training has used this much CPU time (mid-epoch too)."),
    batch_size: Optional[int] = typer.Option(None),
    lr: Optional[float] = typer.Option(None),
    seed: int = typer.Option(0),
    augment: Optional[bool] = typer.Option(None, "--augment/--no-augment", help="Default: the model's own recipe."),
    hparam: List[str] = typer.Option([], "--hparam", help="Model hyperparameter KEY=VALUE."),
    feature_param: List[str] = typer.Option([], "--feature-param", help="Override the model's default feature: KEY=VALUE."),
    seconds: Optional[float] = typer.Option(None, help="Clip length (default: the median clip duration)."),
    cache: Optional[Path] = typer.Option(None, help="Feature cache folder (default $SAZ_CACHE or ~/.cache/saz)."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in OUT."),
    fresh: Optional[str] = typer.Option(None, help="Render new clips during training with these levers "
                                        "(all, base, or e.g. timbres,acoustics) and swap them in every epoch."),
    samples: List[Path] = typer.Option([], help="Real sample library (../shared/samples) or folder of npm "
                                        "instrument packages (tonejs-instrument-*, Salamander piano) for the "
                                        "'timbres' lever (repeatable)."),
    init: Optional[str] = typer.Option(None, help="Fine-tune: start from this checkpoint's weights ('default' or a path)."),
    device: str = typer.Option("auto", help="PyTorch models: auto (a CUDA GPU when there is one), cpu, cuda or cuda:N."),
    label_smoothing: float = typer.Option(0.0, help="PyTorch models: pull training targets towards 0.5 by this share "
                                          "(e.g. 0.1: 1 -> 0.95, 0 -> 0.05)."),
) -> None:
    """Train any model on any dataset with hard, soft or partial labels; writes OUT/model.pt."""
    import numpy as np

    from saz.datasets.splits import stratified_split
    from saz.models import get_model_class
    from saz.models.train import TrainConfig, train_on_dataset, training_input

    try:
        cfg = TrainConfig(model, parse_params(hparam), protocol=protocol, epochs=epochs, patience=patience,
                          budget_cpu_minutes=budget, batch_size=batch_size, lr=lr, augment=augment, seed=seed, init=init,
                          device=device, label_smoothing=label_smoothing)
    except (ValueError, KeyError) as e:
        err.print(f"[red]error:[/red] {e.args[0] if isinstance(e, KeyError) else e}")
        raise typer.Exit(1)
    ds = _load_dataset(dataset, root, option)
    tr = _split(ds, train_split)
    if val_split in ds.splits:
        va = ds.subset(val_split)
    else:
        names = stratified_split(tr.y, (0.85, 0.15), ("train", "validation"), seed=seed)
        tr, va = tr.subset(np.flatnonzero(names == "train")), tr.subset(np.flatnonzero(names == "validation"))
        err.print(f"no '{val_split}' split: validating on a stratified 15 % of '{train_split}' ({len(va)} clips)")
    feature_cfg = {**get_model_class(model).default_feature, **parse_params(feature_param)}
    try:
        if fresh is None:
            path = train_on_dataset(cfg, tr, va, out, feature_cfg, seconds, cache, resume)
        else:
            from saz.synth.recipes import parse_levers, recipe
            from saz.synth.stream import fresh_clips

            fresh_recipe = recipe(parse_levers(fresh), samples, seed=seed)
            feature, seconds = training_input(cfg, tr, feature_cfg, seconds)
            with fresh_clips(fresh_recipe, feature, seconds, tr.vocab, cfg.seed) as take:
                path = train_on_dataset(cfg, tr, va, out, feature_cfg, seconds, cache, resume, fresh=take)
    except ValueError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    from saz.models.checkpoint import Checkpoint

    info = Checkpoint.load(path).info
    v = info["validation"]
    console.print(f"{model}: best epoch {info['best_epoch']} of {info['epochs_run']}, validation macro F1 "
                  f"{v['macro']['f1']:.3f}, mAP {v['map'] if v['map'] is None else round(v['map'], 3)}; "
                  f"{info['cpu_seconds']:.0f} CPU-s -> {path}")


@app.command()
def evaluate(
    checkpoint: str = typer.Argument(..., help="Checkpoint file (model.pt) or 'default'."),
    dataset: str = typer.Option(..., "--dataset", "-d"),
    root: Path = typer.Option(..., "--root", "-r"),
    split: Optional[str] = typer.Option("test", help="Split to score ('all' for every clip)."),
    out: Path = typer.Option(..., "--out", "-o", help="Report folder."),
    option: List[str] = typer.Option([], "--option", help="Dataset reader option KEY=VALUE."),
    protocol: Optional[str] = typer.Option(None, help="Override the checkpoint's protocol (e.g. hard)."),
    cache: Optional[Path] = typer.Option(None, help="Feature cache folder."),
    long_clips: str = typer.Option("windows", help="Clips longer than the model's window: 'windows' (every "
                                   "window, maxed, as saz predict hears them) or 'centre' (the centre window only)."),
    profile: Optional[str] = typer.Option(None, "--profile", help="Score with one of the model's threshold profiles "
                                          "instead of its tuned thresholds."),
) -> None:
    """Score a checkpoint on a dataset split: report.json/.md, plots and predictions.npz."""
    from saz.evaluation.scoring import LONG_CLIPS, evaluate_checkpoint

    if long_clips not in LONG_CLIPS:
        err.print(f"[red]error:[/red] --long-clips must be one of {', '.join(LONG_CLIPS)} (got '{long_clips}')")
        raise typer.Exit(2)
    predictor = _predictor(checkpoint, profile)
    ds = _load_dataset(dataset, root, option)
    ds = ds if split == "all" else _split(ds, split)
    result = evaluate_checkpoint(predictor, ds, out, protocol, cache, long_clips=long_clips, profile=profile)
    for line in result.run.skipped_clips:
        err.print(f"[yellow]skipped:[/yellow] {line}")
    extra = f", MSE {result.mse:.4f}, R² {result.r2:.3f}" if result.mse is not None else ""
    console.print(f"{predictor.name} on {dataset}/{split} ({result.n_clips} clips): micro F1 {result.micro.f1:.3f}, "
                  f"macro F1 {result.macro.f1:.3f}, mAP {result.map if result.map is None else round(result.map, 3)}, "
                  f"label accuracy {result.label_accuracy:.3f}{extra} -> {out / 'report.md'}")


@app.command()
def compare(
    runs: List[Path] = typer.Argument(..., help="Folders written by `saz evaluate` (same clips)."),
    out: Path = typer.Option(..., "--out", "-o"),
    title: str = typer.Option("Comparison"),
) -> None:
    """Mean ± std over seeds, box plots, per-class F1 and paired p-values against the best model."""
    from saz.evaluation import compare as cmp

    try:
        result = cmp.compare(runs)
    except ValueError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    cmp.write(result, out, title)
    console.print(cmp.to_markdown(result, title))


# -- predict: the main job -----------------------------------------------------------------------

def _format_result(pred, fmt: str, timeline: bool, first: bool) -> str:
    """One file's result as text in ``fmt`` (csv carries its header on the first file)."""
    if fmt == "json":
        return pred.to_json(timeline) + "\n"
    rows = []
    if fmt == "csv":
        if first:
            rows.append("source,instrument,start,end,confidence" if timeline else "source,instrument,probability")
        src = '"' + pred.source.replace('"', '""') + '"'
        if timeline:
            rows += [f"{src},{s.instrument},{s.start:.3f},{s.end:.3f},{s.confidence:.4f}" for s in pred.segments]
        else:
            rows += [f"{src},{n},{p:.4f}" for n, p in pred.present]
        return "".join(r + "\n" for r in rows)
    lines = [f"{pred.source} ({pred.duration:.1f} s)"]
    lines += [f"  {n:<20} {p:.2f}" for n, p in pred.present] or ["  (no instrument detected)"]
    if timeline:
        lines += ["  segments:"] + [f"    {s.instrument:<18} {s.start:8.2f} {s.end:8.2f}  {s.confidence:.2f}" for s in pred.segments]
    return "\n".join(lines) + "\n"


def _predictor(model: str, profile: str | None):
    """The model ('default' or a checkpoint file), loaded once, with its threshold ``profile``
    checked; a one-line error and exit status 1 (model) or 2 (profile) otherwise."""
    from saz.models.checkpoint import CheckpointError
    from saz.prediction import load_predictor

    try:
        predictor = load_predictor(model)
    except CheckpointError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    try:
        predictor.thresholds_for(profile)
    except ValueError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2)
    return predictor


@app.command()
def predict(
    paths: List[Path] = typer.Argument(..., help="Audio files and/or folders (searched recursively)."),
    model: str = typer.Option("default", "--model", "-m", help="'default' (bundled) or a checkpoint file."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json (one object per line) | csv."),
    timeline: bool = typer.Option(False, "--timeline", help="Per-window probabilities and merged segments."),
    plot_dir: Optional[Path] = typer.Option(None, "--plot", help="Write a PNG per file (waveform + activity map) here."),
    window: Optional[float] = typer.Option(None, help="Window length in seconds (default: the model's clip length)."),
    hop: Optional[float] = typer.Option(None, help="Hop in seconds (default: half the window)."),
    threshold: Optional[float] = typer.Option(None, help="One threshold for every class (default: the model's tuned ones)."),
    profile: Optional[str] = typer.Option(None, "--profile", help="A threshold profile the model ships instead of its "
                                          "tuned thresholds, e.g. 'sensitive' (`saz models info` lists them)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also append results to this file as each file finishes."),
) -> None:
    """Which instruments play in each recording, how sure, and (with --timeline) when."""
    import os

    from saz import audio
    from saz.prediction import plot, predict_many

    if fmt not in ("table", "json", "csv"):
        err.print(f"[red]error:[/red] unknown format '{fmt}' (table, json or csv)")
        raise typer.Exit(2)
    files = audio.find_audio(paths)
    missing = [p for p in files if not p.exists()]
    for p in missing:
        err.print(f"[red]failed:[/red] {p}: no such file")
    files = [p for p in files if p.exists()]
    if not files:
        if not missing:
            err.print(f"[red]error:[/red] no audio files found in {', '.join(map(str, paths))}")
        raise typer.Exit(1)
    if threshold is not None and profile is not None:
        err.print("[red]error:[/red] --threshold and --profile both set thresholds: give one")
        raise typer.Exit(2)
    predictor = _predictor(model, profile)
    sink = open(out, "a", encoding="utf-8") if out is not None else None
    failed = len(missing)
    wrote = False
    stems: dict[str, int] = {}
    try:
        with progress_bar() as bar:
            task = bar.add_task("predict", total=len(files), info="", visible=len(files) > 1)
            for pred in predict_many(files, predictor, window=window, hop=hop, threshold=threshold, profile=profile):
                bar.advance(task)
                if not pred.ok:
                    failed += 1
                    bar.console.print(f"[red]failed:[/red] {pred.error}", highlight=False)
                    continue
                text = _format_result(pred, fmt, timeline, first=not wrote)
                wrote = True
                print(text, end="", flush=True)
                if sink is not None:
                    sink.write(text)
                    sink.flush()
                    os.fsync(sink.fileno())
                if plot_dir is not None:
                    stem = Path(pred.source).stem
                    stems[stem] = stems.get(stem, 0) + 1
                    name = stem if stems[stem] == 1 else f"{stem}-{stems[stem]}"
                    plot(pred, plot_dir / f"{name}.png")
    except ValueError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2)
    finally:
        if sink is not None:
            sink.close()
    if failed:
        err.print(f"{failed} of {len(files) + len(missing)} file(s) failed")
        raise typer.Exit(1)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)."),
    port: int = typer.Option(8000),
    model: str = typer.Option("default", "--model", "-m", help="'default' (bundled) or a checkpoint file."),
    max_upload_mb: float = typer.Option(100.0, help="Uploads above this size get 413."),
) -> None:
    """The web page and HTTP API: upload a recording, see the instruments and when they play."""
    try:
        import uvicorn

        from saz.serve.app import create_app
    except ImportError as e:
        err.print(f"[red]error:[/red] the web app needs its extra: pip install 'saz[web]' ({e})")
        raise typer.Exit(1)
    from saz.models.checkpoint import CheckpointError

    try:
        application = create_app(model, max_upload_mb)
    except CheckpointError as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1)
    err.print(f"saz serving on http://{host}:{port}/ (API docs: http://{host}:{port}/docs)")
    uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command()
def version() -> None:
    """Print the saz version."""
    from saz._version import __version__

    console.print(__version__)


if __name__ == "__main__":
    app()
