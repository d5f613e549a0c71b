"""The model the app serves now, and what ``GET /api/model`` says of it; a taught model can replace it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from saz._version import __version__
from saz.vocabulary import outside

if TYPE_CHECKING:
    from saz.prediction import Predictor


def describe(predictor: Predictor, card: str) -> dict:
    """What ``GET /api/model`` says of the model: its classes and thresholds; each threshold
    profile's description and per-class thresholds, those ``/api/predict`` applies at the model's
    window, to the 4 decimals of its probabilities (so that a page reads one answer's probabilities
    with any profile); the instruments of Iranian classical music it has no class for, and those it
    scores under another name (:func:`saz.vocabulary.outside`); its card."""
    missing, scored_as = outside(predictor.vocab)
    profiles = {name: {"about": text, "thresholds": [round(float(t), 4) for t in predictor.thresholds_for(name, predictor.seconds)]}
                for name, text in predictor.profiles.items()}
    return {"name": predictor.name, "version": __version__, "classes": list(predictor.vocab.names),
            "thresholds": [float(t) for t in predictor.thresholds], "profiles": profiles,
            "window_seconds": predictor.seconds, "not_in_vocabulary": missing, "scored_as": scored_as, "card": card}


@dataclass
class Served:
    """The served ``predictor``, the model it was loaded from (``source``: 'default' or a checkpoint
    file) and ``about``, the answer of
    ``GET /api/model`` (:func:`describe` and the server's ``limits``). Requests read it once at
    their start, so one that runs while the model is replaced finishes with the model it began with."""

    predictor: Predictor
    source: str
    card: str
    limits: dict[str, Any]
    taught_by: str | None = None  # the teach job whose model this is

    def __post_init__(self) -> None:
        self.about = describe(self.predictor, self.card) | self.limits | {"taught_by": self.taught_by}

    def replaced(self, predictor: Predictor, source: str, card: str, taught_by: str) -> Served:
        """The same server serving ``predictor`` (loaded from ``source``) instead."""
        return Served(predictor, source, card, self.limits, taught_by)
