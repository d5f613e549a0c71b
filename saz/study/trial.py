"""One trial of a study: a fully connected head trained on frozen features, its test outputs.

hamnava-dataset-paper.txt 3.2: a fully connected decision layer on the frozen encoder, Adam,
learning rate 0.01, 100 epochs; persian-music-self-supervised.txt 4.3: 1 to 5 hidden layers.
The head is saz's ``probe`` (:mod:`saz.models.probe`); the epoch with the lowest validation loss
is kept. Losses (``head``): ``single`` softmax cross-entropy; ``soft`` MSE on sigmoid outputs
(HamNava's soft training, protocols 2a and 2b); ``hard`` binary cross-entropy on labels
binarised at 0.5 (protocol 2c). :func:`run_trial` is a plain top-level function of picklable
arguments, so an engine (a process pool, Ray) can map it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from saz.labels import binarize
from saz.models.base import build
from saz.models.normalizer import Normalizer
from saz.models.train import masked_loss

HEADS = ("single", "soft", "hard")


@dataclass
class Trial:
    """Everything one trial needs: arrays, head, optimiser settings and seed."""

    variant: str
    head: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    hidden_layers: int = 0
    hidden_size: int = 512
    epochs: int = 100
    lr: float = 0.01
    batch_size: int = 64
    seed: int = 0


def _loss(head: str, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if head == "single":
        return F.cross_entropy(logits, y.argmax(dim=1))
    return masked_loss(logits, y, mse=head == "soft")


def _outputs(head: str, logits: torch.Tensor) -> np.ndarray:
    return (torch.softmax(logits, 1) if head == "single" else torch.sigmoid(logits)).numpy()


def run_trial(t: Trial) -> dict:
    """Train the head of ``t``; returns ``variant``, ``seed``, test outputs ``prob``, ``best_epoch``."""
    if t.head not in HEADS:
        raise ValueError(f"unknown head '{t.head}' (choose from {', '.join(HEADS)})")
    torch.manual_seed(t.seed)
    model = build("probe", t.X_train.shape[1:], t.y_train.shape[1], hidden_layers=t.hidden_layers,
                  hidden_size=t.hidden_size)
    norm = Normalizer.fit(t.X_train, "vector")
    X, X_val, X_test = (norm(torch.from_numpy(np.ascontiguousarray(a, np.float32))) for a in (t.X_train, t.X_val, t.X_test))
    y = torch.from_numpy(binarize(t.y_train) if t.head == "hard" else np.asarray(t.y_train, np.float32))
    y_val = torch.from_numpy(binarize(t.y_val) if t.head == "hard" else np.asarray(t.y_val, np.float32))
    opt = torch.optim.Adam(model.parameters(), lr=t.lr)
    gen = torch.Generator().manual_seed(t.seed)
    best, best_epoch, best_state = np.inf, 0, None
    for epoch in range(1, t.epochs + 1):
        model.train()
        for idx in torch.randperm(len(X), generator=gen).split(t.batch_size):
            opt.zero_grad()
            _loss(t.head, model(X[idx]), y[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val = float(_loss(t.head, model(X_val), y_val))
        if val < best:
            best, best_epoch, best_state = val, epoch, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    with torch.no_grad():
        prob = _outputs(t.head, model(X_test))
    return {"variant": t.variant, "seed": t.seed, "prob": prob, "best_epoch": best_epoch}
