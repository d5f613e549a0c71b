"""OpenMIC-2018's own VGGish features, shipped with the dataset, as a feature models train on.

The attention paper (openmic-attention-review.txt) and the OpenMIC baseline train on these
released embeddings rather than on the audio: 10 frames of 128 PCA-whitened, 8-bit-quantised VGGish
values per 10-s clip (0..255; ``dequantize=True`` maps them back to the [-2, 2] PCA range). For a
clip's audio file ``ROOT/audio/<key[:3]>/<key>.ogg`` they are read from ``ROOT/openmic-2018.npz``
(its ``X`` row of ``sample_key`` ``key``) when that file is there, else from
``ROOT/vggish/<key[:3]>/<key>.json`` (the layout :mod:`saz.datasets.openmic2018` reads). This
module reads those two files itself because features do not import datasets.

``get_feature("openmic-vggish", pooling="frames"|"mean"|"meanstd", dequantize=False)``:
``(n, 10, 128)`` frames (the input of the ``attention``, ``fc_t`` and ``rnn`` models), or
``(n, 128)`` / ``(n, 256)`` pooled. Use: ``saz train --dataset openmic2018 --root ROOT --model
attention --feature-param feature=openmic-vggish``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from saz.features.base import Precomputed, register

NPZ = "openmic-2018.npz"
FRAMES, DIM = 10, 128
POOLINGS = ("frames", "mean", "meanstd")


@lru_cache(maxsize=2)
def _npz(path: str, mtime_ns: int) -> tuple[dict[str, int], np.ndarray]:
    """``sample_key -> row`` and ``X`` of an npz (read once; its mtime in the key rereads an edited one)."""
    with np.load(path, allow_pickle=False) as d:
        if "X" not in d.files or "sample_key" not in d.files:
            raise ValueError(f"{path}: no X / sample_key arrays (expected the OpenMIC-2018 release's npz)")
        keys, X = d["sample_key"].astype(str), d["X"]
    if X.ndim != 3 or X.shape[0] != len(keys) or X.shape[2] != DIM:
        raise ValueError(f"{path}: X of shape {X.shape}, expected (n_clips, {FRAMES}, {DIM})")
    return {k: i for i, k in enumerate(keys)}, X


def released_frames(audio_path: str) -> np.ndarray:
    """The released ``(frames, 128)`` float32 VGGish values of the clip whose audio is ``audio_path``."""
    p = Path(audio_path)
    key, root = p.stem, p.parents[2]
    npz = root / NPZ
    if npz.is_file():
        index, X = _npz(str(npz), npz.stat().st_mtime_ns)
        if key not in index:
            raise ValueError(f"{npz}: no sample_key {key}")
        return X[index[key]].astype(np.float32)
    js = root / "vggish" / key[:3] / f"{key}.json"
    if not js.is_file():
        raise FileNotFoundError(f"{js}: no VGGish features for {key} (nor {npz})")
    x = np.asarray(json.loads(js.read_text())["features"], dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != DIM or not len(x):
        raise ValueError(f"{js}: expected features of shape (frames, {DIM}), got {x.shape}")
    return x


@register
@dataclass(frozen=True)
class OpenMICVGGish(Precomputed):
    """The dataset's released VGGish frames, fitted to 10 (cropped, or padded by repeating the last)."""

    name = "openmic-vggish"
    sr: int = 16000
    pooling: str = "frames"
    dequantize: bool = False

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling {self.pooling!r}: expected one of {', '.join(POOLINGS)}")

    @property
    def frame_rate(self) -> float:
        return 1 / 0.96

    @property
    def shape(self) -> tuple[int, ...]:
        return {"frames": (FRAMES, DIM), "mean": (DIM,), "meanstd": (2 * DIM,)}[self.pooling]

    def for_file(self, path: str) -> np.ndarray:
        x = released_frames(path)
        x = x[:FRAMES] if len(x) >= FRAMES else np.concatenate([x, np.repeat(x[-1:], FRAMES - len(x), 0)])
        if self.dequantize:
            x = x * (4.0 / 255.0) - 2.0
        if self.pooling == "mean":
            return x.mean(0)
        if self.pooling == "meanstd":
            return np.concatenate([x.mean(0), x.std(0)])
        return x
