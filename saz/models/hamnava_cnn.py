"""The HamNava baseline CNN: two convolutions with batch normalisation, four dense layers, on MFCCs.

hamnava-dataset-paper.txt 3.1: "two convolutional layers, each followed by batch normalization,
and four fully connected layers applied to the flattened feature representation. The ReLU
activation function is employed after each layer"; Adam, learning rate 0.001, weight decay
1e-4 (the text prints "1e4"); MFCCs with n_fft 1024, hop 512 and 40 mel bands
(:data:`saz.features.mfcc.HAMNAVA_MFCC`). MSE on sigmoid outputs for soft labels, binary
cross-entropy for hard ones: both are the training code's choice, ``forward`` gives logits.

The paper gives no filter counts, kernel sizes or layer widths. Ours, kept small: 3x3
convolutions with 16 and 32 filters, the map average-pooled to 8x8 before flattening (so any
clip length works: 5-s HamNava clips are 40 x 216), dense layers of 256, 128 and 64 units and
the output layer (no ReLU on the output, whose sigmoid the loss applies).

Input: ``(n_mfcc, frames)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from saz.models.base import TorchModel, register


@register
class HamNavaCNN(TorchModel):
    """2 x (Conv3x3 + BN + ReLU) -> pool to 8x8 -> flatten -> 3 x (Dense + ReLU) -> Dense to classes."""

    name = "hamnava_cnn"
    input_kind = "spectrogram"
    default_feature = {"feature": "mfcc", "n_mfcc": 40, "n_fft": 1024, "hop": 512, "n_mels": 40}
    optimizer = {"lr": 1e-3, "weight_decay": 1e-4}
    source = "hamnava-dataset-paper.txt 3.1"

    GRID: ClassVar[tuple[int, int]] = (8, 8)

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, channels: tuple[int, int] = (16, 32),
                 hidden: tuple[int, int, int] = (256, 128, 64), **hparams: Any):
        super().__init__(input_shape, n_classes, channels=list(channels), hidden=list(hidden), **hparams)
        c1, c2 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(),
            nn.AdaptiveAvgPool2d(self.GRID), nn.Flatten(),
        )
        layers: list[nn.Module] = []
        width = c2 * self.GRID[0] * self.GRID[1]
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, self.n_classes))
        self.head = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.unsqueeze(1)))
