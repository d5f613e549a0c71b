"""``saz study``: the HamNava and Persian SSL papers' studies on frozen encoder features."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from saz.cli.errors import fail, reported
from saz.cli.output import console

app = typer.Typer(help="Studies on frozen encoder features: HamNava protocols, layer, depth and clip-length sweeps.",
                  no_args_is_help=True)

ENCODER_HELP = "An encoder: [LABEL=]FEATURE[:CHECKPOINT], e.g. mert=mert:/ckpt/MERT-v1-95M, or stats."
SEEDS = typer.Option("0,1,2", "--seeds", help="Seeds of the heads, comma-separated (one trial each).")
EPOCHS = typer.Option(100, "--epochs", help="Epochs of every head (the paper's 100).")
LR = typer.Option(0.01, "--lr", help="Adam learning rate (the paper's 0.01).")
LAYER = typer.Option(None, "--layer", help="Hidden layer of a layered encoder (default: the last).")
HIDDEN = typer.Option(0, "--hidden-layers", help="Hidden layers of the head (0: one fully connected layer).")
CACHE = typer.Option(None, "--cache", help="Feature cache folder.")
OUT = typer.Option(..., "--out", "-o", help="Folder for study.md, study.json and plots.")


def _settings(seeds: str, epochs: int, lr: float, layer: Optional[int], hidden_layers: int, cache: Optional[Path]):
    """The shared study options as one ``Settings``; a malformed ``--seeds`` is one line."""
    from saz.study.studies import Settings

    try:
        seed_list = [int(x) for x in seeds.split(",") if x.strip()]
    except ValueError:
        fail(f"--seeds: expected comma-separated integers, got '{seeds}'", 2)
    return Settings(seed_list, epochs, lr, layer, hidden_layers, cache)


def _encoders(specs: List[str]):
    """Each ``--encoder`` spec parsed; a bad one is one line and exit status 2."""
    from saz.study.data import parse_encoder

    with reported(KeyError, ValueError, code=2):
        return [parse_encoder(s) for s in specs]


def _errors() -> tuple:
    """The errors a study reports in one line (bad data, checkpoint, value, missing file)."""
    from saz.datasets import DatasetError
    from saz.features.checkpoint import CheckpointError

    return DatasetError, CheckpointError, ValueError, KeyError, OSError


@app.command()
def protocols(root: Path = typer.Argument(..., help="HamNava root (annotations/, audio/)."),
              encoder: List[str] = typer.Option(..., "--encoder", "-e", help=ENCODER_HELP), out: Path = OUT,
              seeds: str = SEEDS, epochs: int = EPOCHS, lr: float = LR, layer: Optional[int] = LAYER,
              hidden_layers: int = HIDDEN, cache: Optional[Path] = CACHE) -> None:
    """HamNava's protocols 2a, 2b, 2c (Table 2) for every encoder side by side, with paired p-values,
    and the per-instrument table of the best (Table 3)."""
    from saz.study.studies import protocols as run

    encoders, settings = _encoders(encoder), _settings(seeds, epochs, lr, layer, hidden_layers, cache)
    with reported(*_errors()):
        result = run(root, encoders, out, settings)
    console.print(Path(result["written"]["markdown"]).read_text(), soft_wrap=True)


def _sweep(study: str, root: Path, dataset: str, encoder: List[str], out: Path, settings, protocol: str, label_column: str,
           values: list) -> None:
    """Run one sweep study (layers, depth, clip length) and print its table."""
    from saz.study.studies import sweep

    encoders = _encoders(encoder)
    with reported(*_errors()):
        result = sweep(study, root, dataset, encoders, out, settings, protocol, label_column, values)
    console.print(Path(result["written"]["markdown"]).read_text(), soft_wrap=True)


DATASET = typer.Option("nava", "--dataset", help="hamnava, or nava (a folder per class, or labels.csv: path, label, recording).")
PROTOCOL = typer.Option("2b", "--protocol", help="HamNava protocol: 2a, 2b or 2c.")
LABEL = typer.Option("label", "--label-column", help="Nava CSV: the label column (instrument, dastgah, artist...).")
ROOT = typer.Argument(..., help="The dataset root.")
ONE_ENCODER = typer.Option(..., "--encoder", "-e", help=ENCODER_HELP)


@app.command("encoders")
def compare_encoders(root: Path = ROOT, encoder: List[str] = typer.Option(..., "--encoder", "-e", help=ENCODER_HELP),
                     out: Path = OUT, dataset: str = DATASET, protocol: str = PROTOCOL, label_column: str = LABEL,
                     seconds: float = typer.Option(5.0, "--seconds", help="Clip length."), seeds: str = SEEDS,
                     epochs: int = EPOCHS, lr: float = LR, layer: Optional[int] = LAYER, hidden_layers: int = HIDDEN,
                     cache: Optional[Path] = CACHE) -> None:
    """Several encoders side by side on one task (a Nava-style Dastgah, artist or instrument task, or
    HamNava under one protocol), paired p-values against the best, the best's confusion matrix."""
    _sweep("encoders", root, dataset, encoder, out, _settings(seeds, epochs, lr, layer, hidden_layers, cache), protocol,
           label_column, [seconds])


@app.command()
def layers(root: Path = ROOT, encoder: str = ONE_ENCODER, out: Path = OUT, dataset: str = DATASET,
           protocol: str = PROTOCOL, label_column: str = LABEL, seeds: str = SEEDS, epochs: int = EPOCHS,
           lr: float = LR, hidden_layers: int = HIDDEN, cache: Optional[Path] = CACHE) -> None:
    """A head on every hidden layer of the encoder (extracted once), score against layer."""
    _sweep("layers", root, dataset, [encoder], out, _settings(seeds, epochs, lr, None, hidden_layers, cache), protocol,
           label_column, [])


@app.command()
def depth(root: Path = ROOT, encoder: str = ONE_ENCODER, out: Path = OUT, dataset: str = DATASET,
          protocol: str = PROTOCOL, label_column: str = LABEL, depths: str = typer.Option("1,2,3,4,5", "--depths",
          help="Hidden layers of the head to try."), seeds: str = SEEDS, epochs: int = EPOCHS, lr: float = LR,
          layer: Optional[int] = LAYER, cache: Optional[Path] = CACHE) -> None:
    """Heads of 1 to 5 hidden layers on one layer of the encoder."""
    with reported(ValueError, code=2):
        values = [int(d) for d in depths.split(",")]
    _sweep("depth", root, dataset, [encoder], out, _settings(seeds, epochs, lr, layer, 0, cache), protocol, label_column, values)


@app.command("clip-length")
def clip_length(root: Path = ROOT, encoder: str = ONE_ENCODER, out: Path = OUT, dataset: str = DATASET,
                protocol: str = PROTOCOL, label_column: str = LABEL, lengths: str = typer.Option("3,5", "--seconds",
                help="Clip lengths in seconds to compare."), seeds: str = SEEDS, epochs: int = EPOCHS, lr: float = LR,
                layer: Optional[int] = LAYER, hidden_layers: int = HIDDEN, cache: Optional[Path] = CACHE) -> None:
    """The recordings cut into clips of each length (3 s against 5 s), one head per length."""
    with reported(ValueError, code=2):
        values = [float(s) for s in lengths.split(",")]
    _sweep("clip-length", root, dataset, [encoder], out, _settings(seeds, epochs, lr, layer, hidden_layers, cache), protocol,
           label_column, values)
