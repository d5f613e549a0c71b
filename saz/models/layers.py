"""Building blocks shared by several models."""

from __future__ import annotations

import torch

EPS = 1e-7


class AttentionPooled:
    """Mixin for models that predict per frame and pool with class-wise attention over time.

    The model provides ``frame_features(x) -> (B, T, D)`` and two linear maps, ``classify``
    and ``attend`` (D -> classes). Per frame and class, ``p = sigmoid(classify)`` and
    ``a = sigmoid(attend)``; the weights ``a / sum_t a`` pool ``p`` into the clip probability,
    as in openmic-attention-review.txt (after Kong et al., 2018). ``forward`` returns
    ``logit`` of it (clamped at 1e-7), so BCE-with-logits is BCE on the pooled probability.
    """

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Frame logits and normalised attention weights, both ``(B, T, C)``."""
        h = self.frame_features(x)
        att = torch.sigmoid(self.attend(h)).clamp(EPS, 1 - EPS)
        return self.classify(h), att / att.sum(dim=1, keepdim=True)

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, T, C)`` weights, summing to 1 over time for every clip and class."""
        return self.heads(x)[1]

    def frame_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.heads(x)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frame, weights = self.heads(x)
        return torch.logit((weights * torch.sigmoid(frame)).sum(dim=1), eps=EPS)
