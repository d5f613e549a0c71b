"""FC_T: per-step embedding and mean pooling over time, the ablation of the attention model.

openmic-attention-review.txt 5.2: "FC_T uses the same embedding layer as ATT. However, the
aggregation of predictions in time is simply performed with average-pooling. The model has
52116 parameters." The embedding here (:class:`StepEmbedding`: three Linear(128, 128) layers with
Leaky ReLU and dropout 0.5, added to their input) plus a Linear(128, 20) classifier gives exactly
52,116 parameters for 10x128 inputs and 20 classes. The layer sizes, the residual connection and
the optimiser (Adam, learning rate 5e-4, batch 128) follow the authors' released code
(github.com/SiddGururani/AttentionMIC); the paper states none of them.

Because the classifier is linear, the clip logits are exactly the mean of the per-step logits,
so :meth:`FCT.frame_logits` says which steps drive each prediction.

Input: ``(steps, dim)``, any number of steps (VGGish 10x128 or ``melpatches``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from saz.models.base import TorchModel, register


class StepEmbedding(nn.Module):
    """``x + f(x)`` applied to every step, f = [Linear(D, D), LeakyReLU, Dropout] x layers.

    Shared by ``fc_t`` and ``attention`` so that the two differ only in how they pool over time.
    """

    def __init__(self, dim: int, layers: int, dropout: float):
        super().__init__()
        blocks: list[nn.Module] = []
        for _ in range(layers):
            blocks += [nn.Linear(dim, dim), nn.LeakyReLU(0.01), nn.Dropout(dropout)]
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, T, D)
        return x + self.net(x)


@register
class FCT(TorchModel):
    """Step embedding -> linear classifier per step -> mean over time."""

    name = "fc_t"
    input_kind = "sequence"
    default_feature = {"feature": "melpatches", "n_mels": 64}
    optimizer = {"lr": 5e-4, "weight_decay": 0.0}
    batch_size = 128
    source = "openmic-attention-review.txt 5.2 (FC_T)"

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, layers: int = 3, dropout: float = 0.5,
                 **hparams: Any):
        super().__init__(input_shape, n_classes, layers=layers, dropout=dropout, **hparams)
        dim = self.input_shape[-1]
        self.embed = StepEmbedding(dim, layers, dropout)
        self.classify = nn.Linear(dim, self.n_classes)

    def frame_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.embed(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.embed(x).mean(dim=1))
