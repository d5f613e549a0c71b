"""Where batch work runs: in this process (the local engine) or on a Ray cluster (the Ray engine).

Both engines take plain functions, so this layer sits low and knows nothing of models or audio:
``engine.map(work, items, state)`` calls ``work(state, chunk)`` on chunks of ``items`` and yields
every result ``work`` returns. The local engine calls it once, on all items, and yields results as
``work`` produces them (the behaviour saz always had). The Ray engine (:mod:`saz.scale.ray_engine`,
with the optional ``scale`` extra) runs one Ray task per chunk on up to ``workers`` workers at a
time and yields a chunk's results when it finishes, in the order chunks finish; ``state`` (a
model, say) goes to the cluster once and is unpickled once per worker process. A worker that dies
is retried (bounded); a chunk whose retries run out yields ``lost(item, why)`` for each of its
items, so the rest of the batch goes on.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")
Work = Callable[[Any, Sequence[T]], Iterable[R]]
ENGINES = ("local", "ray")
EXTRA = "pip install 'saz[scale]'"


class EngineError(RuntimeError):
    """An engine that cannot run here (Ray not installed, no cluster at the address); one line."""


class Engine:
    """The local engine: ``work`` runs here, on every item at once, its results streamed."""

    name = "local"
    distributed = False

    def map(self, work: Work, items: Iterable[T], state: Any = None, chunk: int = 1,
            lost: Callable[[T, str], R] | None = None) -> Iterator[R]:
        """The results of ``work(state, items)`` as it yields them (``chunk`` and ``lost`` matter only
        where items are spread over workers)."""
        yield from work(state, list(items))

    def close(self) -> None:
        """Release what the engine started (nothing, here)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_engine(name: str = "local", address: str | None = None, workers: int = 1,
                gpus_per_worker: float = 0.0, retries: int = 2) -> Engine:
    """The engine ``name`` (:data:`ENGINES`): for ``ray``, a connection to the cluster at ``address``
    or a local Ray of ``workers`` CPUs started now; :class:`EngineError` when Ray is not installed."""
    if name not in ENGINES:
        raise EngineError(f"unknown engine '{name}' ({', '.join(ENGINES)})")
    if workers < 1 or gpus_per_worker < 0:
        raise EngineError("--workers must be at least 1 and --gpus-per-worker at least 0")
    if name == "local":
        return Engine()
    try:
        from saz.scale.ray_engine import RayEngine
    except ImportError:
        raise EngineError(f"--engine ray needs Ray, which is not installed: {EXTRA}") from None
    return RayEngine(address, workers, gpus_per_worker, retries)
