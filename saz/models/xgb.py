"""XGBoost with binary relevance on the 52 clip statistics.

cultural-instruments-polyphonic-detection.txt 4.1.2: ``MultiOutputClassifier`` around XGBoost
with the training parameters of Liu et al. (2022): 100 estimators, learning rate 0.05, maximum
depth 6, subsample 0.8, minimum child weight 1, ``logloss`` as evaluation metric. xgboost is an
optional dependency (``pip install saz[xgb]``), imported only when a model is fitted.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sklearn.base import ClassifierMixin

from saz.models.base import register
from saz.models.rf import BinaryRelevance


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

    def estimator(self, seed: int) -> ClassifierMixin:
        try:
            from xgboost import XGBClassifier
        except ImportError as e:
            raise ImportError("the 'xgb' model needs xgboost: pip install saz[xgb]") from e
        return XGBClassifier(**{**self.defaults, **self.hparams}, random_state=seed)
