"""``saz teach``: a new instrument from a few of the user's own recordings, on top of a frozen base model.

:func:`teach` reads the examples (:mod:`saz.teach.examples`), maps each name onto the base's
vocabulary (a known name or alias refines that class, a new one becomes a class), embeds solo
windows and ensemble mixtures with the frozen base, fits one logistic head per taught class
(:mod:`saz.teach.heads`), tunes its threshold by cross-validation grouped by recording, and
returns an ordinary checkpoint of the model ``taught`` (:mod:`saz.models.taught`), with what was
taught and its CV scores in ``info["taught"]``. The base's other classes keep their probabilities
by construction; :func:`forgetting_check` scores the base's classes before and after teaching on
the check set shipped with saz (:mod:`saz.teach.checkset`) at the end of every run.
"""

from saz.teach.examples import TeachError
from saz.teach.checkset import ClipSet, forgetting_check, forgetting_lines
from saz.teach.teacher import TeachResult, plan_classes, teach

__all__ = ["ClipSet", "TeachError", "TeachResult", "forgetting_check", "forgetting_lines", "plan_classes", "teach"]
