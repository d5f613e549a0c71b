"""``saz features`` and ``saz features-list``: feature extraction over files and folders."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer
from rich.table import Table

from saz.cli.errors import reported
from saz.cli.inputs import ScanReport
from saz.cli.output import console, failed
from saz.cli.params import parse_params
from saz.cli.scale import address_option, engine_option, gpus_option, opened_engine
from saz.progress import progress_bar

if TYPE_CHECKING:
    from saz.features.base import Feature
    from saz.features.extract import FileResult


def features(
    paths: List[Path] = typer.Argument(..., help="Audio files and/or folders (searched recursively)."),
    feature: str = typer.Option("logmel", "--feature", "-f", help="Registered extractor name."),
    out: Path = typer.Option(Path("saz-features"), "--out", "-o", help="Output folder for .npy files."),
    param: List[str] = typer.Option([], "--param", "-p", help="Extractor parameter KEY=VALUE (repeatable)."),
    sr: Optional[int] = typer.Option(None, help="Sample rate the audio is resampled to (default: the extractor's, 22050 for the spectral ones)."),
    checkpoint: Optional[Path] = typer.Option(None, help="Local encoder checkpoint: a Hugging Face folder (mert, music2vec, musichubert, wav2vec2) or a VGGish .pth."),
    layer: Optional[str] = typer.Option(None, help="Encoder hidden state: 'all' (default) or its index (0 = the embedding output)."),
    device: Optional[str] = typer.Option(None, help="Encoder device: cpu (default) or cuda."),
    workers: int = typer.Option(1, "--workers", "-j", help="Parallel worker processes (with --engine ray: Ray workers)."),
    cache: Optional[Path] = typer.Option(None, help="Cache folder (default $SAZ_CACHE or ~/.cache/saz)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Recompute everything, write no cache."),
    engine: str = engine_option(),
    address: Optional[str] = address_option(),
    gpus: float = gpus_option(),
) -> None:
    """Compute a feature for audio files and folders, one .npy per file plus index.csv."""
    from saz.features import FeatureCache, get_feature
    from saz.features.extract import extract_files, output_paths, write_index

    with reported(KeyError, TypeError, ValueError, code=2):
        extractor = get_feature(feature, **_encoder_options(sr, checkpoint, layer, device), **parse_params(param))
        extractor.check()
    pairs = output_paths(paths, out, on_scan=ScanReport())
    if not pairs:  # every input a folder without audio, each reported
        raise typer.Exit(1)
    store = None if no_cache else FeatureCache(None if cache is None else cache)
    with opened_engine(engine, address, workers, gpus) as runner, progress_bar() as bar:
        task = bar.add_task(f"{feature}", total=len(pairs), info="")
        results = extract_files(pairs, extractor, store, workers, on_result=lambda r: bar.advance(task), engine=runner)
    index = write_index(out / "index.csv", extractor, results)
    console.print(_table(extractor, results))
    bad = [r for r in results if not r.ok]
    for r in bad:
        failed(r.error)
    console.print(f"{len(results) - len(bad)} of {len(results)} files -> {out}  (index: {index})")
    if bad and len(bad) == len(results):
        raise typer.Exit(1)


def _encoder_options(sr: int | None, checkpoint: Path | None, layer: str | None, device: str | None) -> dict[str, object]:
    """The options given, as extractor parameters (those not given keep the extractor's defaults)."""
    given = {"sr": sr, "checkpoint": None if checkpoint is None else str(checkpoint), "device": device,
             "layer": int(layer) if layer is not None and layer.lstrip("-").isdigit() else layer}
    return {k: v for k, v in given.items() if v is not None}


def _table(extractor: Feature, results: list[FileResult]) -> Table:
    """One row per file computed: its shape, value range and whether the cache had it."""
    import numpy as np

    table = Table(title=f"{extractor.name} ({extractor.key()})")
    for col in ("file", "shape", "min", "mean", "max", "cache"):
        table.add_column(col)
    for r in results:
        if r.ok:
            x = np.load(r.output)
            table.add_row(str(r.path), "x".join(map(str, r.shape)), f"{x.min():.2f}", f"{x.mean():.2f}",
                          f"{x.max():.2f}", "hit" if r.cached else "new")
    return table


def features_list() -> None:
    """List the registered feature extractors and their default configuration."""
    from saz.features import FEATURES

    table = Table("name", "defaults")
    for name, cls in sorted(FEATURES.items()):
        cfg = cls().config()
        cfg.pop("feature")
        table.add_row(name, ", ".join(f"{k}={v}" for k, v in cfg.items()))
    console.print(table)
