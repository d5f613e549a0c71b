"""Writing generated clips as a corpus the ``csv`` reader loads, in resumable chunks.

Clips are produced in fixed chunks (clip ``i`` belongs to chunk ``i // chunk_size``). A chunk
writes its audio and activity files, then its manifest rows in one atomic file; a chunk whose
rows exist is skipped on the next run, so an interrupted build resumes where it stopped.
Each chunk is generated from its own seed in its own fresh state, so the bytes do not depend
on how chunks are spread over worker processes.
"""

from __future__ import annotations

import csv
import io as _io
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context, parent_process
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import soundfile as sf

from saz import io
from saz.scale import Engine
from saz.synth.mix import ACTIVITY_HOP


@dataclass
class Clip:
    """One generated clip: audio, frame activity ``(frames, n_classes)``, labels and metadata."""

    clip_id: str
    audio: np.ndarray
    activity: np.ndarray
    labels: np.ndarray
    meta: dict
    stems: dict[str, np.ndarray] | None = None


def write_clip(out: Path, split: str, clip: Clip, sr: int) -> dict:
    """Write audio (16-bit WAV), activity (.npy, uint8) and stems; return the manifest row."""
    audio_rel = Path("audio") / split / f"{clip.clip_id}.wav"
    act_rel = Path("activity") / split / f"{clip.clip_id}.npy"
    buf = _io.BytesIO()
    sf.write(buf, clip.audio, sr, format="WAV", subtype="PCM_16")
    io.write_bytes(out / audio_rel, buf.getvalue())
    io.save_npy(out / act_rel, clip.activity.astype(np.uint8))
    if clip.stems:
        for name, stem in clip.stems.items():
            b = _io.BytesIO()
            sf.write(b, stem, sr, format="WAV", subtype="FLOAT")
            io.write_bytes(out / "stems" / split / clip.clip_id / f"{name}.wav", b.getvalue())
    return {"clip_id": clip.clip_id, "path": str(audio_rel), "split": split, "activity": str(act_rel),
            "frame_rate": sr / ACTIVITY_HOP, **clip.meta}


def manifest_text(rows: list[dict], classes: Sequence[str], labels: list[np.ndarray]) -> str:
    """CSV text: clip columns, metadata, then one 0/1 column per class."""
    meta_keys = [k for k in rows[0] if k not in ("clip_id", "path", "split", "activity", "frame_rate")] if rows else []
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["clip_id", "path", "split", *meta_keys, "activity", "frame_rate", *classes])
    for r, y in zip(rows, labels):
        w.writerow([r["clip_id"], r["path"], r["split"], *(r.get(k, "") for k in meta_keys), r["activity"],
                    f"{r['frame_rate']:.6f}", *(int(v) for v in y)])
    return buf.getvalue()


ChunkFn = Callable[[int, list[int]], Iterator[Clip]]


def parent_gone() -> bool:
    """True in a worker process whose parent has died (killed without shutting its pool down):
    the worker should stop rather than spend minutes on work nobody will collect."""
    parent = parent_process()
    return parent is not None and not parent.is_alive()


def _run_chunk(fn: ChunkFn, out: Path, split: str, sr: int, classes: tuple[str, ...], chunk: int,
               indices: list[int]) -> int:
    import torch

    torch.set_num_threads(1)
    rows, labels = [], []
    for clip in fn(chunk, indices):
        if parent_gone():  # a pool worker survives SystemExit (it is sent back as a result), so leave hard
            print(f"chunk {chunk} of {split}: the process that started this worker is gone; stopping", file=sys.stderr)
            os._exit(1)
        rows.append(write_clip(out, split, clip, sr))
        labels.append(clip.labels)
    io.write_text(out / "parts" / split / f"{chunk:05d}.csv", manifest_text(rows, classes, labels))
    return len(rows)


def _chunks_work(state: tuple, chunks: list[tuple[int, list[int]]]) -> list[int]:
    """An engine's work: :func:`_run_chunk` of each ``(chunk, indices)``, with the factory and corpus of ``state``."""
    fn, *args = state
    return [_run_chunk(fn, *args, c, idx) for c, idx in chunks]


def build_split(fn: ChunkFn, out: Path, split: str, n: int, classes: Sequence[str], sr: int,
                chunk_size: int = 100, workers: int = 1, on_chunk: Callable[[int], None] | None = None,
                engine: Engine | None = None) -> Path:
    """Generate ``n`` clips of ``split`` with ``fn`` in chunks (a chunk per task on a distributed
    ``engine``, whose workers write into ``out``); returns the split's manifest."""
    chunks = {c: list(range(c * chunk_size, min(n, (c + 1) * chunk_size))) for c in range((n + chunk_size - 1) // chunk_size)}
    todo = {c: idx for c, idx in chunks.items() if not (out / "parts" / split / f"{c:05d}.csv").exists()}
    for c in set(chunks) - set(todo):
        if on_chunk:
            on_chunk(len(chunks[c]))
    args = (out, split, sr, tuple(classes))
    if engine is not None and engine.distributed:
        for done in engine.map(_chunks_work, list(todo.items()), (fn, *args)):
            if on_chunk:
                on_chunk(done)
    elif workers <= 1:
        for c, idx in todo.items():
            done = _run_chunk(fn, *args, c, idx)
            if on_chunk:
                on_chunk(done)
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_run_chunk, fn, *args, c, idx) for c, idx in todo.items()]
            for f in as_completed(futures):
                done = f.result()
                if on_chunk:
                    on_chunk(done)
    return merge_manifest(out, split, sorted(chunks))


def merge_manifest(out: Path, split: str, chunks: list[int]) -> Path:
    """Concatenate the chunk manifests of ``split`` in chunk order into ``<split>.csv``."""
    texts = [(out / "parts" / split / f"{c:05d}.csv").read_text() for c in chunks]
    header = texts[0].splitlines()[0] if texts else ""
    body = [line for t in texts for line in t.splitlines()[1:]]
    return io.write_text(out / f"{split}.csv", "\n".join([header, *body]) + "\n")
