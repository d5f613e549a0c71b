"""Feature extraction over files and folders: cached, parallel, one error line per bad file."""

from __future__ import annotations

import csv
import io as _io
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from saz import audio, io
from saz.features.base import Feature, Precomputed
from saz.features.cache import FeatureCache
from saz.scale import Engine


@dataclass
class FileResult:
    """Outcome for one input file: where its features went, or why it failed."""

    path: Path
    output: Path | None = None
    shape: tuple[int, ...] | None = None
    cached: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def features_for_file(
    path: str | os.PathLike,
    feature: Feature,
    cache: FeatureCache | None = None,
    offset: float = 0.0,
    duration: float | None = None,
) -> tuple[np.ndarray, bool]:
    """Features of one file (or window of it), from the cache when present. Returns (array, cached)."""
    if isinstance(feature, Precomputed):
        return feature.for_file(str(path)), False
    if cache is not None:
        hit = cache.get(feature, path, offset, duration)
        if hit is not None:
            return hit, True
    y, _ = audio.load(path, sr=feature.sr, offset=offset, duration=duration)
    x = feature(y)
    if cache is not None:
        cache.put(feature, path, x, offset, duration)
    return x, False


def output_paths(inputs: Iterable[str | os.PathLike], out_dir: Path,
                 on_scan: Callable[[audio.Scan], None] | None = None) -> list[tuple[Path, Path]]:
    """Pair each audio file with its output: folders keep their relative layout, files their name
    (``on_scan``: as for :func:`saz.audio.find_audio`)."""
    pairs: list[tuple[Path, Path]] = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            for f in audio.find_audio([p], on_scan):
                pairs.append((f, out_dir / p.name / f"{f.relative_to(p)}.npy"))
        else:
            pairs.append((p, out_dir / f"{p.name}.npy"))
    return pairs


def _work(src: Path, dst: Path, feature: Feature, cache_root: str | None) -> FileResult:
    try:
        cache = FeatureCache(cache_root) if cache_root is not None else None
        x, cached = features_for_file(src, feature, cache)
        io.save_npy(dst, x)
        return FileResult(src, dst, tuple(x.shape), cached)
    except audio.AudioError as e:
        return FileResult(src, error=str(e))
    except Exception as e:  # one bad file must not stop the batch
        return FileResult(src, error=f"{src}: {type(e).__name__}: {e}")


def _work_chunk(state: tuple[Feature, str | None], pairs: list[tuple[Path, Path]]) -> Iterator[FileResult]:
    """An engine's work: :func:`_work` on each ``(source, output)`` pair, with the feature and cache of ``state``."""
    return (_work(src, dst, *state) for src, dst in pairs)


def _lost(pair: tuple[Path, Path], why: str) -> FileResult:
    """The result of a file whose worker was lost (an engine's ``lost``)."""
    return FileResult(pair[0], error=f"{pair[0]}: {why}")


def _init_worker() -> None:
    """A worker's setup: one torch thread (the workers are the parallelism), and a watch that ends
    the worker when its parent does (a parent killed with SIGKILL would otherwise leave its
    workers waiting on the task queue for ever)."""
    torch.set_num_threads(1)
    threading.Thread(target=_exit_with_parent, name="saz-parent-watch", daemon=True).start()


def _exit_with_parent() -> None:
    """Wait until this spawned worker's parent has ended (its end of the spawn pipe closes), then exit."""
    multiprocessing.parent_process().join()
    os._exit(1)


def extract_files(
    pairs: list[tuple[Path, Path]],
    feature: Feature,
    cache: FeatureCache | None = None,
    workers: int = 1,
    on_result: Callable[[FileResult], None] | None = None,
    engine: Engine | None = None,
) -> list[FileResult]:
    """Compute features for ``(source, output)`` pairs, in ``workers`` processes when > 1, or a
    file per task on a distributed ``engine`` (its workers share the cache folder and the outputs)."""
    cache_root = str(cache.root) if cache is not None else None
    if cache is not None:
        cache.remove_leftovers(feature)
    results: list[FileResult] = []

    def done(r: FileResult) -> None:
        results.append(r)
        if on_result is not None:
            on_result(r)

    if engine is not None and engine.distributed:
        for r in engine.map(_work_chunk, pairs, (feature, cache_root), chunk=1, lost=_lost):
            done(r)
    elif workers <= 1 or len(pairs) <= 1:
        for src, dst in pairs:
            done(_work(src, dst, feature, cache_root))
    else:
        ctx = multiprocessing.get_context("spawn")  # fork after torch has run can deadlock in OpenMP
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker) as pool:
            futures = [pool.submit(_work, src, dst, feature, cache_root) for src, dst in pairs]
            for fut in as_completed(futures):
                done(fut.result())
    order = {src: i for i, (src, _) in enumerate(pairs)}
    results.sort(key=lambda r: order.get(r.path, 0))
    return results


def write_index(path: Path, feature: Feature, results: list[FileResult]) -> Path:
    """CSV listing every input with its output file, shape, or error."""
    buf = _io.StringIO()
    w = csv.writer(buf)
    w.writerow(["path", "output", "feature", "key", "shape", "error"])
    for r in results:
        shape = "x".join(map(str, r.shape)) if r.shape else ""
        w.writerow([r.path, r.output or "", feature.name, feature.key(), shape, r.error or ""])
    return io.write_text(path, buf.getvalue())
