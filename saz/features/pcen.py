"""Per-channel energy normalisation (PCEN) of the mel spectrogram: a learned-free automatic gain
control per band, in place of the log.

Each band is divided by a smoothed history of its own energy, so a steady level (a loud room, a
mastering chain, a quiet microphone) is normalised away and onsets stand out; proposed as a
front end that transfers across recording conditions better than the log-mel (Wang et al. 2017;
Lostanlen et al. 2019). Same parameters and defaults as ``librosa.pcen``, which the tests hold it to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from saz.features import dsp
from saz.features.base import register
from saz.features.logmel import LogMel

INT_SCALE = 2.0 ** 31  # librosa.pcen expects magnitudes of integer-scaled audio


@register
@dataclass(frozen=True)
class PCEN(LogMel):
    """``(n, n_mels, frames)`` PCEN of the mel magnitude spectrogram (``librosa.pcen`` of
    ``melspectrogram(power=1)`` scaled by ``2**31``, as librosa's documentation advises for audio in [-1, 1])."""

    name = "pcen"
    top_db: float | None = None  # unused: no log
    time_constant: float = 0.4
    gain: float = 0.98
    bias: float = 2.0
    power: float = 0.5
    eps: float = 1e-6

    def compute(self, y: torch.Tensor) -> torch.Tensor:
        mel = dsp.mel_filterbank(self.sr, self.n_fft, self.n_mels, self.fmin, self.fmax)
        S = mel @ dsp.stft(y, self.n_fft, self.hop).abs() * INT_SCALE  # mel of magnitudes (librosa's power=1)
        t = self.time_constant * self.sr / self.hop
        b = (math.sqrt(1 + 4 * t * t) - 1) / (2 * t * t)
        # first-order IIR smoothing over time, started (as librosa starts it) as if every earlier
        # frame had held 1: next to 2**31-scaled energies, a history of near silence
        M = torch.empty_like(S)
        m = torch.ones_like(S[..., 0])
        for k in range(S.shape[-1]):
            m = (1 - b) * m + b * S[..., k]
            M[..., k] = m
        smooth = torch.exp(-self.gain * (math.log(self.eps) + torch.log1p(M / self.eps)))
        return (S * smooth + self.bias) ** self.power - self.bias ** self.power
