"""Models, one module each, found by name: ``saz.models.build(name, input_shape, n_classes)``."""

import importlib
import pkgutil

from saz.models.base import MODELS, SklearnModel, TorchModel, build, count_parameters, get_model_class, register

_HELPERS = {"base", "bundled", "train", "checkpoint", "normalizer", "ensemble", "predictor", "inference", "layers", "augment", "describe"}
for _m in pkgutil.iter_modules(__path__):
    if _m.name not in _HELPERS:
        importlib.import_module(f"{__name__}.{_m.name}")

__all__ = ["MODELS", "SklearnModel", "TorchModel", "build", "count_parameters", "get_model_class", "register"]
