"""Mel-frequency cepstral coefficients, as librosa.feature.mfcc computes them."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from saz.features import dsp
from saz.features.base import Feature, register


@register
@dataclass(frozen=True)
class MFCC(Feature):
    """``(n, n_mfcc, frames)``: orthonormal DCT-II of the dB mel spectrogram (top_db 80).

    Defaults are librosa's (n_fft 2048, hop 512, 128 bands, 20 coefficients). The HamNava
    baseline (hamnava-dataset-paper.txt 3.1) is :data:`HAMNAVA_MFCC`: n_fft 1024, hop 512,
    40 mel bands; the paper does not state the number of coefficients, so all 40 are kept.
    """

    name = "mfcc"
    n_mfcc: int = 20
    n_fft: int = 2048
    hop: int = 512
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None

    @property
    def frame_rate(self) -> float:
        return self.sr / self.hop

    def compute(self, y: torch.Tensor) -> torch.Tensor:
        power = dsp.stft(y, self.n_fft, self.hop).abs() ** 2
        mel = dsp.mel_filterbank(self.sr, self.n_fft, self.n_mels, self.fmin, self.fmax) @ power
        db = dsp.power_to_db(mel, top_db=80.0)
        return dsp.dct_matrix(self.n_mels, self.n_mfcc) @ db


HAMNAVA_MFCC = MFCC(sr=22050, n_mfcc=40, n_fft=1024, hop=512, n_mels=40)
