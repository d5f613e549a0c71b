"""Scoring models: checkpoints on datasets, thresholds fitted to labels, runs compared, the real-audio suite.

- :mod:`saz.evaluation.scoring`: a checkpoint on a dataset split, as ``saz evaluate`` runs it.
- :mod:`saz.evaluation.timeline`: the timeline's segments against frame annotations (segment- and event-based).
- :mod:`saz.evaluation.calibration`: threshold profiles and thresholds per prediction window.
- :mod:`saz.evaluation.compare`: runs of several models and seeds side by side, with paired tests.
- :mod:`saz.evaluation.realset`: the ``real`` set of recorded audio (registered as dataset ``real``).
- :mod:`saz.evaluation.suite`: the tests a default model is scored on, and their scores.
- :mod:`saz.evaluation.acceptance`: the rule a candidate must pass to replace the shipped default.
- :mod:`saz.evaluation.card`: the default model's card, written from a template.
"""

from saz.evaluation import realset  # noqa: F401  (registers the ``real`` dataset)
