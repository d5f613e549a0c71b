"""The on-disk feature cache, keyed by the feature configuration and the identity of the audio.

A file's identity is its resolved path, size and modification time, so an edited file is
recomputed. Entries are ``.npy`` files written atomically (:mod:`saz.io`); an unreadable entry
is treated as a miss and replaced, so an interrupted run never poisons later ones, and the
temporary files of writes it interrupted are removed by a later run
(:meth:`FeatureCache.remove_leftovers`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np

from saz import io
from saz.features.base import Feature

T = TypeVar("T")
STALE_SECONDS = 600.0  # a temporary file unchanged this long is an interrupted write's, not one in progress


def default_cache_dir() -> Path:
    """``$SAZ_CACHE`` or ``~/.cache/saz``."""
    return Path(os.environ.get("SAZ_CACHE", Path.home() / ".cache" / "saz"))


def file_identity(path: str | os.PathLike, offset: float = 0.0, duration: float | None = None) -> str:
    p = Path(path).resolve()
    st = p.stat()
    blob = f"{p}|{st.st_size}|{st.st_mtime_ns}|{offset}|{duration}".encode()
    return hashlib.sha256(blob).hexdigest()[:24]


class FeatureCache:
    """Feature entries under ``root/<feature key>/<ab>/<id>.<ext>``: one array per audio file
    (``.npy``, :meth:`get` / :meth:`put`, keyed by the file's identity) or one bundle of arrays per
    block of clips (``.npz``, :meth:`get_block` / :meth:`put_block`, keyed by the caller). Writes are
    atomic; an unreadable entry is a miss and is removed."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_cache_dir() / "features"

    def remove_leftovers(self, feature: Feature) -> list[Path]:
        """Remove the temporary files that interrupted writes left among ``feature``'s entries;
        only those older than :data:`STALE_SECONDS`, as other processes may share the cache."""
        return io.remove_temp_files(self.root / feature.key(), older_than=STALE_SECONDS, recursive=True)

    def entry(self, feature: Feature, key: str, ext: str) -> Path:
        return self.root / feature.key() / key[:2] / f"{key}.{ext}"

    def path_for(self, feature: Feature, audio_path: str | os.PathLike, offset: float = 0.0,
                 duration: float | None = None) -> Path:
        return self.entry(feature, file_identity(audio_path, offset, duration), "npy")

    @staticmethod
    def _read(path: Path, read: Callable[[Path], T]) -> T | None:
        if not path.exists():
            return None
        try:
            return read(path)
        except (ValueError, OSError, EOFError, KeyError):
            path.unlink(missing_ok=True)
            return None

    def get(self, feature: Feature, audio_path: str | os.PathLike, offset: float = 0.0,
            duration: float | None = None) -> np.ndarray | None:
        return self._read(self.path_for(feature, audio_path, offset, duration), lambda p: np.load(p, allow_pickle=False))

    def put(self, feature: Feature, audio_path: str | os.PathLike, array: np.ndarray, offset: float = 0.0,
            duration: float | None = None) -> Path:
        return io.save_npy(self.path_for(feature, audio_path, offset, duration), array)

    def get_block(self, feature: Feature, key: str, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
        """The arrays ``names`` of the block ``key``, or None (missing, unreadable or incomplete)."""
        def read(p: Path) -> dict[str, np.ndarray]:
            with np.load(p, allow_pickle=False) as z:
                return {n: z[n] for n in names}
        return self._read(self.entry(feature, key, "npz"), read)

    def put_block(self, feature: Feature, key: str, **arrays: np.ndarray) -> Path:
        return io.atomic_write(self.entry(feature, key, "npz"), lambda f: np.savez(f, **arrays))
