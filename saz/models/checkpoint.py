"""One checkpoint file holds everything needed to predict, and :class:`Predictor` uses it.

A checkpoint (``torch.save`` of a plain dict, written atomically) stores the model config and
weights (or, for scikit-learn models, the pickled estimator), the feature config and clip
length, the vocabulary, the per-class thresholds tuned on validation, the input
standardisation, the training protocol and metrics, and the saz version. Torch checkpoints load
with ``weights_only=True``; scikit-learn ones need unpickling, so load only files you trust.

An *ensemble* checkpoint (``kind`` "ensemble", made by :func:`ensemble`) holds whole member
checkpoints of one feature, clip length and vocabulary, each with its own input standardisation;
its probabilities (clip and frame) combine the members' by :data:`COMBINE` (the mean, or the maximum,
which lets one member that knows a sound speak for it), and it has thresholds of its own.

Besides its own thresholds (the profile :data:`TUNED`) a checkpoint may carry further threshold
*profiles* (:func:`add_profile`): the same probabilities read with other per-class thresholds,
each with a line on how they were set and what they scored, chosen per call by name.
"""

from __future__ import annotations

import io as _io
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from saz import io
from saz._version import __version__
from saz.features import Feature, feature_from_config
from saz.labels import Vocabulary
from saz.models.base import SklearnModel, TorchModel, build
from saz.models.inference import for_inference

FORMAT = "saz-checkpoint"
FORMAT_VERSION = 1
COMBINE = {"mean": np.mean, "max": np.max}  # how an ensemble joins its members' probabilities
TUNED = "tuned"  # the name of a checkpoint's own thresholds among its threshold profiles


class CheckpointError(Exception):
    """A file that is not a readable saz checkpoint."""


