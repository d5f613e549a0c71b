"""Random forest with binary relevance: the machine-learning baseline on 52 clip statistics.

cultural-instruments-polyphonic-detection.txt 4.1.1: scikit-learn's ``MultiOutputClassifier``
around a random forest of 100 trees with maximum depth 6, one forest per instrument
(binary relevance), on the 52-value ``stats`` summary (section 3.3). The same binary-relevance
wrapper serves :mod:`saz.models.xgb` (section 4.1.2).

A fitted model is stored as data that cannot run code when read (:meth:`BinaryRelevance.state`):
each forest in skops' format (:mod:`skops.io`), loaded only when it holds no type beyond those
skops trusts and :data:`REVIEWED_TYPES`, whose contents :func:`check_tree` then checks.
"""

from __future__ import annotations

import zipfile
from typing import Any, ClassVar

import numpy as np
from sklearn.base import ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier

from saz.models.base import SklearnModel, register

# Types skops does not trust by default that a forest needs, each reviewed: a tree's node arrays
# are indexed without bounds checks, so every loaded tree goes through check_tree.
REVIEWED_TYPES = ("sklearn.tree._tree.Tree",)
LEAF = -1  # the child index of a leaf, in scikit-learn's trees and XGBoost's alike


def check_tree(left: Any, right: Any, feature: Any, n_features: int, what: str) -> None:
    """ValueError naming ``what`` unless the node arrays describe a tree prediction can walk.

    Both libraries follow these indices without bounds checks, so a crafted file could make
    prediction read outside memory (a crash) or loop forever. Walking from node 0 is safe when
    every internal node's children lie in the tree, no child is node 0 or has two parents (so
    no walk revisits a node), and every split reads one of the ``n_features`` inputs.
    """
    left, right, feature = (np.asarray(a, dtype=np.int64).reshape(-1) for a in (left, right, feature))
    n = len(left)
    if n == 0 or len(right) != n or len(feature) != n:
        raise ValueError(f"{what}: node arrays of lengths {len(left)}, {len(right)} and {len(feature)}")
    inner = left != LEAF
    children = np.concatenate([left[inner], right[inner]])
    if (right[~inner] != LEAF).any() or ((children < 1) | (children >= n)).any():
        raise ValueError(f"{what}: a child index outside its {n} nodes")
    if np.bincount(children, minlength=n).max(initial=0) > 1:
        raise ValueError(f"{what}: a node with two parents")
    if ((feature[inner] < 0) | (feature[inner] >= n_features)).any():
        raise ValueError(f"{what}: a split on an input beyond its {n_features}")


class BinaryRelevance(SklearnModel):
    """One binary classifier per class, a clone of :meth:`estimator` each, as ``MultiOutputClassifier``
    fits them, but each on the clips whose label for its class is known.

    A class whose training labels are all equal cannot be fitted (the estimators need two
    classes), so it predicts that constant; this happens with rare instruments in small splits.
    Subclasses say how one fitted classifier is stored (:meth:`dump_estimator`, :meth:`load_estimator`).
    """

    estimator_format: ClassVar[str] = ""  # the name :meth:`state` gives the format of each stored classifier

    def estimator(self, seed: int) -> ClassifierMixin:
        """A fresh, unfitted binary classifier."""
        raise NotImplementedError

    def dump_estimator(self, estimator: ClassifierMixin) -> bytes:
        """One fitted classifier as bytes of :attr:`estimator_format`."""
        raise NotImplementedError

    def load_estimator(self, data: bytes) -> ClassifierMixin:
        """The classifier :meth:`dump_estimator` wrote; ValueError unless it is a sound binary
        classifier over this model's inputs."""
        raise NotImplementedError

    @property
    def n_features(self) -> int:
        """Inputs per clip: the flattened input shape."""
        return int(np.prod(self.input_shape))

    def fit(self, X: np.ndarray, y: np.ndarray, seed: int = 0) -> "BinaryRelevance":
        """One classifier per class on the clips whose label for it is known (NaN: unknown, that
        clip left out of that class only: binary relevance as OpenMIC's baselines train it)."""
        X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 2 or y.shape != (len(X), self.n_classes):
            raise ValueError(f"{self.name}: labels must be (n, {self.n_classes}), got {y.shape} for {len(X)} clips")
        if not np.isin(y[~np.isnan(y)], (0.0, 1.0)).all():
            raise ValueError(f"{self.name}: labels must be hard 0/1 or unknown (binarise soft labels first)")
        self.constant_, self.fitted_, self.estimators_ = {}, [], []
        for c in range(self.n_classes):
            known = ~np.isnan(y[:, c])
            labels = y[known, c].astype(np.int64)
            if len(np.unique(labels)) < 2:  # one value (or none) to learn: predict it (absent if none)
                self.constant_[c] = float(labels[0]) if len(labels) else 0.0
                continue
            self.fitted_.append(c)
            self.estimators_.append(clone(self.estimator(seed)).fit(X[known], labels))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
        out = np.empty((len(X), self.n_classes), dtype=np.float64)
        for c, value in self.constant_.items():
            out[:, c] = value
        for c, estimator in zip(self.fitted_, self.estimators_):
            out[:, c] = estimator.predict_proba(X)[:, 1]
        return out

    def state(self) -> dict[str, Any]:
        return {"format": self.estimator_format, "constant": dict(self.constant_), "fitted": list(self.fitted_),
                "estimators": [self.dump_estimator(e) for e in self.estimators_]}

    def load_state(self, state: Any) -> "BinaryRelevance":
        self.constant_, self.fitted_ = _classes(state, self.estimator_format, self.n_classes)
        self.estimators_ = [self.load_estimator(data) for data in state["estimators"]]
        return self

    def __setstate__(self, d: dict[str, Any]) -> None:
        """Unpickling (trusted checkpoints saved before :meth:`state`): those kept the fitted
        classifiers in a ``MultiOutputClassifier`` (``model_``, None when every class was constant)."""
        if "model_" in d:
            model = d.pop("model_")
            d["estimators_"] = list(model.estimators_) if model is not None else []
        self.__dict__.update(d)


