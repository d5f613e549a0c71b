"""The model interface and its registry.

Two kinds of model sit behind one registry:

* :class:`TorchModel`, an ``nn.Module`` built from ``(input_shape, n_classes, **hparams)``
  whose ``forward(x)`` maps a batch of features ``(B, *input_shape)`` to clip logits
  ``(B, n_classes)``. Models that can say *when* an instrument plays also implement
  ``frame_logits(x) -> (B, T, n_classes)``.
* :class:`SklearnModel`, a scikit-learn style estimator on clip vectors with ``fit`` and
  ``predict_proba``.

Every class states the feature it expects by default (a feature config, see
:mod:`saz.features`), its input layout, and the optimiser settings of its source document,
so training code needs nothing model-specific. Adding a model means writing one module in
:mod:`saz.models` with a class decorated by :func:`register`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

MODELS: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make a model available by its ``name``."""
    MODELS[cls.name] = cls
    return cls


def get_model_class(name: str) -> type:
    if name not in MODELS:
        raise KeyError(f"unknown model '{name}' (available: {', '.join(sorted(MODELS))})")
    return MODELS[name]


def model_config(model: "TorchModel | SklearnModel") -> dict[str, Any]:
    """Name, input shape, class count and hyperparameters: all :func:`build` needs."""
    return {"name": model.name, "input_shape": list(model.input_shape), "n_classes": model.n_classes,
            "hparams": model.hparams}


class TorchModel(nn.Module):
    """Base for neural models. Subclasses set the class attributes and build layers in __init__.

    ``input_kind`` is ``"spectrogram"`` (input ``(n_bins, frames)``), ``"sequence"``
    (``(steps, dim)``, e.g. VGGish 10x128 or log-mel patches) or ``"vector"`` (``(dim,)``).
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "torch"
    input_kind: ClassVar[str] = "spectrogram"
    default_feature: ClassVar[dict[str, Any]] = {"feature": "logmel"}
    optimizer: ClassVar[dict[str, float]] = {"lr": 1e-3, "weight_decay": 0.0}
    batch_size: ClassVar[int] = 32
    source: ClassVar[str] = ""  # the document section the architecture follows
    frame_hop: ClassVar[int] = 1  # input frames per ``frame_logits`` step

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, **hparams: Any):
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.n_classes = int(n_classes)
        self.hparams = dict(hparams)

    def config(self) -> dict[str, Any]:
        """What :func:`build` needs to rebuild this model (stored in checkpoints)."""
        return model_config(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, *input_shape) -> (B, C) logits
        raise NotImplementedError

    @property
    def has_frames(self) -> bool:
        """Whether the model predicts per frame (``frame_logits``)."""
        return type(self).frame_logits is not TorchModel.frame_logits

    def frame_logits(self, x: torch.Tensor) -> torch.Tensor:  # (B, *input_shape) -> (B, T, C)
        raise NotImplementedError(f"{self.name} does not predict per frame")


class SklearnModel:
    """Base for scikit-learn models on clip vectors ``(n, dim)``; labels must be hard and known."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = "sklearn"
    input_kind: ClassVar[str] = "vector"
    default_feature: ClassVar[dict[str, Any]] = {"feature": "stats"}
    source: ClassVar[str] = ""

    def __init__(self, input_shape: tuple[int, ...], n_classes: int, **hparams: Any):
        self.input_shape = tuple(int(s) for s in input_shape)
        self.n_classes = int(n_classes)
        self.hparams = dict(hparams)

    def config(self) -> dict[str, Any]:
        return model_config(self)

    def fit(self, X: np.ndarray, y: np.ndarray, seed: int = 0) -> "SklearnModel":
        raise NotImplementedError

    def predict_proba(self, X: np.ndarray) -> np.ndarray:  # (n, C) probabilities
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        """The fitted model as plain data (text, numbers, bytes of a format that holds no code),
        what a checkpoint stores: unlike a pickle, reading it cannot run code."""
        raise NotImplementedError

    def load_state(self, state: Any) -> "SklearnModel":
        """This model fitted as :meth:`state` describes (the counterpart of torch's
        ``load_state_dict``); ValueError when ``state`` does not describe a sound fitted model."""
        raise NotImplementedError


def build(name: str, input_shape: tuple[int, ...], n_classes: int, **hparams: Any) -> TorchModel | SklearnModel:
    """Instantiate a registered model."""
    return get_model_class(name)(tuple(input_shape), n_classes, **hparams)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
