"""Log-mel patches: a short sequence of frame embeddings, the VGGish-like input of sequence models.

The dB log-mel spectrogram is cut into patches of ``patch_seconds`` (0.96 s like VGGish) and
each patch is summarised by its mean and max over time, giving ``(n_patches, 2 * n_mels)``.
The ``fc``, ``fc_t``, ``rnn``, ``attention`` and ``bilstm`` models take this where no VGGish
features exist (they do for OpenMIC-2018).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from saz.features.base import Feature, register
from saz.features.logmel import LogMel


@register
@dataclass(frozen=True)
class MelPatches(Feature):
    """``(n, n_patches, 2 * n_mels)``; the last partial patch is dropped unless it is the only one."""

    name = "melpatches"
    n_fft: int = 1024
    hop: int = 512
    n_mels: int = 64
    patch_seconds: float = 0.96

    @property
    def frame_rate(self) -> float:
        return 1.0 / self.patch_seconds

    def compute(self, y: torch.Tensor) -> torch.Tensor:
        mel = LogMel(sr=self.sr, n_fft=self.n_fft, hop=self.hop, n_mels=self.n_mels).compute(y)  # (n, mels, T)
        size = max(1, int(round(self.patch_seconds * self.sr / self.hop)))
        n_patches = max(1, mel.shape[-1] // size)
        if mel.shape[-1] < size:
            mel = torch.nn.functional.pad(mel, (0, size - mel.shape[-1]), value=float(mel.min()))
        patches = mel[..., : n_patches * size].reshape(mel.shape[0], self.n_mels, n_patches, size)
        return torch.cat([patches.mean(-1), patches.amax(-1)], dim=1).transpose(1, 2)
