"""``saz sweep``: a model over seeds and hyper-parameter settings, a trial each, then ``saz compare``'s report."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from saz.cli.errors import fail, reported
from saz.cli.output import console, failed
from saz.cli.params import parse_params
from saz.cli.scale import address_option, engine_option, gpus_option, opened_engine


def _values(grid: list[str]) -> dict[str, list]:
    """``["n_estimators=10,50"]`` -> ``{"n_estimators": [10, 50]}`` (each value a Python literal, else text)."""
    values: dict[str, list] = {}
    for item in grid:
        key, sep, text = item.partition("=")
        if not sep or not key or not text:
            fail(f"--grid {item}: give KEY=V1,V2,...", code=2)
        values[key] = [parse_params([f"{key}={v}"])[key] for v in text.split(",")]
    return values


def sweep(
    model: str = typer.Argument(..., help="Registered model name (see `saz models list`)."),
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset reader name."),
    root: Path = typer.Option(..., "--root", "-r", help="Dataset root."),
    out: Path = typer.Option(..., "--out", "-o", help="Sweep folder: trials/<setting>-seed<N>/ and the compare report."),
    seed: List[int] = typer.Option([0], "--seed", help="A seed (repeatable): a trial per seed and setting."),
    grid: List[str] = typer.Option([], "--grid", help="Hyper-parameter values KEY=V1,V2 (repeatable: every combination)."),
    option: List[str] = typer.Option([], "--option", help="Dataset reader option KEY=VALUE."),
    epochs: int = typer.Option(30),
    test_split: str = typer.Option("test", help="Split each trial is scored on."),
    cache: Optional[Path] = typer.Option(None, help="Feature cache folder (default $SAZ_CACHE or ~/.cache/saz)."),
    title: str = typer.Option("Sweep"),
    engine: str = engine_option(),
    address: Optional[str] = address_option(),
    workers: int = typer.Option(1, "--workers", "-j", help="With --engine ray: trials running at once."),
    gpus: float = gpus_option(),
) -> None:
    """Train and evaluate a trial per seed and setting (resumable), then compare them as `saz compare` does."""
    from saz.evaluation import compare as cmp
    from saz.evaluation.sweep import grid as make_grid, run_trials, sweep_report

    trials = make_grid(model, dataset, str(root), out, seed, _values(grid), options=parse_params(option),
                       epochs=epochs, test_split=test_split, cache=None if cache is None else str(cache))
    done = []
    with opened_engine(engine, address, workers, gpus) as runner:
        for trial, folder, error in run_trials(trials, runner):
            if error is not None:
                failed(error)
            else:
                done.append((trial, folder))
                console.print(f"trial {trial.setting} seed {trial.seed} -> {folder}")
    if not done:
        fail(f"none of the {len(trials)} trials finished")
    with reported(ValueError):
        result = sweep_report(sorted(done, key=lambda d: d[1]))
    cmp.write(result, out, title)
    console.print(cmp.to_markdown(result, title))
    if len(done) < len(trials):
        fail(f"{len(trials) - len(done)} of {len(trials)} trials failed (a rerun does only those)")
