"""ATT: per-class attention over time, trained on clip labels only.

openmic-attention-review.txt (Gururani, Sharma and Lerch, ISMIR 2019), after Kong et al. (2018):
every step of the sequence is embedded (the same :class:`~saz.models.fc_t.StepEmbedding` as
FC_T, 5.2), then two linear maps give, per step t and class c, a frame probability
``p[t, c] = sigmoid(cla)`` and an attention score ``a[t, c] = sigmoid(att)``. The attention is
normalised over time, ``w[t, c] = a[t, c] / sum_t a[t, c]``, and the clip probability is the
weighted mean ``P[c] = sum_t w[t, c] p[t, c]``. Only clip labels supervise ``P``; the weights
learn where each instrument is audible, which :meth:`Attention.attention_weights` exposes.

``forward`` returns ``logit(P)`` (clamped at 1e-7) so that training with BCE-with-logits is
BCE on ``P``, the loss of the paper. ``frame_logits`` are the per-step classifier logits.

Parameters for 10x128 inputs and 20 classes: 54,696, FC_T's 52,116 plus the attention map
(128 x 20 + 20). The paper gives no count for ATT; the authors' released code
(github.com/SiddGururani/AttentionMIC) reports 55,336 for an embedding of 1x1 convolutions
with batch normalisation, which contradicts "FC_T uses the same embedding layer as ATT" and
FC_T's stated 52,116; we keep the embedding identical so the two differ only in pooling.
Optimiser from that code: Adam, learning rate 5e-4, batch 128, dropout 0.6.

Input: ``(steps, dim)``, any number of steps (VGGish 10x128 or ``melpatches``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from saz.models.base import TorchModel, register
from saz.models.layers import AttentionPooled
from saz.models.fc_t import StepEmbedding


@register
class Attention(AttentionPooled, TorchModel):
    """Step embedding -> per-class frame classifier and attention -> attention-weighted mean."""

    name = "attention"
    input_kind = "sequence"
    default_feature = {"feature": "melpatches", "n_mels": 64}
    optimizer = {"lr": 5e-4, "weight_decay": 0.0}
    batch_size = 128
    source = "openmic-attention-review.txt 4-5.2 (ATT)"

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, layers: int = 3, dropout: float = 0.6,
                 **hparams: Any):
        super().__init__(input_shape, n_classes, layers=layers, dropout=dropout, **hparams)
        dim = self.input_shape[-1]
        self.embed = StepEmbedding(dim, layers, dropout)
        self.classify = nn.Linear(dim, self.n_classes)
        self.attend = nn.Linear(dim, self.n_classes)

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(x)
