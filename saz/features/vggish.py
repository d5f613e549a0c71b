"""VGGish: 128-d embeddings per 0.96-s frame, from a local state dict of the torchvggish port.

The input side follows harritaylor/torchvggish (itself Google's ``vggish_input.py`` /
``mel_features.py``): 16 kHz, 25-ms periodic-Hann frames every 10 ms, 512-point FFT magnitude,
64 HTK mel bands from 125 to 7500 Hz, ``log(mel + 0.01)``, non-overlapping examples of 96 frames
(0.96 s) as ``(1, 96, 64)`` images. The network is VGG's six 3x3 convolutions with four max-pools
(``features.{0,3,6,8,11,13}``) and three fully connected layers with ReLU (``embeddings.{0,2,4}``);
its widths are read from the state dict, so the real 72M-parameter file and a small test one load
the same way. ``postprocess`` applies the port's (and AudioSet's) PCA whitening
(``pca_eigen_vectors``, ``pca_means``: numpy arrays in the port's separate
``vggish_pca_params-970ea276.pth``, given as ``pca=FILE``, or tensors in the weights file itself) and, with
``"quantized"``, the clip to [-2, 2] and 8-bit quantisation the OpenMIC-2018 features were released
with.

``get_feature("vggish", checkpoint=FILE, pca=FILE|None, pooling="mean"|"meanstd"|"frames", postprocess="none"|"pca"|"quantized")``
gives ``(n, 128)`` (``meanstd``: ``(n, 256)``) or ``(n, T, 128)`` frames, ``T`` = whole 0.96-s
examples in the clip (at least one: shorter clips are padded with silence).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from saz import audio
from saz.features.base import Feature, register
from saz.features.checkpoint import CheckpointError, fingerprint, require_device

SR = 16000
WIN, HOP, N_FFT = 400, 160, 512
N_MELS, FMIN, FMAX, LOG_OFFSET = 64, 125.0, 7500.0, 0.01
EXAMPLE = 96  # log-mel frames per example: 0.96 s
CONVS = (0, 3, 6, 8, 11, 13)
POOLS = (2, 5, 10, 15)  # max-pool slots; the others between convolutions are ReLUs
DENSE = (0, 2, 4)
POSTPROCESS = ("none", "pca", "quantized")
POOLINGS = ("mean", "meanstd", "frames")


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    return 1127.0 * np.log(1.0 + hz / 700.0)


@lru_cache(maxsize=1)
def mel_matrix() -> torch.Tensor:
    """(257, 64) triangular HTK mel weights of ``mel_features.spectrogram_to_mel_matrix``."""
    bins_mel = _hz_to_mel(np.linspace(0.0, SR / 2, N_FFT // 2 + 1))
    edges = np.linspace(_hz_to_mel(np.array(FMIN)), _hz_to_mel(np.array(FMAX)), N_MELS + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    w = np.maximum(0.0, np.minimum((bins_mel[:, None] - lower) / (center - lower),
                                   (upper - bins_mel[:, None]) / (upper - center)))
    w[0, :] = 0.0
    return torch.from_numpy(w).float()


def log_mel(y: torch.Tensor) -> torch.Tensor:
    """(n, frames, 64) log mel spectrogram of (n, samples) at 16 kHz, frames without padding."""
    frames = y.unfold(-1, WIN, HOP)
    window = 0.5 - 0.5 * torch.cos(2 * math.pi * torch.arange(WIN, dtype=torch.float64) / WIN)
    spec = torch.fft.rfft(frames.double() * window, n=N_FFT).abs()
    return torch.log(spec.float() @ mel_matrix() + LOG_OFFSET)


def examples(y: torch.Tensor) -> torch.Tensor:
    """(n, T, 96, 64) non-overlapping 0.96-s log-mel examples; clips shorter than one are padded."""
    need = WIN + (EXAMPLE - 1) * HOP
    if y.shape[-1] < need:
        y = nn.functional.pad(y, (0, need - y.shape[-1]))
    return log_mel(y).unfold(1, EXAMPLE, EXAMPLE).transpose(-1, -2)


class VGGishNet(nn.Module):
    """torchvggish's ``VGG``: ``features`` (convolutions) and ``embeddings`` (fully connected)."""

    def __init__(self, channels: list[int], dense: list[int]):
        super().__init__()
        layers: list[nn.Module] = []
        c_in, widths = 1, iter(channels)
        for idx in range(POOLS[-1] + 1):
            if idx in CONVS:
                c = next(widths)
                layers.append(nn.Conv2d(c_in, c, 3, 1, 1))
                c_in = c
            else:
                layers.append(nn.MaxPool2d(2, 2) if idx in POOLS else nn.ReLU(True))
        self.features = nn.Sequential(*layers)
        dims = [c_in * 6 * 4, *dense]
        fc: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            fc += [nn.Linear(a, b), nn.ReLU(True)]
        self.embeddings = nn.Sequential(*fc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # TF's (H, W, C) flattening order
        return self.embeddings(x)


_NUMPY_GLOBALS = [getattr(np, "_core", np.core).multiarray._reconstruct, np.ndarray, np.dtype,
                  type(np.dtype(np.float32)), type(np.dtype(np.float64))]
"""What unpickling the port's PCA file (a dict of numpy arrays) needs, allowed without allowing code."""


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path}: {'is a folder' if path.exists() else 'does not exist'} "
                              f"(expected a VGGish .pth state dict of the torchvggish port)")
    try:
        with torch.serialization.safe_globals(_NUMPY_GLOBALS):
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds for a file that is not a state dict
        raise CheckpointError(f"{path}: not a readable VGGish state dict ({type(e).__name__})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: not a VGGish state dict (a {type(state).__name__})")
    return {k: torch.as_tensor(v) for k, v in state.items()}


