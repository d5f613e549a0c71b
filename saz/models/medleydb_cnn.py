"""Four-block CNN of the MedleyDB report (Table 4.1), on 128-band log-mel spectrograms.

medleydb-cnn-report.txt 4.1, Table 4.1: four blocks of Conv2D (3x3, 32/64/128/256 filters,
"same" padding), 3x3 max-pooling with "same" padding (blocks 1-3; 128x862 -> 43x288 -> 15x96 ->
5x32) and dropout, then global average pooling, Dense 512, dropout and Dense with sigmoid
(logits here). Every layer's parameter count matches the table: 528,145 for its 17 classes.
The table gives neither activations nor dropout rates: we use ReLU and, as in Han et al.
(2016) whom the report follows, 0.25 after the convolutions and 0.5 after the dense layer.
Training (4.2, 4.4): Adam, learning rate 3e-4, batch 32.

Input: a spectrogram ``(n_bins, frames)``, by default librosa's melspectrogram defaults in dB
(128 bands, n_fft 2048, hop 512; report 3.2) of any length.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from saz.models.base import TorchModel, register


@register
class MedleyDBCNN(TorchModel):
    """4 x (Conv3x3 + ReLU [+ MaxPool3] + Dropout) -> global average -> Dense 512 -> classes."""

    name = "medleydb_cnn"
    input_kind = "spectrogram"
    default_feature = {"feature": "logmel", "n_fft": 2048, "hop": 512, "n_mels": 128}
    optimizer = {"lr": 3e-4, "weight_decay": 0.0}
    batch_size = 32
    source = "medleydb-cnn-report.txt 4.1, Table 4.1"

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, channels: tuple[int, ...] = (32, 64, 128, 256),
                 **hparams: Any):
        super().__init__(input_shape, n_classes, channels=list(channels), **hparams)
        layers: list[nn.Module] = []
        c_in = 1
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU()]
            if i < len(channels) - 1:
                layers.append(nn.MaxPool2d(3, stride=3, ceil_mode=True))
            layers.append(nn.Dropout(0.25))
            c_in = c
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(c_in, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, self.n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.unsqueeze(1)))
