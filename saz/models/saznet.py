"""saznet: saz's own model, small and fast, predicting per frame and pooling with attention.

Design, and why:

* **Front end**: one full 3x3 convolution (1 -> 16 channels, stride 2 in frequency and in time:
  ~21 frames per second at hop 512) then three depthwise-separable 3x3 blocks (16 -> 32 -> 64 -> 128), each
  with batch norm and ReLU; the frequency axis is halved after every block;
  separable convolutions keep the multiply-adds of a 5-s clip near 20 M, a few percent of
  ``han_cnn``'s, so it trains on 2 CPU cores and predicts hundreds of times faster than real time.
* **Frequency pooling**: mean + max over the remaining bands, projected to 128 values per
  frame, so a transposed note moves within a band rather than changing the representation.
* **Temporal context**: a residual separable 1-D convolution over frames (kernel 5) lets a frame see
  ~0.25 s either side; onsets and vibrato are cues for bowed versus plucked instruments.
* **Attention pooling** (as ``attention``, openmic-attention-review.txt): per frame and class a
  probability and an attention weight; the clip probability is the attention-weighted mean of
  frame probabilities. Trained on clip labels only, the frame probabilities say *when* an
  instrument plays within a clip (``frame_logits``, ``Predictor.frame_probabilities``), at ~21
  frames per second, finer than the windows of ``saz predict --timeline``.
* **Training recipe** (:mod:`saz.models.augment`, :mod:`saz.models.train`): mixup with label
  union, gain, pitch and time warping, SpecAugment, and a class-balanced BCE (positive weight
  ``sqrt(negatives / positives)`` per class) for rare instruments.

* **Input normalisation** (hparam ``input_norm``, an ablation of issue 8's model-side lever):
  ``"none"`` (default), ``"clip"`` (each clip standardised over all its bins and frames: level
  and noise-floor invariance) or ``"band"`` (each band's mean over the clip removed too, which
  cancels a fixed EQ or microphone colouring, and with it some of the timbre's envelope).

Input: a dB log-mel spectrogram ``(64, frames)`` (n_fft 1024, hop 512), any number of frames.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from saz.models.augment import Augment
from saz.models.base import TorchModel, register
from saz.models.layers import AttentionPooled


INPUT_NORMS = ("none", "clip", "band")


def _separable(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_in, 3, padding=1, groups=c_in, bias=False),
        nn.Conv2d(c_in, c_out, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


@register
class SazNet(AttentionPooled, TorchModel):
    """Separable CNN front end -> per-frame features -> temporal conv -> attention pooling."""

    name = "saznet"
    input_kind = "spectrogram"
    default_feature = {"feature": "logmel", "n_fft": 1024, "hop": 512, "n_mels": 64}
    optimizer = {"lr": 2e-3, "weight_decay": 1e-4}
    batch_size = 64
    source = "saz (this project): see the module docstring"
    augment = Augment()
    class_balanced = True
    frame_hop = 2
    # Spectrogram frames one frame feature hears: the strided 3x3 stem (3, then a step of 2 input
    # frames), three separable 3x3 blocks (+2 steps each: 15) and the temporal kernel of 5 (+4: 23).
    receptive_frames = 23

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, width: int = 128, dropout: float = 0.2,
                 input_norm: str = "none", **hparams: Any):
        if input_norm not in INPUT_NORMS:
            raise ValueError(f"input_norm must be one of {', '.join(INPUT_NORMS)}, not '{input_norm}'")
        super().__init__(input_shape, n_classes, width=width, dropout=dropout, input_norm=input_norm, **hparams)
        self.input_norm = input_norm
        w = width
        self.front = nn.Sequential(
            nn.Conv2d(1, w // 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w // 8),
            nn.ReLU(inplace=True),
            _separable(w // 8, w // 4), nn.MaxPool2d((2, 1)),
            _separable(w // 4, w // 2), nn.MaxPool2d((2, 1)),
            _separable(w // 2, w),
        )
        self.project = nn.Sequential(nn.Conv1d(2 * w, w, 1, bias=False), nn.BatchNorm1d(w), nn.ReLU(inplace=True))
        self.temporal = nn.Sequential(
            nn.Conv1d(w, w, 5, padding=2, groups=w, bias=False), nn.Conv1d(w, w, 1, bias=False),
            nn.BatchNorm1d(w), nn.ReLU(inplace=True),
        )
        self.dropout = nn.Dropout(dropout)
        self.classify = nn.Linear(w, self.n_classes)
        self.attend = nn.Linear(w, self.n_classes)

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, bins, frames) -> (B, T', width) frame features, T' = ceil(frames / 2)."""
        if self.input_norm == "band":
            x = x - x.mean(dim=2, keepdim=True)
        if self.input_norm != "none":
            x = (x - x.mean(dim=(1, 2), keepdim=True)) / (x.std(dim=(1, 2), keepdim=True) + 1e-5)
        h = self.front(x[:, None])                                     # (B, w, bins', T')
        h = self.project(torch.cat([h.mean(dim=2), h.amax(dim=2)], 1))  # (B, w, T')
        h = h + self.temporal(h)
        return self.dropout(h.transpose(1, 2))
