"""Fresh training clips on the fly: a background process renders and featurises while the
model trains, and each epoch swaps the oldest clips of the training pool for new ones.

Rendering costs a fraction of a CPU-second per 5-s clip, so a worker keeps up with a good
share of every epoch; the model then never sees the same mixture many times, which matters
more as the recipe gets richer (performances, rooms, mastering). Chunks are numbered from
``first_chunk`` upwards, far from the chunks of any stored corpus built with the same seed,
so fresh clips are new clips; each chunk is seeded as in a corpus build, so a run that
restarts from the same chunk draws the same clips.

:func:`fresh_clips` is how a caller of training gets such a stream for a recipe; training
itself only sees the ``take`` callable (:func:`saz.models.train.train_on_dataset`'s ``fresh``).
"""

from __future__ import annotations

import queue
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Callable, Iterator

import numpy as np

from saz.features.base import Feature
from saz.features.dataset import fit_length
from saz.labels import Vocabulary
from saz.synth.corpus import parent_gone
from saz.synth.render import RenderConfig, RenderGenerator
from saz.vocabulary import load_map

FIRST_CHUNK = 1_000_000


def _produce(generator: Callable, feature: Feature, seconds: float, chunk_size: int, first_chunk: int,
             out: "queue.Queue", stop) -> None:
    import torch

    torch.set_num_threads(1)

    def wanted() -> bool:  # a trainer killed without close() must not leave its worker running
        return not stop.is_set() and not parent_gone()

    n = int(round(seconds * feature.sr))
    chunk = first_chunk
    while wanted():
        clips = list(generator(chunk, list(range(chunk * chunk_size, (chunk + 1) * chunk_size))))
        waves = np.stack([fit_length(c.audio, n) for c in clips])
        X = feature(waves)
        y = np.stack([c.labels for c in clips]).astype(np.float32)
        while wanted():
            try:
                out.put((chunk, X, y), timeout=0.5)
                break
            except queue.Full:
                continue
        chunk += 1


class FreshClips:
    """A worker process yielding featurised clips of ``generator`` (a corpus generator)."""

    def __init__(self, generator: Callable, feature: Feature, seconds: float, chunk_size: int = 16,
                 first_chunk: int = FIRST_CHUNK, buffer_chunks: int = 64):
        ctx = get_context("spawn")
        self._queue = ctx.Queue(maxsize=buffer_chunks)
        self._stop = ctx.Event()
        self._proc = ctx.Process(target=_produce, daemon=True,
                                 args=(generator, feature, seconds, chunk_size, first_chunk, self._queue, self._stop))
        self._proc.start()
        self.chunks = 0

    def take(self, max_clips: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Whatever is ready (at most about ``max_clips``), without waiting; None if nothing is."""
        xs, ys, n = [], [], 0
        while n < max_clips:
            try:
                _, X, y = self._queue.get_nowait()
            except queue.Empty:
                break
            xs.append(X)
            ys.append(y)
            n += len(X)
            self.chunks += 1
        if not xs:
            return None
        return np.concatenate(xs)[:max_clips], np.concatenate(ys)[:max_clips]

    def close(self) -> None:
        self._stop.set()
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.terminate()

    def __enter__(self) -> "FreshClips":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


Take = Callable[[int], "tuple[np.ndarray, np.ndarray] | None"]


@contextmanager
def fresh_clips(recipe: RenderConfig | None, feature: Feature, seconds: float, vocab: Vocabulary,
                seed: int) -> Iterator[Take | None]:
    """A worker rendering ``recipe``'s clips (seeded by ``seed``, named ``fresh-...``) as
    ``feature`` over ``seconds``, for as long as the block runs; yields its ``take``.

    The clips are labelled over the recipe's classes, so these must be ``vocab``'s (the
    training set's); a clear error otherwise. ``recipe=None`` yields None (no fresh clips),
    so a caller can write one ``with`` for both cases.
    """
    if recipe is None:
        yield None
        return
    if list(recipe.classes or load_map()) != list(vocab.names):
        raise ValueError("fresh clips need the training set's vocabulary (the default vocabulary)")
    with FreshClips(RenderGenerator(recipe, seed, prefix="fresh"), feature, seconds) as stream:
        yield stream.take
