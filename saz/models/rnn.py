"""RNN: three-layer bidirectional GRU baseline for OpenMIC.

openmic-attention-review.txt 5.2: "A 3-layer bi-directional gated recurrent unit model with 64
hidden units per direction. The model processes the input features and produces a single
embedding which is then fed to a classifier for all 20 instruments. The model has 226068
parameters." Here the embedding is the last layer's final hidden states of both directions
(2 x 64 = 128 values, the forward one after the last step, the backward one after the first),
and the classifier is Linear(128, classes): exactly 226,068 parameters for 128-dimensional
steps and 20 classes. Dropout 0.5 between GRU layers and Adam with learning rate 5e-4, batch
128, follow the authors' released code (github.com/SiddGururani/AttentionMIC), which classifies
the output at the last step instead (same parameter count).

Input: ``(steps, dim)``, any number of steps (VGGish 10x128 or ``melpatches``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from saz.models.base import TorchModel, register


@register
class RNN(TorchModel):
    """BiGRU(layers x hidden per direction) -> final states of both directions -> Linear."""

    name = "rnn"
    input_kind = "sequence"
    default_feature = {"feature": "melpatches", "n_mels": 64}
    optimizer = {"lr": 5e-4, "weight_decay": 0.0}
    batch_size = 128
    source = "openmic-attention-review.txt 5.2 (RNN)"

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, hidden: int = 64, layers: int = 3,
                 dropout: float = 0.5, **hparams: Any):
        super().__init__(input_shape, n_classes, hidden=hidden, layers=layers, dropout=dropout, **hparams)
        self.gru = nn.GRU(self.input_shape[-1], hidden, num_layers=layers, bidirectional=True, batch_first=True,
                          dropout=dropout if layers > 1 else 0.0)
        self.classify = nn.Linear(2 * hidden, self.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(x)  # h: (layers * 2, B, hidden), last layer's directions at -2 and -1
        return self.classify(torch.cat([h[-2], h[-1]], dim=1))
