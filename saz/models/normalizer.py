"""The input standardisation a model was trained with, stored in its checkpoint.

Neural models see their features shifted and scaled by statistics of the training set, per band
for spectrograms and per dimension for sequences and vectors. The same statistics must be applied
at prediction time, so they travel in the checkpoint (``{"mean": tensor, "std": tensor}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


@dataclass(eq=False)
class Normalizer:
    """Per-band (spectrogram) or per-dimension (sequence, vector) standardisation, fitted on training data."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, input_kind: str) -> "Normalizer":
        """Statistics of the training features ``X`` (n, ...), ignoring NaNs; a floor on ``std``
        keeps silent bands from blowing up."""
        axes = (0, 2) if input_kind == "spectrogram" and X.ndim == 3 else tuple(range(X.ndim - 1))
        mean = np.nanmean(X, axis=axes, keepdims=True)[0]
        std = np.nanstd(X, axis=axes, keepdims=True)[0]
        return cls(mean.astype(np.float32), np.maximum(std, 1e-5).astype(np.float32))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x - torch.from_numpy(self.mean)) / torch.from_numpy(self.std)

    def fits(self, input_shape: tuple[int, ...]) -> bool:
        """Whether these statistics broadcast over one input of ``input_shape`` without changing its shape."""
        try:
            return np.broadcast_shapes(self.mean.shape, tuple(input_shape)) == tuple(input_shape)
        except ValueError:
            return False

    def to_dict(self) -> dict[str, torch.Tensor]:
        """The checkpoint's ``norm`` entry."""
        return {"mean": torch.from_numpy(self.mean), "std": torch.from_numpy(self.std)}

    @classmethod
    def from_dict(cls, d: Any) -> "Normalizer":
        """Read a checkpoint's ``norm`` entry; ValueError saying what is wrong with it."""
        if not isinstance(d, dict) or set(d) != {"mean", "std"}:
            raise ValueError("norm: expected a dict of 'mean' and 'std'")
        if not all(isinstance(d[k], torch.Tensor) and d[k].is_floating_point() for k in ("mean", "std")):
            raise ValueError("norm: 'mean' and 'std' must be float tensors")
        mean, std = d["mean"].numpy(), d["std"].numpy()
        if mean.shape != std.shape:
            raise ValueError(f"norm: mean of shape {mean.shape} but std of shape {std.shape}")
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
            raise ValueError("norm: mean and std must be finite and std positive")
        return cls(mean, std)
