"""MusicHuBERT (m-a-p/MusicHuBERT and other HuBERT checkpoints): HuBERT trained on music, 16 kHz.

Contract and output shapes: :mod:`saz.features.hf`.
"""

from __future__ import annotations

from dataclasses import dataclass

from saz.features.base import register
from saz.features.hf import HFEncoder


@register
@dataclass(frozen=True)
class MusicHuBERT(HFEncoder):
    """Hidden states of a local MusicHuBERT (hubert) checkpoint, pooled or as frames."""

    name = "musichubert"
    model_types = ("hubert",)
    model_sr = 16000
    expected = "MusicHuBERT (hubert)"
    sr: int = 16000
