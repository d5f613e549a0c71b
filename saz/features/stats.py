"""The 52-value clip summary of cultural-instruments-polyphonic-detection.txt section 3.3.

Mean and variance of 20 MFCCs (40 values), then mean and variance of spectral centroid,
spectral bandwidth, spectral roll-off (85 %), zero-crossing rate, RMS energy and the harmonic
component of HPSS (12 values). All at librosa's defaults (n_fft 2048, hop 512), which the
paper used; the input of the ``rf`` and ``xgb`` baselines.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from saz.features import dsp
from saz.features.base import Feature, register
from saz.features.mfcc import MFCC

SCALARS = ("centroid", "bandwidth", "rolloff", "zcr", "rms", "harmonic")
STATS_NAMES: tuple[str, ...] = (
    tuple(f"mfcc{i}_mean" for i in range(20))
    + tuple(f"mfcc{i}_var" for i in range(20))
    + tuple(f"{s}_{m}" for s in SCALARS for m in ("mean", "var"))
)


def _mean_var(x: torch.Tensor) -> torch.Tensor:
    return torch.stack([x.mean(dim=-1), x.var(dim=-1, unbiased=False)], dim=-1)


@register
@dataclass(frozen=True)
class Stats(Feature):
    """``(n, 52)`` summary statistics; column names in :data:`STATS_NAMES`."""

    name = "stats"
    n_fft: int = 2048
    hop: int = 512
    roll_percent: float = 0.85
    hpss_kernel: int = 31

    def spectral(self, mag: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Centroid, bandwidth (p=2) and roll-off per frame from magnitudes ``(n, freq, frames)``."""
        freq = torch.fft.rfftfreq(self.n_fft, 1.0 / self.sr).to(mag.dtype)[:, None]
        total = mag.sum(dim=-2, keepdim=True)
        norm = torch.where(total > torch.finfo(mag.dtype).tiny, mag / total.clamp_min(1e-30), mag)
        centroid = (freq * norm).sum(dim=-2)
        bandwidth = ((freq - centroid[:, None, :]) ** 2 * norm).sum(dim=-2).sqrt()
        cum = mag.cumsum(dim=-2)
        reached = cum >= self.roll_percent * cum[:, -1:, :]
        rolloff = freq[:, 0][reached.int().argmax(dim=-2)]
        return centroid, bandwidth, rolloff

    def compute(self, y: torch.Tensor) -> torch.Tensor:
        y64 = y.double()
        spec = dsp.stft(y64.float(), self.n_fft, self.hop)
        mag = spec.abs()
        mfcc = MFCC(sr=self.sr, n_fft=self.n_fft, hop=self.hop).compute(y)
        centroid, bandwidth, rolloff = self.spectral(mag.double())
        fr = dsp.frames(y64, self.n_fft, self.hop, pad_mode="edge")
        fr = torch.where(fr.abs() <= 1e-10, torch.zeros_like(fr), fr)
        sign = torch.signbit(fr)
        zcr = torch.cat([torch.zeros_like(sign[..., :1]), sign[..., 1:] != sign[..., :-1]], dim=-1).double().mean(-1)
        rms = dsp.frames(y64, self.n_fft, self.hop, pad_mode="constant").pow(2).mean(-1).sqrt()
        harmonic = dsp.istft(spec * dsp.hpss_harmonic_mask(mag, self.hpss_kernel), self.n_fft, self.hop, y.shape[-1])
        parts = [mfcc.mean(-1), mfcc.var(-1, unbiased=False)]
        parts += [_mean_var(s.double()).float() for s in (centroid, bandwidth, rolloff, zcr, rms, harmonic)]
        return torch.cat([p.reshape(y.shape[0], -1).float() for p in parts], dim=1)