def _classes(state: Any, fmt: str, n_classes: int) -> tuple[dict[int, float], list[int]]:
    """The constant classes (class -> 0 or 1) and the fitted ones that ``state`` names; ValueError
    unless it is a ``fmt`` state splitting the ``n_classes`` classes between the two, with one
    stored classifier per fitted class."""
    if not isinstance(state, dict) or state.get("format") != fmt:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"expected classifiers stored as '{fmt}', found {found!r}")
    constant, fitted, blobs = state.get("constant"), state.get("fitted"), state.get("estimators")
    if not (isinstance(constant, dict) and all(v in (0.0, 1.0) for v in constant.values())
            and isinstance(fitted, list) and sorted([*constant, *fitted]) == list(range(n_classes))
            and isinstance(blobs, list) and len(blobs) == len(fitted) and all(isinstance(b, bytes) for b in blobs)):
        raise ValueError(f"expected each of {n_classes} classes constant (0 or 1) or fitted, one stored classifier per fitted class")
    return {int(c): float(v) for c, v in constant.items()}, [int(c) for c in fitted]


def check_forest(forest: Any, n_features: int) -> None:
    """ValueError unless ``forest`` is a fitted binary random forest over ``n_features`` inputs
    whose trees :func:`check_tree` accepts."""
    if not (isinstance(forest, RandomForestClassifier) and getattr(forest, "n_features_in_", None) == n_features
            and np.array_equal(getattr(forest, "classes_", ()), [0, 1])):
        raise ValueError(f"expected a fitted random forest for 0/1 over {n_features} inputs, got {type(forest).__name__}")
    for i, tree in enumerate(forest.estimators_):
        nodes = tree.tree_
        check_tree(nodes.children_left, nodes.children_right, nodes.feature, n_features, f"tree {i + 1}")


@register
class RandomForest(BinaryRelevance):
    """Binary-relevance random forest (section 4.1.1); hparams override the forest's arguments."""

    name = "rf"
    source = "cultural-instruments-polyphonic-detection.txt 4.1.1"
    defaults: ClassVar[dict[str, Any]] = {"n_estimators": 100, "max_depth": 6, "n_jobs": 2}
    estimator_format = "skops"

    def estimator(self, seed: int) -> ClassifierMixin:
        return RandomForestClassifier(**{**self.defaults, **self.hparams}, random_state=seed)

    def dump_estimator(self, estimator: ClassifierMixin) -> bytes:
        import skops.io  # a second to import: only when a forest is written or read

        return skops.io.dumps(estimator, compression=zipfile.ZIP_DEFLATED)  # a tenth of the size stored

    def load_estimator(self, data: bytes) -> ClassifierMixin:
        import skops.io

        unknown = sorted(set(skops.io.get_untrusted_types(data=data)) - set(REVIEWED_TYPES))
        if unknown:
            raise ValueError(f"the forest holds types saz does not load: {', '.join(unknown)}")
        forest = skops.io.loads(data, trusted=list(REVIEWED_TYPES))
        check_forest(forest, self.n_features)
        return forest