@dataclass
class Normalizer:
    """Per-band (spectrogram) or per-dimension (sequence, vector) standardisation, fitted on training data."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray, input_kind: str) -> "Normalizer":
        axes = (0, 2) if input_kind == "spectrogram" and X.ndim == 3 else tuple(range(X.ndim - 1))
        mean = np.nanmean(X, axis=axes, keepdims=True)[0]
        std = np.nanstd(X, axis=axes, keepdims=True)[0]
        return cls(mean.astype(np.float32), np.maximum(std, 1e-5).astype(np.float32))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x - torch.from_numpy(self.mean)) / torch.from_numpy(self.std)


def save(path: str | os.PathLike, model: TorchModel | SklearnModel, feature: Feature, seconds: float,
         vocab: Vocabulary, thresholds: np.ndarray, norm: Normalizer | None, info: dict[str, Any]) -> Path:
    """Write a checkpoint atomically; ``info`` carries the protocol, training config and metrics."""
    ckpt: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "saz_version": __version__,
        "model": model.config(), "kind": model.kind, "feature": feature.config(), "seconds": float(seconds),
        "vocabulary": vocab.to_dict(), "thresholds": [float(t) for t in thresholds],
        "norm": None if norm is None else {"mean": torch.from_numpy(norm.mean), "std": torch.from_numpy(norm.std)},
        "info": info,
    }
    if isinstance(model, TorchModel):
        ckpt["state_dict"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    else:
        ckpt["estimator"] = pickle.dumps(model)
    return write_dict(path, ckpt)


def write_dict(path: str | os.PathLike, ckpt: dict[str, Any]) -> Path:
    """Write a checkpoint dict atomically."""
    buf = _io.BytesIO()
    torch.save(ckpt, buf)
    return io.write_bytes(path, buf.getvalue())


def combination(name: str) -> Callable[..., np.ndarray]:
    """The function that joins members' probabilities for ``name`` (a key of :data:`COMBINE`);
    ValueError naming the choices for anything else."""
    if name not in COMBINE:
        raise ValueError(f"unknown ensemble combination '{name}' (choose from {', '.join(COMBINE)})")
    return COMBINE[name]


def ensemble(members: list[dict[str, Any]], X_val: np.ndarray, y_val: np.ndarray, info: dict[str, Any],
             combine: str = "mean") -> dict[str, Any]:
    """An ensemble checkpoint of ``members`` (checkpoint dicts): probabilities joined by ``combine``
    (a key of :data:`COMBINE`), per-class thresholds tuned on validation features ``X_val`` / labels
    ``y_val``; ``info`` describes it."""
    from saz import metrics

    if len(members) < 2:
        raise ValueError("an ensemble needs at least two checkpoints")
    combination(combine)
    first = members[0]
    for i, m in enumerate(members[1:], 2):
        for key in ("feature", "seconds", "vocabulary"):
            if m[key] != first[key]:
                raise ValueError(f"member {i} differs from member 1 in its {key}: an ensemble joins like with like")
    ckpt: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "saz_version": __version__, "kind": "ensemble",
        "model": {"name": "ensemble", "members": [m["model"]["name"] for m in members], "combine": combine},
        "feature": first["feature"], "seconds": first["seconds"], "vocabulary": first["vocabulary"],
        "thresholds": [0.5] * len(first["vocabulary"]["names"]), "norm": None, "members": list(members), "info": info,
    }
    pred = Predictor(ckpt)
    p_val = pred.probabilities(X_val)
    thresholds = metrics.tune_thresholds(y_val, p_val)
    val = metrics.evaluate(y_val, p_val, pred.vocab, thresholds)
    ckpt["thresholds"] = [float(t) for t in thresholds]
    ckpt["info"] = {**info, "validation": val.subset("micro", "macro", "map")}
    return ckpt


def add_profile(ckpt: dict[str, Any], name: str, thresholds: np.ndarray, about: str,
                scores: dict[str, Any] | None = None) -> dict[str, Any]:
    """``ckpt`` with the threshold profile ``name`` added (or replaced): per-class ``thresholds``,
    ``about`` (how they were set) and optional ``scores`` (what they measured, for the card)."""
    n = len(ckpt["vocabulary"]["names"])
    t = np.asarray(thresholds, dtype=np.float64)
    if name == TUNED or not name.isidentifier():
        raise ValueError(f"'{name}' cannot name a threshold profile (a word other than '{TUNED}')")
    if t.shape != (n,) or not ((t >= 0) & (t <= 1)).all():
        raise ValueError(f"profile '{name}': expected {n} thresholds in [0, 1], got shape {t.shape}")
    profiles = {**ckpt.get("threshold_profiles", {}),
                name: {"thresholds": [float(x) for x in t], "about": about, "scores": scores or {}}}
    return {**ckpt, "threshold_profiles": profiles}


def add_window_thresholds(ckpt: dict[str, Any], table: dict[float, np.ndarray], about: str) -> dict[str, Any]:
    """``ckpt`` with its own thresholds tuned again for prediction windows other than its clip
    length: ``table`` maps a window (seconds) to per-class thresholds tuned at it
    (:func:`saz.evaluation.calibration.window_thresholds`), ``about`` says on what. Replaces any earlier table.

    A file's probability is its highest window's, so the shorter the window, the more windows a
    clip has and the higher an absent class's highest probability: thresholds tuned at the clip
    length let false positives through at short windows (``benchmarks/results/window_length.md``).
    """
    n = len(ckpt["vocabulary"]["names"])
    rows = []
    for window, thresholds in sorted(table.items()):
        t = np.asarray(thresholds, dtype=np.float64)
        if not window > 0 or t.shape != (n,) or not ((t >= 0) & (t <= 1)).all():
            raise ValueError(f"window {window}: expected a positive window and {n} thresholds in [0, 1], got shape {t.shape}")
        rows.append({"window": float(window), "thresholds": [float(x) for x in t]})
    return {**ckpt, "window_thresholds": {"about": about, "windows": rows}}


def load_dict(path: str | os.PathLike) -> dict[str, Any]:
    """The raw checkpoint dict; a clear :class:`CheckpointError` for anything else."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: no such checkpoint file")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for non-checkpoints
        raise CheckpointError(f"{p}: not a saz checkpoint ({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{p}: not a saz checkpoint (no '{FORMAT}' header)")
    if ckpt.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{p}: checkpoint format {ckpt['format_version']} is newer than this saz understands")
    return ckpt


