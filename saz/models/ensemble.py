"""Ensembles: one checkpoint whose probabilities join those of several whole checkpoints.

An *ensemble* checkpoint (``kind`` "ensemble") holds member checkpoints of one feature, clip
length and vocabulary, each with its own input standardisation; its probabilities (clip and
frame) combine the members' by :data:`COMBINE` (the mean, or the maximum, which lets one member
that knows a sound speak for it), and it has per-class thresholds of its own, tuned on
validation clips when it is built (:func:`ensemble`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from saz import metrics
from saz._version import __version__

if TYPE_CHECKING:  # checkpoint.py reads COMBINE from here, so this module needs neither at run time
    from saz.models.checkpoint import Checkpoint
    from saz.models.predictor import Predictor

COMBINE: dict[str, Callable[..., np.ndarray]] = {"mean": np.mean, "max": np.max}  # how members' probabilities join


def combination(name: str) -> Callable[..., np.ndarray]:
    """The function that joins members' probabilities for ``name`` (a key of :data:`COMBINE`);
    ValueError naming the choices for anything else."""
    if name not in COMBINE:
        raise ValueError(f"unknown ensemble combination '{name}' (choose from {', '.join(COMBINE)})")
    return COMBINE[name]


def ensemble(members: Sequence[Predictor], X_val: np.ndarray, y_val: np.ndarray, info: dict[str, Any],
             combine: str = "mean") -> Checkpoint:
    """An ensemble checkpoint of the loaded ``members``: probabilities joined by ``combine`` (a key
    of :data:`COMBINE`), per-class thresholds tuned on validation features ``X_val`` / labels
    ``y_val``; ``info`` describes it (its validation scores are added). ValueError for fewer than
    two members or members that differ in feature, clip length or vocabulary."""
    join = combination(combine)
    if len(members) < 2:
        raise ValueError("an ensemble needs at least two checkpoints")
    first = members[0].checkpoint
    for i, m in enumerate(members[1:], 2):
        for what, mine, theirs in (("feature", m.checkpoint.feature, first.feature),
                                   ("seconds", m.checkpoint.seconds, first.seconds),
                                   ("vocabulary", m.checkpoint.vocabulary, first.vocabulary)):
            if mine != theirs:
                raise ValueError(f"member {i} differs from member 1 in its {what}: an ensemble joins like with like")
    p_val = join([m.probabilities(X_val) for m in members], axis=0)
    thresholds = metrics.tune_thresholds(y_val, p_val)
    val = metrics.evaluate(y_val, p_val, first.vocabulary, thresholds)
    # built from the first member: an ensemble shares its feature, clip length and vocabulary
    return dataclasses.replace(
        first, kind="ensemble", saz_version=__version__, source="<memory>",
        model={"name": "ensemble", "members": [m.checkpoint.name for m in members], "combine": combine},
        thresholds=tuple(float(t) for t in thresholds), norm=None, state_dict=None, estimator=None,
        members=tuple(m.checkpoint for m in members), threshold_profiles={}, window_thresholds=None,
        info={**info, "validation": val.subset("micro", "macro", "map")})
