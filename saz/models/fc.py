"""FC: fully connected network on the flattened feature sequence (OpenMIC baseline).

openmic-attention-review.txt 5.2: "a 3-layer fully connected network ... the input features of
dimension 10 x 128 are flattened into a single feature vector ... Dropout is used for
regularization and the Leaky ReLU (0.01 slope) is used. The model has 986772 parameters."
Three hidden layers of 512, 512 and 128 units (dropout 0.5) and a linear output reproduce that
count exactly for 10x128 inputs and 20 classes; the sizes are those of the authors' released
code (github.com/SiddGururani/AttentionMIC), which also gives the optimiser: Adam, learning rate
1e-4, batch 128. The paper itself states neither.

Input: ``(steps, dim)``, e.g. VGGish 10x128 or ``melpatches``. Flattening fixes the number of
steps, so clips must all have the length the model was built for.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from saz.models.base import TorchModel, register


@register
class FC(TorchModel):
    """Flatten ``(T, D)`` -> [Linear, LeakyReLU(0.01), Dropout] x len(hidden) -> Linear to classes."""

    name = "fc"
    input_kind = "sequence"
    default_feature = {"feature": "melpatches", "n_mels": 64}
    optimizer = {"lr": 1e-4, "weight_decay": 0.0}
    batch_size = 128
    source = "openmic-attention-review.txt 5.2 (FC)"

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, hidden: tuple[int, ...] = (512, 512, 128),
                 dropout: float = 0.5, **hparams: Any):
        super().__init__(input_shape, n_classes, hidden=list(hidden), dropout=dropout, **hparams)
        layers: list[nn.Module] = []
        width = math.prod(self.input_shape)
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.01), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, self.n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"fc was built for inputs {self.input_shape}, got {tuple(x.shape[1:])}")
        return self.net(x.flatten(1))
