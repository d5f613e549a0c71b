"""bi-LSTM: the deep-learning baseline of the cultural-instruments paper, on VGGish-like sequences.

cultural-instruments-polyphonic-detection.txt 4.2.1: a bidirectional LSTM after Mukhedkar
(2020) on VGGish embeddings (5 x 128 for 5-s clips, section 3.3.3), with a sigmoid output per
instrument. Its Figure 5 is an image that is not in the text, so the sizes are ours and kept
small: two bidirectional layers of 64 units per direction (dropout 0.5 between them), a linear
classifier applied to every step, and mean pooling over steps. The linear classifier makes the
clip logits the mean of :meth:`BiLSTM.frame_logits`. Training (4.2, Table 2): Adam, batch 64,
binary cross-entropy; the learning rate is 0.001 in the text of 4.2 and 0.005 in Table 2; we use
the former, which the text attributes to Han et al. (2017).

Input: ``(steps, dim)``, any number of steps (VGGish or ``melpatches``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from saz.models.base import TorchModel, register


@register
class BiLSTM(TorchModel):
    """BiLSTM(layers x hidden per direction) -> Linear per step -> mean over time."""

    name = "bilstm"
    input_kind = "sequence"
    default_feature = {"feature": "melpatches", "n_mels": 64}
    optimizer = {"lr": 1e-3, "weight_decay": 0.0}
    batch_size = 64
    source = "cultural-instruments-polyphonic-detection.txt 4.2.1"

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, hidden: int = 64, layers: int = 2,
                 dropout: float = 0.5, **hparams: Any):
        super().__init__(input_shape, n_classes, hidden=hidden, layers=layers, dropout=dropout, **hparams)
        self.lstm = nn.LSTM(self.input_shape[-1], hidden, num_layers=layers, bidirectional=True, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.classify = nn.Linear(2 * hidden, self.n_classes)

    def frame_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.lstm(x)[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.lstm(x)[0].mean(dim=1))
