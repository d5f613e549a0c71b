"""MERT (m-a-p/MERT-v1-95M, MERT-v1-330M): music encoder trained with acoustic (RVQ-VAE) and musical (CQT) targets, 24 kHz.

A MERT snapshot carries its own modelling code (``modeling_MERT.py``, ``configuration_MERT.py``,
named in ``config.json``'s ``auto_map``); it is loaded with ``trust_remote_code=True``, which runs
that Python file from the folder: point saz only at a MERT folder whose code you trust (see
docs/encoders.md). The code files must be in the folder; nothing is fetched.

Contract and output shapes: :mod:`saz.features.hf`.
"""

from __future__ import annotations

from dataclasses import dataclass

from saz.features.base import register
from saz.features.hf import HFEncoder


@register
@dataclass(frozen=True)
class MERT(HFEncoder):
    """Hidden states of a local MERT checkpoint, pooled or as frames."""

    name = "mert"
    model_types = ("mert_model",)
    model_sr = 24000
    expected = "MERT"
    remote_code = True
    sr: int = 24000
