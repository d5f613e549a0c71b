"""saz: multi-label musical instrument recognition for the world's music.

``saz.predict(path_or_array, sr=None, model="default")`` says which instruments play in a
recording and when (see :mod:`saz.prediction`); everything else lives in the submodules.
"""

from __future__ import annotations

from saz._version import __version__  # noqa: F401  (saz.__version__)


def predict(path_or_array, sr: int | None = None, model="default", **options):
    """Predict one recording (path or array with ``sr``) with the bundled or a given model;
    returns a :class:`saz.prediction.Prediction` (``.present``, ``.segments``, ``.to_json()``)."""
    from saz.prediction import predict as _predict

    return _predict(path_or_array, sr=sr, model=model, **options)
