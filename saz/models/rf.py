"""Random forest with binary relevance: the machine-learning baseline on 52 clip statistics.

cultural-instruments-polyphonic-detection.txt 4.1.1: scikit-learn's ``MultiOutputClassifier``
around a random forest of 100 trees with maximum depth 6, one forest per instrument
(binary relevance), on the 52-value ``stats`` summary (section 3.3). The same binary-relevance
wrapper serves :mod:`saz.models.xgb` (section 4.1.2).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.multioutput import MultiOutputClassifier

from saz.models.base import SklearnModel, register


class BinaryRelevance(SklearnModel):
    """One binary classifier per class through ``MultiOutputClassifier``.

    A class whose training labels are all equal cannot be fitted (the estimators need two
    classes), so it predicts that constant; this happens with rare instruments in small splits.
    """

    def estimator(self, seed: int) -> ClassifierMixin:
        """A fresh, unfitted binary classifier."""
        raise NotImplementedError

    def fit(self, X: np.ndarray, y: np.ndarray, seed: int = 0) -> "BinaryRelevance":
        X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 2 or y.shape != (len(X), self.n_classes):
            raise ValueError(f"{self.name}: labels must be (n, {self.n_classes}), got {y.shape} for {len(X)} clips")
        if np.isnan(y).any() or not np.isin(y, (0.0, 1.0)).all():
            raise ValueError(f"{self.name}: labels must be hard 0/1 and known (binarise soft labels, drop NaN first)")
        y = y.astype(np.int64)
        self.constant_ = {c: float(y[0, c]) for c in range(self.n_classes) if (y[:, c] == y[0, c]).all()}
        self.fitted_ = [c for c in range(self.n_classes) if c not in self.constant_]
        self.model_ = None
        if self.fitted_:
            self.model_ = MultiOutputClassifier(self.estimator(seed)).fit(X, y[:, self.fitted_])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
        out = np.empty((len(X), self.n_classes), dtype=np.float64)
        for c, value in self.constant_.items():
            out[:, c] = value
        if self.model_ is not None:
            for c, proba in zip(self.fitted_, self.model_.predict_proba(X)):
                out[:, c] = proba[:, 1]
        return out


@register
class RandomForest(BinaryRelevance):
    """Binary-relevance random forest (section 4.1.1); hparams override the forest's arguments."""

    name = "rf"
    source = "cultural-instruments-polyphonic-detection.txt 4.1.1"
    defaults: ClassVar[dict[str, Any]] = {"n_estimators": 100, "max_depth": 6, "n_jobs": 2}

    def estimator(self, seed: int) -> ClassifierMixin:
        return RandomForestClassifier(**{**self.defaults, **self.hparams}, random_state=seed)