def build(state: dict[str, torch.Tensor], path: Path) -> VGGishNet:
    """The network of a torchvggish state dict; a missing key is one line naming it."""
    needed = [f"features.{i}.{p}" for i in CONVS for p in ("weight", "bias")]
    needed += [f"embeddings.{i}.{p}" for i in DENSE for p in ("weight", "bias")]
    missing = [k for k in needed if k not in state]
    if missing:
        raise CheckpointError(f"{path}: key {missing[0]} missing (expected a VGGish state dict of the torchvggish port: "
                              f"features.*, embeddings.*)")
    net = VGGishNet([state[f"features.{i}.weight"].shape[0] for i in CONVS],
                    [state[f"embeddings.{i}.weight"].shape[0] for i in DENSE])
    try:
        net.load_state_dict({k: state[k].float() for k in needed})
    except RuntimeError as e:
        raise CheckpointError(f"{path}: VGGish weights of inconsistent shapes ({str(e).splitlines()[-1].strip()})") from None
    return net.eval()


def pca_params(state: dict[str, torch.Tensor], path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """(128, 128) eigenvectors and (128, 1) means of the PCA post-processing."""
    if "pca_eigen_vectors" not in state or "pca_means" not in state:
        raise CheckpointError(f"{path}: no pca_eigen_vectors / pca_means (postprocess needs the torchvggish PCA "
                              f"parameters, in the weights file or pca=FILE)")
    return state["pca_eigen_vectors"].float(), state["pca_means"].float().reshape(-1, 1)


@lru_cache(maxsize=2)
def _load(weights: str, pca: str | None, device: str, identity: str) -> tuple[VGGishNet, tuple[torch.Tensor, torch.Tensor] | None]:
    path = Path(weights)
    state = _read_state(path)
    net = build(state, path).to(device)
    pca_path = Path(pca) if pca else path
    pca_state = _read_state(pca_path) if pca else state
    has_pca = "pca_eigen_vectors" in pca_state
    return net, (pca_params(pca_state, pca_path) if has_pca or pca else None)


@register
@dataclass(frozen=True)
class VGGish(Feature):
    """128-d VGGish embeddings per 0.96-s example, pooled over the clip or as frames."""

    name = "vggish"
    sr: int = SR
    checkpoint: str | None = None
    pca: str | None = None
    postprocess: str = "none"
    pooling: str = "mean"
    device: str = "cpu"
    batch_size: int = 64

    def __post_init__(self) -> None:
        if self.postprocess not in POSTPROCESS:
            raise ValueError(f"postprocess {self.postprocess!r}: expected one of {', '.join(POSTPROCESS)}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling {self.pooling!r}: expected one of {', '.join(POOLINGS)}")

    @property
    def frame_rate(self) -> float:
        return SR / (EXAMPLE * HOP)

    def _files(self) -> list[Path]:
        if not self.checkpoint:
            raise CheckpointError("feature 'vggish' needs a local VGGish state dict: --checkpoint FILE.pth (or -p checkpoint=FILE)")
        return [Path(p) for p in (self.checkpoint, self.pca) if p]

    def model(self) -> tuple[VGGishNet, tuple[torch.Tensor, torch.Tensor] | None]:
        require_device(self.device)
        files = self._files()
        for f in files:
            if not f.is_file():
                _read_state(f)  # raises the one-line error
        net, pca = _load(str(files[0].resolve()), str(files[1].resolve()) if self.pca else None, self.device, fingerprint(files))
        if self.postprocess != "none" and pca is None:
            pca_params({}, files[-1])
        return net, pca

    def check(self) -> None:
        self.model()

    def key(self) -> str:
        cfg = {k: v for k, v in self.config().items() if k not in ("device", "batch_size")}
        blob = json.dumps(cfg, sort_keys=True).encode() + fingerprint(self._files()).encode()
        return f"{self.name}-{hashlib.sha256(blob).hexdigest()[:12]}"

    def _post(self, e: torch.Tensor, pca: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
        if self.postprocess == "none" or pca is None:
            return e
        vectors, means = pca
        e = (vectors @ (e.T - means)).T
        if self.postprocess == "quantized":
            e = torch.round((e.clamp(-2.0, 2.0) + 2.0) * (255.0 / 4.0))
        return e

    def _embed(self, x: torch.Tensor, net: VGGishNet) -> torch.Tensor:
        """(n, T, 128) raw embeddings of (n, samples) at 16 kHz, ``batch_size`` examples per clip
        at a time so a long file never holds its whole spectrogram."""
        per = EXAMPLE * HOP
        total = max(1, (max(x.shape[-1], WIN + (EXAMPLE - 1) * HOP) - WIN) // HOP + 1 - EXAMPLE) // EXAMPLE + 1
        parts = []
        for first in range(0, total, self.batch_size):
            count = min(self.batch_size, total - first)
            ex = examples(x[:, first * per:(first + count) * per + WIN - HOP])[:, :count]
            n, t = ex.shape[:2]
            parts.append(net(ex.reshape(n * t, 1, EXAMPLE, N_MELS).to(self.device)).cpu().reshape(n, t, -1))
        return torch.cat(parts, 1)

    def compute(self, y: torch.Tensor) -> torch.Tensor:
        net, pca = self.model()
        x = torch.from_numpy(np.stack([audio.resample(r, self.sr, SR) for r in y.numpy()])) if self.sr != SR else y
        emb = self._embed(x, net)
        n, t = emb.shape[:2]
        emb = self._post(emb.reshape(n * t, -1), pca).reshape(n, t, -1)
        if self.pooling == "frames":
            return emb
        if self.pooling == "meanstd":
            return torch.cat([emb.mean(1), emb.std(1, unbiased=False)], -1)
        return emb.mean(1)
