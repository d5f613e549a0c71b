"""C-RNN of Reghunath and Rajan (2021), Figure 6 (right column) of the cultural-instruments paper.

cultural-instruments-polyphonic-detection.txt 4.2.2, Figure 6 "Mel-spectrogram-CRNN": three
blocks of two 3x3 convolutions with Leaky ReLU (alpha 0.33), batch normalisation and 2x2
max-pooling; "Flatten (1024)"; two bidirectional LSTMs of 32 units; "Flatten (1024)"; dense 512;
batch normalisation and dropout 0.5; one output per class (sigmoid, replacing the original
softmax; logits here).

What the figure leaves open, and our choices:

* filters d_i: 32, 64, 128, the first three of the Han et al. CNN beside it in Figure 6;
* the first "Flatten (1024)": the conv output (128 channels) is max-pooled to 8 frequency
  bins, and 128 x 8 = 1024 values per frame go into the LSTM;
* the second "Flatten (1024)": the LSTM output (2 x 32 per frame) is average-pooled to 16
  steps, 16 x 64 = 1024, which also makes the model accept any clip length;
* Leaky ReLU after the dense layer; "same" padding in the convolutions.

Training (4.2, Table 2): Adam, batch 64; learning rate 0.001 per the text of 4.2 (Table 2 says
0.005). Input: a spectrogram ``(n_bins, frames)``: log-mel (128 bands, n_fft 1024, hop 512,
3.3.1, the default) or MFCCs, which the paper also tried; at least 1 bin and 1 frame.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from saz.models.base import TorchModel, register


@register
class CRNN(TorchModel):
    """3 conv blocks -> 1024 per frame -> 2 x BiLSTM(32) -> 16 steps x 64 -> Dense 512 -> classes."""

    name = "crnn"
    input_kind = "spectrogram"
    default_feature = {"feature": "logmel", "n_fft": 1024, "hop": 512, "n_mels": 128}
    optimizer = {"lr": 1e-3, "weight_decay": 0.0}
    batch_size = 64
    source = "cultural-instruments-polyphonic-detection.txt 4.2.2, Figure 6 (right)"

    FREQ_BINS: ClassVar[int] = 8  # 128 channels x 8 bins = the first Flatten (1024)
    STEPS: ClassVar[int] = 16  # 16 steps x 2 x 32 units = the second Flatten (1024)

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, channels: tuple[int, ...] = (32, 64, 128),
                 lstm_units: int = 32, **hparams: Any):
        super().__init__(input_shape, n_classes, channels=list(channels), lstm_units=lstm_units, **hparams)
        layers: list[nn.Module] = []
        c_in = 1
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.LeakyReLU(0.33),
                       nn.Conv2d(c, c, 3, padding=1), nn.LeakyReLU(0.33),
                       nn.BatchNorm2d(c), nn.MaxPool2d(2, stride=2, ceil_mode=True)]
            c_in = c
        self.conv = nn.Sequential(*layers)
        self.freq_pool = nn.AdaptiveMaxPool2d((self.FREQ_BINS, None))
        self.lstm = nn.LSTM(c_in * self.FREQ_BINS, lstm_units, num_layers=2, bidirectional=True, batch_first=True)
        self.time_pool = nn.AdaptiveAvgPool1d(self.STEPS)
        self.head = nn.Sequential(nn.Linear(self.STEPS * 2 * lstm_units, 512), nn.LeakyReLU(0.33),
                                  nn.BatchNorm1d(512), nn.Dropout(0.5), nn.Linear(512, self.n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.freq_pool(self.conv(x.unsqueeze(1)))  # (B, C, 8, T')
        seq, _ = self.lstm(h.flatten(1, 2).transpose(1, 2))  # (B, T', 2 * units)
        return self.head(self.time_pool(seq.transpose(1, 2)).flatten(1))
