"""Probe: a linear layer or a small MLP on pooled embeddings.

persian-music-self-supervised.txt 4.3 compares fully connected heads of 1 to 5 hidden layers on
frozen MERT representations (instrument accuracy 97.6-98.9 %, little affected by depth);
hamnava-dataset-paper.txt 3.2 trains a single fully connected decision layer on frozen
Music2vec, MusicHuBERT and MERT with Adam at learning rate 0.01. ``hidden_layers=0`` (the
default) is that linear probe; 1-5 are the MLPs of 4.3. Neither document gives hidden sizes,
activations or dropout: we use ``hidden_size`` units (default 512), ReLU and no dropout.

Input: a vector ``(dim,)`` (by default the 52 ``stats``; any clip embedding works) or a
sequence ``(steps, dim)`` of frame embeddings, mean-pooled over steps here.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from saz.models.base import TorchModel, register


@register
class Probe(TorchModel):
    """[mean over steps] -> (Linear + ReLU) x hidden_layers -> Linear to classes."""

    name = "probe"
    input_kind = "vector"
    default_feature = {"feature": "stats"}
    optimizer = {"lr": 1e-2, "weight_decay": 0.0}
    source = "persian-music-self-supervised.txt 4.3; hamnava-dataset-paper.txt 3.2"

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, hidden_layers: int = 0, hidden_size: int = 512,
                 **hparams: Any):
        super().__init__(input_shape, n_classes, hidden_layers=hidden_layers, hidden_size=hidden_size, **hparams)
        if not 0 <= hidden_layers <= 5:
            raise ValueError(f"probe: hidden_layers must be 0 (linear) to 5, got {hidden_layers}")
        if len(self.input_shape) not in (1, 2):
            raise ValueError(f"probe: input must be (dim,) or (steps, dim), got {self.input_shape}")
        layers: list[nn.Module] = []
        width = self.input_shape[-1]
        for _ in range(hidden_layers):
            layers += [nn.Linear(width, hidden_size), nn.ReLU()]
            width = hidden_size
        layers.append(nn.Linear(width, self.n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.mean(dim=1) if x.ndim == 3 else x)
