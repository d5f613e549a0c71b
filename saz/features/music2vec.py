"""Music2vec (m-a-p/music2vec-v1): Data2Vec-audio trained on music, 16 kHz.

Contract and output shapes: :mod:`saz.features.hf`.
"""

from __future__ import annotations

from dataclasses import dataclass

from saz.features.base import register
from saz.features.hf import HFEncoder


@register
@dataclass(frozen=True)
class Music2vec(HFEncoder):
    """Hidden states of a local Music2vec (data2vec-audio) checkpoint, pooled or as frames."""

    name = "music2vec"
    model_types = ("data2vec-audio",)
    model_sr = 16000
    expected = "Music2vec (data2vec-audio)"
    sr: int = 16000
