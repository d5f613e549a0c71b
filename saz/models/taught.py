"""taught: a base model, frozen, with small heads for the instruments a user taught it (``saz teach``).

The base (the default ensemble, or one saznet-like checkpoint) keeps its networks and its input
standardisation unchanged; each *head* is a logistic regression on the base's clip embeddings
(per member, the mean and the maximum over time of its frame features, standardised). A head
either feeds a new class, appended after the base's classes, or refines a base class, whose
probability becomes the larger of the base's and the head's. The base's other classes get
exactly the base's probabilities, so teaching cannot harm them: no forgetting by construction.

Everything is an ordinary torch module rebuilt from its config (member configs, how members join,
which column each head feeds), so a taught model is an ordinary saz checkpoint of kind ``torch``,
with tensors and JSON-able config only. Built without a base it wraps one untrained saznet and has
no heads (so it trains and tests like any registered model). Frame probabilities apply the heads to each frame's
features (mean and maximum of one frame are that frame), so ``saz predict --timeline`` works too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from saz.models.base import TorchModel, build, register
from saz.models.layers import EPS


class _Member(nn.Module):
    """One frozen base network with the input standardisation it was trained with (as buffers)."""

    def __init__(self, config: dict[str, Any], norm_shape: Sequence[int] | None):
        super().__init__()
        self.net = build(config["name"], config["input_shape"], config["n_classes"], **config["hparams"])
        shape = tuple(norm_shape) if norm_shape else (1,)
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("std", torch.ones(shape))

    def frames(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Frame features ``(B, T, D)``, frame probabilities and attention weights ``(B, T, C)``."""
        h = self.net.frame_features((x - self.mean) / self.std)
        att = torch.sigmoid(self.net.attend(h)).clamp(EPS, 1 - EPS)
        return h, torch.sigmoid(self.net.classify(h)), att / att.sum(dim=1, keepdim=True)


def _solo(input_shape: Sequence[int], n_classes: int) -> dict[str, Any]:
    """The member of a taught model built without a base: one untrained saznet (what the registry's
    generic tests and ``saz train --model taught`` get: a saznet with no heads)."""
    return {"name": "saznet", "input_shape": [int(s) for s in input_shape], "n_classes": int(n_classes), "hparams": {}}


@register
class Taught(TorchModel):
    """Frozen base members -> base probabilities, and clip embeddings -> one logistic head per taught class."""

    name = "taught"
    input_kind = "spectrogram"
    default_feature = {"feature": "logmel", "n_fft": 1024, "hop": 512, "n_mels": 64}
    source = "saz (this project): see the module docstring; heads fitted by saz teach"
    frame_hop = 2  # the frames of its saznet members

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, members: Sequence[dict[str, Any]] = (),
                 norm_shapes: Sequence[Sequence[int] | None] = (), combine: str = "mean",
                 targets: Sequence[int] = (), with_probabilities: bool = False, **hparams: Any):
        members = [dict(m) for m in members] or [_solo(input_shape, n_classes)]
        targets = [int(t) for t in targets]
        norm_shapes = list(norm_shapes) or [None] * len(members)
        if not members or len(norm_shapes) != len(members) or combine not in ("mean", "max"):
            raise ValueError("taught: expected base members, one norm shape each, and combine 'mean' or 'max'")
        n_base = members[0]["n_classes"]
        if sorted(t for t in targets if t >= n_base) != list(range(n_base, n_classes)) or any(t < 0 for t in targets):
            raise ValueError(f"taught: targets {targets} do not feed classes {n_base}..{n_classes - 1} once each")
        super().__init__(input_shape, n_classes, members=members, norm_shapes=norm_shapes, combine=combine,
                         targets=targets, with_probabilities=with_probabilities, **hparams)
        self.members = nn.ModuleList(_Member(m, s) for m, s in zip(members, norm_shapes))
        self.n_base, self.combine, self.targets, self.with_probabilities = n_base, combine, targets, with_probabilities
        dim = sum(2 * m["hparams"].get("width", 128) + (n_base if with_probabilities else 0) for m in members)
        self.register_buffer("embed_mean", torch.zeros(dim))
        self.register_buffer("embed_std", torch.ones(dim))
        self.head = nn.Linear(dim, len(targets))

    def _join(self, probs: list[torch.Tensor]) -> torch.Tensor:
        stacked = torch.stack(probs)
        return stacked.mean(0) if self.combine == "mean" else stacked.amax(0)

    def _merge(self, base: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Base probabilities ``(..., n_base)`` and embeddings ``(..., dim)`` -> all classes' probabilities."""
        heads = torch.sigmoid(self.head((z - self.embed_mean) / self.embed_std)).unbind(-1)
        cols: list[torch.Tensor | None] = [*base.unbind(-1), *[None] * (self.n_classes - self.n_base)]
        for j, t in enumerate(self.targets):
            cols[t] = heads[j] if cols[t] is None else torch.maximum(cols[t], heads[j])
        return torch.stack(cols, -1)

    def _embedding(self, h: torch.Tensor, p: torch.Tensor, w: torch.Tensor, features_only: bool = False) -> torch.Tensor:
        """One member's clip embedding: the mean and maximum of its frame features ``h`` over time
        and, ``with_probabilities`` (unless ``features_only``), the logits of its attention-pooled
        class probabilities."""
        parts = [h.mean(1), h.amax(1)]
        if self.with_probabilities and not features_only:
            parts.append(torch.logit((w * p).sum(1), eps=EPS))
        return torch.cat(parts, -1)

    def embed(self, x: torch.Tensor, features_only: bool = False) -> torch.Tensor:
        """Clip embeddings ``(B, dim)`` of every member, concatenated; ``features_only``: without the
        base's class probabilities (the plain frame-feature embedding baselines compare on)."""
        return torch.cat([self._embedding(*m.frames(x), features_only=features_only) for m in self.members], -1)

    def embed_with_base(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Clip embeddings ``(B, dim)`` and the base's clip probabilities ``(B, n_base)``, in one pass."""
        parts = [m.frames(x) for m in self.members]
        base = self._join([(w * p).sum(1) for _, p, w in parts])
        return torch.cat([self._embedding(*part) for part in parts], -1), base

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Clip probabilities ``(B, n_classes)``: the base's (attention-pooled, joined) and the heads'."""
        z, base = self.embed_with_base(x)
        return self._merge(base, z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.logit(self.probabilities(x), eps=EPS)

    def frame_logits(self, x: torch.Tensor) -> torch.Tensor:
        parts = [m.frames(x) for m in self.members]
        z = torch.cat([torch.cat([h, h, *([torch.logit(p, eps=EPS)] if self.with_probabilities else [])], -1)
                       for h, p, _ in parts], -1)
        return torch.logit(self._merge(self._join([p for _, p, _ in parts]), z), eps=EPS)
