"""The feature-extractor interface and its registry.

An extractor is a frozen dataclass whose fields are its whole configuration, so the
configuration hashes to a stable cache key. It maps a batch of equal-length mono clips
``(n, samples)`` at ``sr`` to an array ``(n, ...)``. Adding a feature means writing one module
with a subclass decorated by :func:`register`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, ClassVar

import numpy as np
import torch

FEATURES: dict[str, type["Feature"]] = {}


def register(cls: type["Feature"]) -> type["Feature"]:
    """Class decorator: make ``cls`` available by its ``name``."""
    FEATURES[cls.name] = cls
    return cls


@dataclasses.dataclass(frozen=True)
class Feature:
    """Base class. Subclasses set ``name`` and implement :meth:`compute`."""

    name: ClassVar[str] = ""
    sr: int = 22050

    def config(self) -> dict[str, Any]:
        """Everything that determines the output, including the extractor's name."""
        return {"feature": self.name, **dataclasses.asdict(self)}

    def key(self) -> str:
        """Stable short hash of :meth:`config`; used as the cache key."""
        blob = json.dumps(self.config(), sort_keys=True).encode()
        return f"{self.name}-{hashlib.sha256(blob).hexdigest()[:12]}"

    @property
    def frame_rate(self) -> float | None:
        """Output frames per second for frame-wise features; None for clip summaries."""
        return None

    def check(self) -> None:
        """Raise ValueError, in one line, if the extractor cannot run here (e.g. a bad checkpoint);
        called once before a batch so the problem is not repeated for every file."""

    def compute(self, y: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Extract from ``(n, samples)`` or one ``(samples,)`` clip; float32 numpy out."""
        x = np.asarray(batch, dtype=np.float32)
        single = x.ndim == 1
        out = self.compute(torch.from_numpy(np.atleast_2d(x).copy())).numpy().astype(np.float32, copy=False)
        return out[0] if single else out


@dataclasses.dataclass(frozen=True)
class Precomputed(Feature):
    """A feature a dataset ships precomputed (OpenMIC-2018's VGGish): read for a clip's audio file
    from the files beside it, never computed from the audio, and not cached (reading is the cost)."""

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one clip's array (that of the NaN rows of clips that have none)."""
        raise NotImplementedError

    def for_file(self, path: str) -> np.ndarray:
        """The clip's array; OSError or ValueError (one line naming the file) when it has none."""
        raise NotImplementedError

    def compute(self, y: torch.Tensor) -> torch.Tensor:
        raise ValueError(f"feature '{self.name}' is read from a dataset's shipped files, not computed from audio")


def get_feature(name: str, **params: Any) -> Feature:
    """Instantiate a registered extractor by name; unknown parameters fail clearly."""
    if name not in FEATURES:
        raise KeyError(f"unknown feature '{name}' (available: {', '.join(sorted(FEATURES))})")
    cls = FEATURES[name]
    fields = {f.name for f in dataclasses.fields(cls)}
    bad = set(params) - fields
    if bad:
        raise TypeError(f"feature '{name}' has no parameter(s) {sorted(bad)} (it takes {sorted(fields)})")
    return cls(**params)


def feature_from_config(config: dict[str, Any]) -> Feature:
    """Rebuild an extractor from :meth:`Feature.config` (e.g. stored in a checkpoint)."""
    params = dict(config)
    return get_feature(params.pop("feature"), **params)
