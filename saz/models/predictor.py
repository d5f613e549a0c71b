"""The runtime side of a checkpoint: features in, probabilities (clip and, where it can, per frame) out.

A :class:`Predictor` is built once from a :class:`~saz.models.checkpoint.Checkpoint` (the
network in inference form, the estimator, or one predictor per ensemble member) and then serves
every batch; it also says which thresholds decide for a threshold profile and prediction window.
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np
import torch

from saz.features import feature_from_config
from saz.models.base import SklearnModel, TorchModel
from saz.models.checkpoint import TUNED, Checkpoint
from saz.models.ensemble import combination
from saz.models.inference import for_inference


class Predictor:
    """A loaded checkpoint: features in, probabilities (clip and, where the model can, per frame) out."""

    def __init__(self, checkpoint: Checkpoint):
        self.checkpoint = checkpoint
        self.source = checkpoint.source
        self.feature = feature_from_config(checkpoint.feature)
        self.seconds = checkpoint.seconds
        self.vocab = checkpoint.vocabulary
        self.thresholds = np.asarray(checkpoint.thresholds, dtype=np.float32)
        self.info = checkpoint.info
        self.norm = checkpoint.norm
        self.members = [Predictor(m) for m in checkpoint.members]
        self.combine = combination(checkpoint.combine)
        model = checkpoint.build_model()
        self.model = for_inference(model.eval()) if isinstance(model, TorchModel) else model

    @classmethod
    def load(cls, path: str | os.PathLike, trust: bool = False) -> "Predictor":
        """The predictor of the checkpoint file ``path`` (:class:`~saz.models.checkpoint.CheckpointError`
        if unreadable, or if it holds a pickled estimator and not ``trust``: :meth:`Checkpoint.load`)."""
        return cls(Checkpoint.load(path, trust))

    @property
    def name(self) -> str:
        return self.checkpoint.name

    @property
    def profiles(self) -> dict[str, str]:
        """Threshold profiles by name, each with how it was set; :data:`TUNED` is the checkpoint's own."""
        own = {TUNED: "tuned for F1 on the validation clips"}
        return own | {k: v.about for k, v in self.checkpoint.threshold_profiles.items()}

    def threshold_window(self, window: float | None = None) -> float:
        """The window whose tuned thresholds serve predictions at ``window`` seconds: the nearest
        of the clip length (the checkpoint's own thresholds) and the windows it has thresholds
        for (:meth:`Checkpoint.with_window_thresholds`)."""
        table = self.checkpoint.window_thresholds
        tabled = list(table.windows) if table is not None else []
        return self.seconds if window is None else min([self.seconds, *tabled], key=lambda w: (abs(w - window), w))

    def thresholds_for(self, profile: str | None = None, window: float | None = None) -> np.ndarray:
        """Per-class thresholds of ``profile`` (None or :data:`TUNED`: the checkpoint's own, at the
        prediction ``window`` if it has thresholds tuned for windows; see :meth:`threshold_window`)."""
        if profile in (None, TUNED):
            w = self.threshold_window(window)
            if w == self.seconds:
                return self.thresholds
            return np.asarray(self.checkpoint.window_thresholds.windows[w], np.float32)
        found = self.checkpoint.threshold_profiles.get(profile)
        if found is None:
            raise ValueError(f"{self.source}: no threshold profile '{profile}' (it has: {', '.join(self.profiles)})")
        return np.asarray(found.thresholds, dtype=np.float32)

    @property
    def receptive_frames(self) -> int:
        """Input frames that one output of the network hears (the most of any member's); 1 for a
        model that declares none (``receptive_frames`` of its class)."""
        if self.members:
            return max(m.receptive_frames for m in self.members)
        return int(getattr(self.model, "receptive_frames", 1))

    @property
    def min_window(self) -> float:
        """The shortest input in seconds the model can use: one whose spectrogram holds
        :attr:`receptive_frames` frames (centred frames: n samples give ``1 + n // hop``), and at
        least one FFT frame. Shorter, every output would hear the zero padding around the clip."""
        f = self.feature
        hop = f.sr / f.frame_rate if f.frame_rate else 0.0
        return max((self.receptive_frames - 1) * hop, float(getattr(f, "n_fft", 0))) / f.sr

    @property
    def has_frames(self) -> bool:
        if self.members:
            return all(m.has_frames for m in self.members)
        return isinstance(self.model, TorchModel) and self.model.has_frames

    def _batches(self, X: np.ndarray, batch: int) -> Iterator[torch.Tensor]:
        for i in range(0, len(X), batch):
            x = torch.from_numpy(np.ascontiguousarray(X[i:i + batch], dtype=np.float32))
            yield self.norm(x) if self.norm is not None else x

    @torch.no_grad()
    def probabilities(self, X: np.ndarray, batch: int = 64) -> np.ndarray:
        """Clip probabilities ``(n, n_classes)`` for features ``X`` (n, ...)."""
        if self.members:
            return self.combine([m.probabilities(X, batch) for m in self.members], axis=0)
        if isinstance(self.model, SklearnModel):
            return np.asarray(self.model.predict_proba(X.reshape(len(X), -1)), dtype=np.float32)
        if len(X) == 0:
            return np.zeros((0, len(self.vocab)), np.float32)
        return torch.cat([torch.sigmoid(self.model(x)) for x in self._batches(X, batch)]).numpy()

    @property
    def has_attention(self) -> bool:
        """Whether the model pools over time with class-wise attention (:meth:`attention_weights`)."""
        return not self.members and hasattr(self.model, "attention_weights")

    @torch.no_grad()
    def attention_weights(self, X: np.ndarray, batch: int = 64) -> np.ndarray:
        """``(n, steps, n_classes)`` attention weights over time (each clip's and class's sum to 1)."""
        if not self.has_attention:
            raise ValueError(f"model '{self.name}' has no attention over time")
        return torch.cat([self.model.attention_weights(x) for x in self._batches(X, batch)]).numpy()

    @torch.no_grad()
    def frame_probabilities(self, X: np.ndarray, batch: int = 64) -> np.ndarray:
        """Per-frame probabilities ``(n, frames', n_classes)`` (models with ``frame_logits``)."""
        if not self.has_frames:
            raise ValueError(f"model '{self.name}' does not predict per frame")
        if self.members:
            return self.combine([m.frame_probabilities(X, batch) for m in self.members], axis=0)
        return torch.cat([torch.sigmoid(self.model.frame_logits(x)) for x in self._batches(X, batch)]).numpy()
