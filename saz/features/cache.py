"""On-disk feature cache keyed by (audio file identity, window, feature configuration).

A file's identity is its resolved path, size and modification time, so an edited file is
recomputed. Entries are ``.npy`` files written atomically (:mod:`saz.io`); an unreadable entry
is treated as a miss and replaced, so an interrupted run never poisons later ones.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from saz import io
from saz.features.base import Feature


def default_cache_dir() -> Path:
    """``$SAZ_CACHE`` or ``~/.cache/saz``."""
    return Path(os.environ.get("SAZ_CACHE", Path.home() / ".cache" / "saz"))


def file_identity(path: str | os.PathLike, offset: float = 0.0, duration: float | None = None) -> str:
    p = Path(path).resolve()
    st = p.stat()
    blob = f"{p}|{st.st_size}|{st.st_mtime_ns}|{offset}|{duration}".encode()
    return hashlib.sha256(blob).hexdigest()[:24]


class FeatureCache:
    """Get and put feature arrays under ``root/<feature key>/<ab>/<identity>.npy``."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_cache_dir() / "features"

    def path_for(self, feature: Feature, audio_path: str | os.PathLike, offset: float = 0.0,
                 duration: float | None = None) -> Path:
        ident = file_identity(audio_path, offset, duration)
        return self.root / feature.key() / ident[:2] / f"{ident}.npy"

    def get(self, feature: Feature, audio_path: str | os.PathLike, offset: float = 0.0,
            duration: float | None = None) -> np.ndarray | None:
        p = self.path_for(feature, audio_path, offset, duration)
        if not p.exists():
            return None
        try:
            return np.load(p, allow_pickle=False)
        except (ValueError, OSError, EOFError):
            p.unlink(missing_ok=True)
            return None

    def put(self, feature: Feature, audio_path: str | os.PathLike, array: np.ndarray, offset: float = 0.0,
            duration: float | None = None) -> Path:
        return io.save_npy(self.path_for(feature, audio_path, offset, duration), array)
