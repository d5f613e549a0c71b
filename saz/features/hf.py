"""Self-supervised audio transformers (MERT, Music2vec, MusicHuBERT, wav2vec 2.0) from a local checkpoint.

The contract every subclass keeps (see :mod:`saz.features.mert` and its siblings)::

    get_feature("mert" | "music2vec" | "musichubert" | "wav2vec2", checkpoint=DIR,
                layer="all" | int, pooling="mean" | "meanstd" | "frames", device="cpu" | "cuda",
                chunk_seconds=10.0, overlap_seconds=1.0, batch_size=4, sr=<input rate>)

- ``checkpoint``: a LOCAL Hugging Face folder (``config.json``, ``model.safetensors`` or
  ``pytorch_model.bin``, optionally ``preprocessor_config.json``); loaded with ``local_files_only``
  and ``HF_HUB_OFFLINE=1``, never from a hub. A missing, partial or wrong folder is one
  :class:`~saz.features.checkpoint.CheckpointError` line.
- ``sr`` is the rate of the audio handed in (the model's own rate by default: 24 kHz MERT, 16 kHz
  the others); other rates are resampled (soxr) to the model's. The clip is normalised to zero
  mean, unit variance when the checkpoint's ``preprocessor_config.json`` says ``do_normalize``.
- Output for ``n`` clips, with ``L`` = hidden states including the embedding output (13 for base
  models, 25 for MERT-330M) and ``D`` the width::

      layer="all", pooling="mean"     (n, L, D)        pooling="meanstd"  (n, L, 2D)
      layer=k,     pooling="mean"     (n, D)           pooling="meanstd"  (n, 2D)
      layer="all", pooling="frames"   (n, L, T, D)     layer=k, "frames"  (n, T, D)

  ``T`` frames at the model's frame rate (:attr:`frame_rate`: 50/s at 16 kHz, 75/s for MERT).
- Clips longer than ``chunk_seconds`` are cut into chunks overlapping by ``overlap_seconds``; each
  output frame comes from the chunk whose centre it is nearest, and pooling accumulates over the
  chunks, so memory is bounded by ``batch_size`` chunks whatever the clip length.
- ``device`` and ``batch_size`` do not change the result and stay out of the cache key; the
  checkpoint's :func:`~saz.features.checkpoint.fingerprint` enters it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from saz import audio
from saz.features import checkpoint as ckpt
from saz.features.base import Feature

POOLINGS = ("mean", "meanstd", "frames")
NOT_IN_KEY = ("device", "batch_size")


@lru_cache(maxsize=2)
def _load(folder: str, fingerprint: str, remote: bool, device: str, feature: str) -> torch.nn.Module:
    """The model of a checked folder, in eval mode on ``device`` (kept for the next batch; the
    fingerprint in the arguments makes a replaced checkpoint load again)."""
    transformers = ckpt.require_transformers(feature)
    try:
        model = transformers.AutoModel.from_pretrained(folder, local_files_only=True, trust_remote_code=remote)
    except Exception as e:  # transformers raises many kinds for a bad folder; the user gets one line
        raise ckpt.CheckpointError(f"{folder}: cannot load the {feature} checkpoint ({type(e).__name__}: "
                                   f"{str(e).splitlines()[0] if str(e) else ''})") from None
    return model.float().eval().to(device)  # float32 whatever dtype the weights were saved in


def chunk_starts(n: int, chunk: int, step: int, hop: int) -> list[int]:
    """Start samples of chunks of ``chunk`` samples covering ``n``, ``step`` apart; the last one
    ends at (or within one hop after) the end, every start a multiple of ``hop``."""
    if n <= chunk:
        return [0]
    starts = list(range(0, n - chunk, step))
    last = math.ceil((n - chunk) / hop) * hop
    if last > starts[-1]:
        starts.append(last)
    return starts


def owned_frames(starts: list[int], chunk: int, hop: int, total: int) -> list[tuple[int, int]]:
    """Global frame range each chunk contributes: split at the middle of each overlap."""
    cuts = [0] + [round((s + prev + chunk) / 2 / hop) for prev, s in zip(starts[:-1], starts[1:])] + [total]
    return [(min(a, total), min(b, total)) for a, b in zip(cuts[:-1], cuts[1:])]


@dataclass(frozen=True)
class HFEncoder(Feature):
    """Base class; subclasses set ``name``, ``model_types``, ``model_sr``, ``expected`` (and ``remote_code``)."""

    model_types: ClassVar[tuple[str, ...]] = ()
    model_sr: ClassVar[int] = 16000
    expected: ClassVar[str] = ""
    remote_code: ClassVar[bool] = False

    sr: int = 16000
    checkpoint: str | None = None
    layer: int | str = "all"
    pooling: str = "mean"
    device: str = "cpu"
    chunk_seconds: float = 10.0
    overlap_seconds: float = 1.0
    batch_size: int = 4

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling {self.pooling!r}: expected one of {', '.join(POOLINGS)}")
        if not (self.layer == "all" or isinstance(self.layer, int)):
            raise ValueError(f"layer {self.layer!r}: expected 'all' or a hidden-state index")
        if self.overlap_seconds < 0 or self.chunk_seconds <= 2 * self.overlap_seconds:
            raise ValueError("chunk_seconds must exceed twice overlap_seconds (and overlap_seconds >= 0)")

    # -- the checkpoint -------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        return ckpt.check_folder(self.checkpoint, self.expected, self.model_types)

    def _files(self, config: dict[str, Any]) -> list[Path]:
        folder = Path(str(self.checkpoint))
        files = [folder / "config.json", *ckpt.weight_files(folder, self.expected)]
        if (folder / "preprocessor_config.json").is_file():
            files.append(folder / "preprocessor_config.json")
        if self.remote_code:
            files += ckpt.remote_code_files(folder, config, self.expected)
        return files

    def fingerprint(self) -> str:
        return ckpt.fingerprint(self._files(self._config()))

    def check(self) -> None:
        """Fail now, in one line, if the checkpoint, layer or device cannot be used (loads the model)."""
        self.model()
        self._check_layer(self._config())

    def _check_layer(self, config: dict[str, Any]) -> None:
        states = int(config.get("num_hidden_layers", 0)) + 1
        if self.layer != "all" and not -states <= int(self.layer) < states:
            raise ckpt.CheckpointError(f"layer {self.layer}: this {self.expected} checkpoint has {states} hidden "
                                       f"states (0 = the embedding output ... {states - 1})")

    def model(self) -> torch.nn.Module:
        ckpt.require_device(self.device)
        config = self._config()
        fp = ckpt.fingerprint(self._files(config))
        return _load(str(Path(str(self.checkpoint)).resolve()), fp, self.remote_code, self.device, self.name)

    def key(self) -> str:
        cfg = {k: v for k, v in self.config().items() if k not in NOT_IN_KEY}
        blob = json.dumps(cfg, sort_keys=True).encode() + self.fingerprint().encode()
        return f"{self.name}-{hashlib.sha256(blob).hexdigest()[:12]}"

    def _normalize(self) -> bool:
        p = Path(str(self.checkpoint)) / "preprocessor_config.json"
        return bool(json.loads(p.read_text()).get("do_normalize", False)) if p.is_file() else False

    # -- computing ------------------------------------------------------------------------
    @property
    def hop(self) -> int:
        """Input samples per output frame (the product of the convolution strides: 320)."""
        return int(np.prod(self._config().get("conv_stride", [320])))

    def n_frames(self, samples: int) -> int:
        """Frames the convolutional front end makes of ``samples`` (unpadded convolutions)."""
        config = self._config()
        for k, s in zip(config.get("conv_kernel", []), config.get("conv_stride", [])):
            samples = (samples - k) // s + 1
        return max(samples, 0)

    @property
    def frame_rate(self) -> float:
        return self.model_sr / self.hop

    def _prepare(self, y: torch.Tensor) -> torch.Tensor:
        x = y.numpy()
        if self.sr != self.model_sr:
            x = np.stack([audio.resample(row, self.sr, self.model_sr) for row in x])
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        if t.shape[-1] < 2 * self.hop:  # shorter than the front end's receptive field: one frame of it
            t = torch.nn.functional.pad(t, (0, 2 * self.hop - t.shape[-1]))
        if self._normalize():
            t = (t - t.mean(-1, keepdim=True)) / torch.sqrt(t.var(-1, keepdim=True, unbiased=False) + 1e-7)
        return t

    def _layers(self, hidden: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """(batch, layers, frames, dim) of the chosen hidden states, float32 on the CPU."""
        h = torch.stack(hidden, 1) if self.layer == "all" else hidden[int(self.layer)].unsqueeze(1)
        return h.float().cpu()

    def compute(self, y: torch.Tensor) -> torch.Tensor:
        model = self.model()
        self._check_layer(self._config())
        x = self._prepare(y)
        n, length = x.shape
        hop = self.hop
        chunk = max(hop, round(self.chunk_seconds * self.model_sr / hop) * hop)
        step = chunk - round(self.overlap_seconds * self.model_sr / hop) * hop
        starts = chunk_starts(length, chunk, step, hop)
        total = self.n_frames(length)
        owned = owned_frames(starts, min(chunk, length), hop, total)
        jobs = [(i, k) for i in range(n) for k in range(len(starts))]
        acc = _Accumulator(n, self.pooling)
        for b in range(0, len(jobs), self.batch_size):
            batch = jobs[b:b + self.batch_size]
            wave = torch.stack([_segment(x[i], starts[k], min(chunk, length)) for i, k in batch]).to(self.device)
            hidden = self._layers(model(wave, output_hidden_states=True).hidden_states)
            for (i, k), h in zip(batch, hidden):
                a, e = owned[k]
                off = starts[k] // hop
                acc.add(i, h[:, a - off:e - off])
        out = acc.result()
        return out[:, 0] if self.layer != "all" else out


def _segment(x: torch.Tensor, start: int, chunk: int) -> torch.Tensor:
    """``chunk`` samples from ``start``, zero-padded at the end (by less than one hop)."""
    seg = x[start:start + chunk]
    return torch.nn.functional.pad(seg, (0, chunk - seg.shape[0])) if seg.shape[0] < chunk else seg


class _Accumulator:
    """Per-clip frames (``frames``) or running sums over frames (``mean``/``meanstd``)."""

    def __init__(self, n: int, pooling: str):
        self.pooling = pooling
        self.parts: list[list[torch.Tensor]] = [[] for _ in range(n)]
        self.sums: list[Any] = [None] * n

    def add(self, i: int, h: torch.Tensor) -> None:
        """``h`` (layers, frames, dim) of clip ``i``."""
        if self.pooling == "frames":
            self.parts[i].append(h)
            return
        h64 = h.double()
        s = (h64.sum(1), h64.square().sum(1), h.shape[1])
        prev = self.sums[i]
        self.sums[i] = s if prev is None else (prev[0] + s[0], prev[1] + s[1], prev[2] + s[2])

    def result(self) -> torch.Tensor:
        if self.pooling == "frames":
            return torch.stack([torch.cat(p, 1) for p in self.parts])
        out = []
        for total, sq, count in self.sums:
            mean = total / max(count, 1)
            if self.pooling == "meanstd":
                std = (sq / max(count, 1) - mean.square()).clamp_min(0).sqrt()
                mean = torch.cat([mean, std], -1)
            out.append(mean.float())
        return torch.stack(out)

