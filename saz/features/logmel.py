"""Log-scaled mel spectrogram in dB: the input of most CNN instrument recognisers."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from saz.features import dsp
from saz.features.base import Feature, register


@register
@dataclass(frozen=True)
class LogMel(Feature):
    """``(n, n_mels, frames)`` dB mel power spectrogram (librosa.power_to_db of melspectrogram).

    Defaults follow cultural-instruments-polyphonic-detection.txt 3.3.1 (n_fft 1024, hop 512,
    128 bands, Hann window).
    """

    name = "logmel"
    n_fft: int = 1024
    hop: int = 512
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    top_db: float | None = 80.0

    @property
    def frame_rate(self) -> float:
        return self.sr / self.hop

    def mel_power(self, y: torch.Tensor) -> torch.Tensor:
        spec = torch.view_as_real(dsp.stft(y, self.n_fft, self.hop))
        power = spec.square().sum(-1)  # |S|^2 without the square root of abs()
        return dsp.mel_filterbank(self.sr, self.n_fft, self.n_mels, self.fmin, self.fmax) @ power

    def compute(self, y: torch.Tensor) -> torch.Tensor:
        return dsp.power_to_db(self.mel_power(y), top_db=self.top_db)


@register
@dataclass(frozen=True)
class PeakLogMel(LogMel):
    """The MedleyDB CNN report's input (3.1, 3.2): each clip scaled to unit peak amplitude, then
    its mel spectrogram in dB relative to its own maximum (``librosa.power_to_db(S, ref=np.max)``,
    so 0 dB at the loudest bin, floored at ``-top_db``). Defaults as librosa's: n_fft 2048, hop 512."""

    name = "logmel_peak"
    n_fft: int = 2048

    def compute(self, y: torch.Tensor) -> torch.Tensor:
        peak = y.abs().amax(dim=-1, keepdim=True)
        y = torch.where(peak > 0, y / peak.clamp(min=1e-12), y)
        db = dsp.power_to_db(self.mel_power(y), top_db=self.top_db)
        return db - db.amax(dim=tuple(range(1, db.ndim)), keepdim=True)
