"""Dataset readers, one module each, found by name: ``saz.datasets.load(name, root)``.

Every module in this package except the helpers registers itself with
:func:`saz.datasets.base.register` on import; adding a dataset means adding one file.
"""

import importlib
import pkgutil

from saz.datasets.base import DATASETS, DESCRIPTIONS, Dataset, DatasetError, load, register

_HELPERS = {"base", "splits", "summary"}
for _m in pkgutil.iter_modules(__path__):
    if _m.name not in _HELPERS:
        importlib.import_module(f"{__name__}.{_m.name}")

__all__ = ["DATASETS", "DESCRIPTIONS", "Dataset", "DatasetError", "load", "register"]
