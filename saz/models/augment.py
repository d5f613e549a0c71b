"""Augmentation of dB spectrogram batches during training (before standardisation).

* mixup with label union: a clip is mixed with another clip of the batch by adding their
  powers (``10 log10(10^(a/10) + 10^((b+g)/10))``, the partner ``g`` dB quieter) and gets the
  union of both label sets, so the mixture's labels stay exact;
* gain: the whole clip louder or quieter by a few dB;
* pitch and time warping: the spectrogram zoomed along frequency (a transposition) and along
  time (a tempo change) and cropped or padded back, as in medleydb-cnn-report.txt 3.4;
* SpecAugment: frequency and time bands masked to the clip's floor.

All randomness comes from the ``torch.Generator`` passed in, so a seeded run is repeatable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F


def label_union(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Element-wise union of label rows: 1 if either is present; unknown (NaN) only if not
    decided by the other; soft labels take the larger value."""
    known = torch.maximum(torch.nan_to_num(a, nan=0.0), torch.nan_to_num(b, nan=0.0))
    unknown = (torch.isnan(a) | torch.isnan(b)) & (known < 0.5)
    return torch.where(unknown, torch.full_like(known, float("nan")), known)


def _fit(x: torch.Tensor, size: int, dim: int, floor: torch.Tensor) -> torch.Tensor:
    """Crop ``x`` to ``size`` along ``dim`` (from the start) or pad it with ``floor``."""
    n = x.shape[dim]
    if n >= size:
        return x.narrow(dim, 0, size)
    pad_shape = list(x.shape)
    pad_shape[dim] = size - n
    return torch.cat([x, floor.expand(pad_shape)], dim=dim)


@dataclass(frozen=True)
class Augment:
    """Probabilities and ranges of each augmentation; ``Augment()`` is saznet's recipe."""

    mixup: float = 0.5          # probability a clip is mixed with another
    mixup_gain_db: float = 6.0  # the partner is 0..this many dB quieter
    gain_db: float = 6.0        # +- this many dB
    warp: float = 0.5           # probability of a pitch warp and, independently, a time warp
    semitones: float = 2.0      # pitch warp range
    stretch: float = 0.2        # time warp range (rate 1 +- this)
    freq_masks: int = 2
    freq_mask_bins: int = 8
    time_masks: int = 2
    time_mask_frames: int = 16

    def config(self) -> dict:
        return asdict(self)

    def __call__(self, x: torch.Tensor, y: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Augment a batch ``x`` (B, bins, frames) in dB with labels ``y`` (B, C)."""
        x = x.clone()
        y = y.clone()
        B, n_bins, n_frames = x.shape
        floor = x.amin(dim=(1, 2), keepdim=True)
        for i in range(B):
            u = torch.rand(4, generator=g)
            xi = x[i:i + 1]
            if u[0] < self.warp:
                rate = 2 ** ((torch.rand(1, generator=g).item() * 2 - 1) * self.semitones / 12)
                zoomed = F.interpolate(xi[None], size=(max(2, round(n_bins * rate)), n_frames), mode="bilinear",
                                       align_corners=False)[0]
                xi = _fit(zoomed, n_bins, 1, floor[i:i + 1])
            if u[1] < self.warp:
                rate = 1 + (torch.rand(1, generator=g).item() * 2 - 1) * self.stretch
                stretched = F.interpolate(xi, size=max(2, round(n_frames * rate)), mode="linear", align_corners=False)
                xi = _fit(stretched, n_frames, 2, floor[i:i + 1])
            x[i] = xi[0]
        x = x + (torch.rand(B, 1, 1, generator=g) * 2 - 1) * self.gain_db
        mix = torch.rand(B, generator=g) < self.mixup
        if mix.any():
            partner = torch.randperm(B, generator=g)
            quieter = torch.rand(B, 1, 1, generator=g) * self.mixup_gain_db
            mixed = 10 * torch.log10(10 ** (x / 10) + 10 ** ((x[partner] - quieter) / 10))
            x = torch.where(mix[:, None, None], mixed, x)
            y = torch.where(mix[:, None], label_union(y, y[partner]), y)
        low = x.amin(dim=(1, 2))
        for _ in range(self.freq_masks):
            w = torch.randint(0, self.freq_mask_bins + 1, (B,), generator=g)
            f0 = (torch.rand(B, generator=g) * (n_bins - w + 1)).long()
            band = torch.arange(n_bins)[None, :]
            m = (band >= f0[:, None]) & (band < (f0 + w)[:, None])
            x = torch.where(m[:, :, None], low[:, None, None], x)
        for _ in range(self.time_masks):
            w = torch.randint(0, self.time_mask_frames + 1, (B,), generator=g)
            t0 = (torch.rand(B, generator=g) * (n_frames - w + 1).clamp(min=1)).long()
            band = torch.arange(n_frames)[None, :]
            m = (band >= t0[:, None]) & (band < (t0 + w)[:, None])
            x = torch.where(m[:, None, :], low[:, None, None], x)
        return x, y
