"""The Ray engine: chunks of work as Ray tasks, a bounded number in flight, retried when a worker dies.

Tasks rather than actors: Ray keeps its worker processes between tasks, so the ``state`` a map
ships (through the object store, once) is unpickled once per worker process and kept there for
the map's later chunks (:data:`_STATE`); a task lost with its worker is retried up to ``retries``
times on another one (Ray's ``max_retries``, which covers worker deaths, not exceptions ``work``
raises: those are the work's own errors, reported as they are locally).
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

import ray
from ray.exceptions import RayError, RayTaskError

from saz.scale import Engine, EngineError, Work

T = TypeVar("T")
R = TypeVar("R")
IN_FLIGHT = 2  # chunks queued per worker: one running, one ready, so no worker waits on the driver
_STATE: dict[str, Any] = {}  # in a worker process: the state of the map it last ran a chunk of


def _run_chunk(key: str, state: Any, work: Work, items: Sequence[Any]) -> list[Any]:
    """A chunk in a worker: ``work(state, items)``, with ``state`` kept per process under ``key``."""
    if key not in _STATE:
        _STATE.clear()  # one map's state at a time: an earlier map's model is not held for ever
        _STATE[key] = state
    return list(work(_STATE[key], items))


def _lost_reason(e: RayError, retries: int) -> str:
    """Why a chunk came back empty, in one line."""
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"its Ray worker failed ({retries} retries spent): {type(e).__name__}: {first}"[:300]


class RayEngine(Engine):
    """Work spread over ``workers`` Ray workers with ``gpus_per_worker`` GPUs each, at ``address``
    (a running cluster) or on a local Ray started here with ``workers`` CPUs."""

    name = "ray"
    distributed = True

    def __init__(self, address: str | None, workers: int, gpus_per_worker: float, retries: int) -> None:
        self.workers, self.retries, self.started = workers, retries, False
        if not ray.is_initialized():
            self._start(address, workers)
        self.task = ray.remote(num_cpus=1, num_gpus=gpus_per_worker, max_retries=retries,
                               max_calls=0)(_run_chunk)  # max_calls 0: a GPU worker too keeps its model

    def _start(self, address: str | None, workers: int) -> None:
        """Connect to ``address``, or start a local Ray of ``workers`` CPUs (at most this machine's)."""
        quiet = {"include_dashboard": False, "logging_level": logging.ERROR, "log_to_driver": False,
                 "configure_logging": True}
        try:
            if address:
                ray.init(address=address, **quiet)
            else:  # "local": a Ray of its own, never a cluster that ``ray start`` left running here
                ray.init(address="local", num_cpus=min(workers, os.cpu_count() or 1), **quiet)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise EngineError(f"--engine ray: no Ray cluster at {address or 'local'}: {e}".splitlines()[0]) from None
        self.started = True

    def map(self, work: Work, items: Iterable[T], state: Any = None, chunk: int = 1,
            lost: Callable[[T, str], R] | None = None) -> Iterator[R]:
        """Results of ``work(state, chunk)`` per chunk of ``chunk`` items, as chunks finish; a chunk
        whose worker failed beyond its retries yields ``lost(item, why)`` per item (raises without ``lost``)."""
        items = list(items)
        chunks = iter([items[i:i + chunk] for i in range(0, len(items), max(1, chunk))])
        key, ref = uuid.uuid4().hex, ray.put(state)
        pending: dict[ray.ObjectRef, list[T]] = {}

        def submit() -> None:
            c = next(chunks, None)
            if c is not None:
                pending[self.task.remote(key, ref, work, c)] = c

        for _ in range(self.workers * IN_FLIGHT):
            submit()
        try:
            while pending:
                (done,), _ = ray.wait(list(pending), num_returns=1)
                c = pending.pop(done)
                submit()
                yield from self._results(done, c, lost)
        finally:  # stopped early (an error, Ctrl-C): what is still queued is no one's work any more
            for left in pending:
                ray.cancel(left)

    def _results(self, done: ray.ObjectRef, items: list[T], lost: Callable[[T, str], R] | None) -> list[R]:
        """A finished chunk's results; for a worker lost beyond its retries, ``lost`` of each item."""
        try:
            return ray.get(done)
        except RayError as e:
            if lost is None or isinstance(e, RayTaskError):  # RayTaskError: work's own exception, raised as locally
                raise
            return [lost(x, _lost_reason(e, self.retries)) for x in items]

    def close(self) -> None:
        """Stop the local Ray this engine started (a cluster it connected to keeps running)."""
        if self.started:
            ray.shutdown()
            self.started = False
