"""XGBoost with binary relevance on the 52 clip statistics.

cultural-instruments-polyphonic-detection.txt 4.1.2: ``MultiOutputClassifier`` around XGBoost
with the training parameters of Liu et al. (2022): 100 estimators, learning rate 0.05, maximum
depth 6, subsample 0.8, minimum child weight 1, ``logloss`` as evaluation metric. xgboost is an
optional dependency (``pip install saz[xgb]``), imported only when a model is fitted or read.

A fitted booster is stored in XGBoost's own UBJSON format (data, not code), and checked when read
(:func:`check_booster`): XGBoost follows a tree's node indices without bounds checks.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any, ClassVar

from sklearn.base import ClassifierMixin

from saz.models.base import register
from saz.models.rf import BinaryRelevance, check_tree


def _xgboost() -> ModuleType:
    """The xgboost module, or ImportError saying how to install it."""
    try:
        import xgboost
    except ImportError as e:
        raise ImportError("the 'xgb' model needs xgboost: pip install saz[xgb]") from e
    return xgboost


def check_booster(model: dict[str, Any], n_features: int) -> None:
    """ValueError unless ``model`` (a booster as XGBoost's JSON) is a tree ensemble scoring one
    binary target over ``n_features`` inputs, every tree of it walkable (:func:`check_tree`)
    without categorical splits, as :meth:`XGBoost.fit` makes them."""
    learner = model["learner"]
    param, booster = learner["learner_model_param"], learner["gradient_booster"]
    if (learner["objective"]["name"] != "binary:logistic" or booster["name"] != "gbtree"
            or int(param["num_feature"]) != n_features or int(param["num_class"]) != 0 or int(param.get("num_target", 1)) != 1):
        raise ValueError(f"expected a binary:logistic gbtree over {n_features} inputs, got {learner['objective']['name']} "
                         f"{booster['name']} over {param['num_feature']}")
    trees, groups = booster["model"]["trees"], booster["model"]["tree_info"]
    if len(groups) != len(trees) or any(groups):
        raise ValueError("trees assigned to outputs other than the one binary target")
    for i, tree in enumerate(trees, 1):
        if any(tree["split_type"]):
            raise ValueError(f"tree {i}: categorical splits")
        check_tree(tree["left_children"], tree["right_children"], tree["split_indices"], n_features, f"tree {i}")


@register
class XGBoost(BinaryRelevance):
    """Binary-relevance XGBoost (section 4.1.2); hparams override the booster's arguments."""

    name = "xgb"
    source = "cultural-instruments-polyphonic-detection.txt 4.1.2"
    defaults: ClassVar[dict[str, Any]] = {
        "n_estimators": 100,
        "learning_rate": 0.05,
        "max_depth": 6,
        "subsample": 0.8,
        "min_child_weight": 1,
        "eval_metric": "logloss",
        "n_jobs": 2,
    }
    estimator_format = "xgboost-ubj"

    def estimator(self, seed: int) -> ClassifierMixin:
        return _xgboost().XGBClassifier(**{**self.defaults, **self.hparams}, random_state=seed)

    def dump_estimator(self, estimator: ClassifierMixin) -> bytes:
        return bytes(estimator.get_booster().save_raw("ubj"))

    def load_estimator(self, data: bytes) -> ClassifierMixin:
        classifier = self.estimator(seed=0)  # its settings (threads) for prediction; the booster comes from data
        classifier.load_model(bytearray(data))
        check_booster(json.loads(classifier.get_booster().save_raw("json")), self.n_features)
        return classifier
