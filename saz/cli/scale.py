"""The ``--engine``, ``--address`` and ``--gpus-per-worker`` options of the commands that run batches
(``saz predict``, ``saz features``, ``saz synth bench``, ``saz sweep``), and the engine they open."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Optional

import typer

from saz.cli.errors import fail, reported

if TYPE_CHECKING:
    from saz.scale import Engine


def engine_option() -> str:
    """``--engine``: where the batch runs."""
    return typer.Option("local", "--engine", help="local (here) | ray (a local Ray started now, or the cluster at "
                        "--address; needs pip install 'saz[scale]').")


def address_option() -> Optional[str]:
    """``--address``: the Ray cluster to join."""
    return typer.Option(None, "--address", help="With --engine ray: the cluster's address (HOST:6379, ray://HOST:10001 "
                        "or 'auto'); default: start a local Ray of --workers CPUs.")


def gpus_option() -> float:
    """``--gpus-per-worker``: GPUs each Ray worker reserves."""
    return typer.Option(0.0, "--gpus-per-worker", help="With --engine ray: GPUs each worker reserves (e.g. 1, or 0.5 "
                        "to share one between two).")


@contextmanager
def opened_engine(name: str, address: str | None, workers: int, gpus_per_worker: float) -> Iterator[Engine]:
    """The engine the options name, closed at the end; one line and exit status 2 when it cannot run."""
    from saz.scale import EngineError, open_engine

    if name != "ray" and (address is not None or gpus_per_worker):
        fail("--address and --gpus-per-worker apply to --engine ray", code=2)
    with reported(EngineError, code=2):
        engine = open_engine(name, address, workers, gpus_per_worker)
    with engine:
        yield engine
