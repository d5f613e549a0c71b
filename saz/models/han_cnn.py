"""Han et al. (2017) CNN, as laid out in Figure 7 of the cultural-instruments paper.

cultural-instruments-polyphonic-detection.txt 4.2.3, Figure 7 (and Figure 6, left column):
four blocks of two 3x3 convolutions (32, 64, 128, 256 filters) with Leaky ReLU (alpha 0.33);
blocks 1-3 end in 3x3 max-pooling with stride 3 and dropout 0.25, block 4 in global
max-pooling; then a dense layer of 1024 units, dropout 0.5 and one output per class (sigmoid in
the paper; logits here, the training loss applies the sigmoid). Each convolution pads by 2, so
every one grows the map by two (43x128 -> 45x130 -> 47x132 in Figure 7), as in the figure.
With 11 classes this is 1,446,123 parameters, the count Figure 7 implies.

The paper's own run swapped Leaky ReLU for plain ReLU (4.2.3); ``leaky_slope=0`` gives that.
Training (4.2, Table 2): Adam, batch 64; learning rate 0.001 per the text of 4.2 (Table 2
says 0.005).

Input: a spectrogram ``(n_bins, frames)``, by default log-mel 128 bands, n_fft 1024, hop 512
(3.3.1). Global pooling accepts any size: Han's 1-s windows (128x43) or whole 5-s clips.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from saz.models.base import TorchModel, register


@register
class HanCNN(TorchModel):
    """4 x (2 x Conv3x3 + LeakyReLU [+ MaxPool3 + Dropout]) -> global max -> Dense 1024 -> classes."""

    name = "han_cnn"
    input_kind = "spectrogram"
    default_feature = {"feature": "logmel", "n_fft": 1024, "hop": 512, "n_mels": 128}
    optimizer = {"lr": 1e-3, "weight_decay": 0.0}
    batch_size = 64
    source = "cultural-instruments-polyphonic-detection.txt 4.2.3, Figure 7"

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, leaky_slope: float = 0.33,
                 channels: tuple[int, ...] = (32, 64, 128, 256), **hparams: Any):
        super().__init__(input_shape, n_classes, leaky_slope=leaky_slope, channels=list(channels), **hparams)
        layers: list[nn.Module] = []
        c_in = 1
        for i, c in enumerate(channels):
            layers += [nn.Conv2d(c_in, c, 3, padding=2), nn.LeakyReLU(leaky_slope),
                       nn.Conv2d(c, c, 3, padding=2), nn.LeakyReLU(leaky_slope)]
            if i < len(channels) - 1:
                layers += [nn.MaxPool2d(3, stride=3), nn.Dropout(0.25)]
            c_in = c
        layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(c_in, 1024), nn.LeakyReLU(leaky_slope), nn.Dropout(0.5),
                                  nn.Linear(1024, self.n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.unsqueeze(1)))
