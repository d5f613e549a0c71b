"""wav2vec 2.0 (e.g. facebook/wav2vec2-base): the speech model the music encoders are compared with, 16 kHz.

Contract and output shapes: :mod:`saz.features.hf`.
"""

from __future__ import annotations

from dataclasses import dataclass

from saz.features.base import register
from saz.features.hf import HFEncoder


@register
@dataclass(frozen=True)
class Wav2Vec2(HFEncoder):
    """Hidden states of a local wav2vec 2.0 (wav2vec2) checkpoint, pooled or as frames."""

    name = "wav2vec2"
    model_types = ("wav2vec2",)
    model_sr = 16000
    expected = "wav2vec 2.0 (wav2vec2)"
    sr: int = 16000