class Predictor:
    """A loaded checkpoint: features in, probabilities (clip and, where the model can, per frame) out."""

    def __init__(self, ckpt: dict[str, Any], source: str = "<memory>"):
        self.source = source
        self.ckpt = ckpt
        self.feature = feature_from_config(ckpt["feature"])
        self.seconds = float(ckpt["seconds"])
        self.vocab = Vocabulary.from_dict(ckpt["vocabulary"])
        self.thresholds = np.asarray(ckpt["thresholds"], dtype=np.float32)
        self.info = ckpt.get("info", {})
        norm = ckpt.get("norm")
        self.norm = None if norm is None else Normalizer(norm["mean"].numpy(), norm["std"].numpy())
        cfg = ckpt["model"]
        self.members = [Predictor(m, f"{source} member {i}") for i, m in enumerate(ckpt.get("members", []), 1)]
        self.combine = combination(cfg.get("combine", "mean"))  # ensembles written before "combine" averaged
        if ckpt["kind"] == "ensemble":
            self.model = None
        elif ckpt["kind"] == "sklearn":
            self.model = pickle.loads(ckpt["estimator"])
        else:
            self.model = build(cfg["name"], cfg["input_shape"], cfg["n_classes"], **cfg["hparams"])
            self.model.load_state_dict(ckpt["state_dict"])
            self.model = for_inference(self.model.eval())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Predictor":
        return cls(load_dict(path), str(path))

    @property
    def name(self) -> str:
        return self.ckpt["model"]["name"]

    @property
    def profiles(self) -> dict[str, str]:
        """Threshold profiles by name, each with how it was set; :data:`TUNED` is the checkpoint's own."""
        own = {TUNED: "tuned for F1 on the validation clips"}
        return own | {k: v["about"] for k, v in self.ckpt.get("threshold_profiles", {}).items()}

    def threshold_window(self, window: float | None = None) -> float:
        """The window whose tuned thresholds serve predictions at ``window`` seconds: the nearest
        of the clip length (the checkpoint's own thresholds) and the windows it has thresholds
        for (:func:`add_window_thresholds`)."""
        tabled = [row["window"] for row in self.ckpt.get("window_thresholds", {}).get("windows", [])]
        return self.seconds if window is None else min([self.seconds, *tabled], key=lambda w: (abs(w - window), w))

    def thresholds_for(self, profile: str | None = None, window: float | None = None) -> np.ndarray:
        """Per-class thresholds of ``profile`` (None or :data:`TUNED`: the checkpoint's own, at the
        prediction ``window`` if it has thresholds tuned for windows; see :meth:`threshold_window`)."""
        if profile in (None, TUNED):
            w = self.threshold_window(window)
            if w == self.seconds:
                return self.thresholds
            row = next(r for r in self.ckpt["window_thresholds"]["windows"] if r["window"] == w)
            return np.asarray(row["thresholds"], np.float32)
        found = self.ckpt.get("threshold_profiles", {}).get(profile)
        if found is None:
            raise ValueError(f"{self.source}: no threshold profile '{profile}' (it has: {', '.join(self.profiles)})")
        return np.asarray(found["thresholds"], dtype=np.float32)

    @property
    def has_frames(self) -> bool:
        if self.members:
            return all(m.has_frames for m in self.members)
        return isinstance(self.model, TorchModel) and self.model.has_frames

    def _batches(self, X: np.ndarray, batch: int):
        for i in range(0, len(X), batch):
            x = torch.from_numpy(np.ascontiguousarray(X[i:i + batch], dtype=np.float32))
            yield self.norm(x) if self.norm is not None else x

    @torch.no_grad()
    def probabilities(self, X: np.ndarray, batch: int = 64) -> np.ndarray:
        """Clip probabilities ``(n, n_classes)`` for features ``X`` (n, ...)."""
        if self.members:
            return self.combine([m.probabilities(X, batch) for m in self.members], axis=0)
        if isinstance(self.model, SklearnModel):
            return np.asarray(self.model.predict_proba(X.reshape(len(X), -1)), dtype=np.float32)
        if len(X) == 0:
            return np.zeros((0, len(self.vocab)), np.float32)
        return torch.cat([torch.sigmoid(self.model(x)) for x in self._batches(X, batch)]).numpy()

    @torch.no_grad()
    def frame_probabilities(self, X: np.ndarray, batch: int = 64) -> np.ndarray:
        """Per-frame probabilities ``(n, frames', n_classes)`` (models with ``frame_logits``)."""
        if not self.has_frames:
            raise ValueError(f"model '{self.name}' does not predict per frame")
        if self.members:
            return self.combine([m.frame_probabilities(X, batch) for m in self.members], axis=0)
        return torch.cat([torch.sigmoid(self.model.frame_logits(x)) for x in self._batches(X, batch)]).numpy()
