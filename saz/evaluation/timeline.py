"""Scores of the timeline against frame annotations: when saz says an instrument plays, against
when a dataset's frame activity says it does (MedleyDB's activation confidence, saz-bench's
activity, a CSV manifest's ``activity`` files).

*Reference events* are, per clip and class, the runs of frames whose activity is at least
:data:`ACTIVE`; a class whose activity is unknown (NaN) all through a clip is left out there.
*Estimated events* are the :attr:`saz.prediction.Prediction.segments` of the clip, read with the
thresholds the rest of the report uses. Two standard views (Mesaros, Heittola and Virtanen,
"Metrics for polyphonic sound event detection", 2016; the definitions of ``sed_eval``):

* **segment-based**: time is cut into :data:`SEGMENT_SECONDS` segments and a class is active in
  a segment when one of its events overlaps it; true and false positives and negatives count
  (segment, class) pairs. Error rate ``(S + D + I) / N``, per segment ``S = min(FN, FP)``,
  ``D = max(0, FN - FP)``, ``I = max(0, FP - FN)``, ``N`` the active reference pairs;
* **event-based**: an estimated event matches a reference event of its class when its onset
  lies within :data:`COLLAR` of the reference's and its offset within ``max(COLLAR,
  OFFSET_RATIO × the reference's length)`` (matched by ``mir_eval.transcription.match_notes``);
  error rate ``(D + I) / N`` with ``N`` the reference events (events of
  other classes are never matched, so there are no substitutions).

A timeline drawn from 5-s windows is coarse: its segments start and end on the windows' grid,
so the event-based scores, whose collar is DCASE's 200 ms, are strict for it by design.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from saz.metrics import prf_from_counts
from saz.prediction import Prediction, runs

SEGMENT_SECONDS = 1.0  # DCASE's segment length for segment-based scores
COLLAR = 0.2  # seconds: DCASE's onset collar for event-based scores
OFFSET_RATIO = 0.5  # an offset may miss by this share of the reference event's length (or COLLAR)
ACTIVE = 0.5  # frame activity at or above this: the instrument plays (MedleyDB's activation threshold)
_ROUNDING = 1e-6  # segments: an event ending this little past a segment's start does not reach into it


def reference_events(activity: np.ndarray, frame_rate: float) -> list[np.ndarray | None]:
    """Per class of ``activity`` (frames, classes): the (n, 2) onsets and offsets in seconds of its
    runs of active frames, or None where the clip does not know it (NaN in every frame)."""
    out: list[np.ndarray | None] = []
    for column in activity.T:
        if np.isnan(column).all():
            out.append(None)
            continue
        out.append(np.array([(r.start / frame_rate, r.stop / frame_rate) for r in runs(np.nan_to_num(column) >= ACTIVE)],
                            dtype=float).reshape(-1, 2))
    return out


def estimated_events(pred: Prediction) -> list[np.ndarray]:
    """Per class of ``pred``: the (n, 2) starts and ends in seconds of its segments."""
    spans: list[list[tuple[float, float]]] = [[] for _ in pred.classes]
    for s in pred.segments:
        spans[pred.classes.index(s.instrument)].append((s.start, s.end))
    return [np.array(x, dtype=float).reshape(-1, 2) for x in spans]


def segment_grid(events: np.ndarray, n_segments: int) -> np.ndarray:
    """Which of ``n_segments`` consecutive :data:`SEGMENT_SECONDS` segments the ``events`` (n, 2)
    overlap."""
    grid = np.zeros(n_segments, bool)
    for onset, offset in events:
        grid[int(onset // SEGMENT_SECONDS):int(np.ceil(offset / SEGMENT_SECONDS - _ROUNDING))] = True
    return grid


def matched_events(ref: np.ndarray, est: np.ndarray) -> int:
    """How many of ``est`` match one of ``ref`` each (onset within :data:`COLLAR`, offset within
    ``max(COLLAR, OFFSET_RATIO × length)``): mir_eval's note matching with one pitch for all, so
    that only time decides."""
    from mir_eval.transcription import match_notes

    return len(match_notes(ref, np.full(len(ref), 440.0), est, np.full(len(est), 440.0), onset_tolerance=COLLAR,
                           offset_ratio=OFFSET_RATIO, offset_min_tolerance=COLLAR))


class _Counts:
    """Segment- and event-based counts summed over clips, per class and per segment."""

    def __init__(self, n_classes: int) -> None:
        self.segment = np.zeros((3, n_classes), np.int64)  # tp, fp, fn per class
        self.event = np.zeros((3, n_classes), np.int64)
        self.sdi = np.zeros(3, np.int64)  # segment-based substitutions, deletions, insertions
        self.clips = 0

    def add(self, refs: list[np.ndarray | None], ests: list[np.ndarray], duration: float) -> None:
        """Count one clip: its reference and estimated events per class (None: class unknown there)."""
        known = [j for j, r in enumerate(refs) if r is not None]
        if not known:
            return
        self.clips += 1
        n = max(1, int(np.ceil(duration / SEGMENT_SECONDS - _ROUNDING)))
        ref = np.stack([segment_grid(refs[j], n) for j in known], axis=1)  # (segments, known classes)
        est = np.stack([segment_grid(ests[j], n) for j in known], axis=1)
        outcomes = np.stack([ref & est, est & ~ref, ref & ~est])  # tp, fp, fn
        self.segment[:, known] += outcomes.sum(axis=1)
        fp, fn = outcomes[1].sum(axis=1), outcomes[2].sum(axis=1)
        self.sdi += [np.minimum(fn, fp).sum(), np.maximum(0, fn - fp).sum(), np.maximum(0, fp - fn).sum()]
        for j in known:
            tp = matched_events(refs[j], ests[j])
            self.event[:, j] += [tp, len(ests[j]) - tp, len(refs[j]) - tp]


def _summary(counts: np.ndarray, errors: int) -> dict[str, Any]:
    """Precision, recall, F1 and error rate (``errors`` over the reference count) of the summed
    ``counts`` (tp, fp, fn); F1 0 where it is undefined, as for the clip scores."""
    tp, fp, fn = (np.float64(c) for c in counts)
    p, r, f = prf_from_counts(tp, fp, fn)
    n = int(tp + fn)
    return {"precision": float(p), "recall": float(r), "f1": float(f), "error_rate": errors / n if n else None,
            "reference": n}


def _report(counts: _Counts, classes: list[str]) -> dict[str, Any]:
    """The ``timeline`` entry of report.json from the summed counts."""
    ev = counts.event.sum(axis=1)
    s, d, i = (int(x) for x in counts.sdi)
    scored = [j for j in range(len(classes)) if counts.segment[:, j].any() or counts.event[:, j].any()]
    return {
        "clips": counts.clips, "active_at": ACTIVE,
        "segment_based": {"segment_seconds": SEGMENT_SECONDS, **_summary(counts.segment.sum(axis=1), s + d + i),
                          "substitutions": s, "deletions": d, "insertions": i},
        "event_based": {"collar": COLLAR, "offset_ratio": OFFSET_RATIO, **_summary(ev, int(ev[1] + ev[2]))},
        "per_class": [{"name": classes[j], "segment_f1": _summary(counts.segment[:, j], 0)["f1"],
                       "event_f1": _summary(counts.event[:, j], 0)["f1"],
                       "reference_events": int(counts.event[0, j] + counts.event[2, j])} for j in scored],
    }


def timeline_scores(predictions: list[Prediction | None], activity: np.ndarray, frame_rate: float,
                    thresholds: np.ndarray) -> dict[str, Any] | None:
    """Segment- and event-based scores of ``predictions`` (one per clip, None for a clip not
    scored) against ``activity`` (clips, frames, classes in the predictions' class order),
    the segments read with ``thresholds``: the ``timeline`` entry of report.json; None when no
    clip has the activity of any of those classes."""
    classes: list[str] = []
    counts: _Counts | None = None
    for pred, act in zip(predictions, activity):
        if pred is None or not pred.ok:
            continue
        classes, counts = pred.classes, counts or _Counts(len(pred.classes))
        counts.add(reference_events(act, frame_rate), estimated_events(replace(pred, thresholds=thresholds)), pred.duration)
    return _report(counts, classes) if counts is not None and counts.clips else None
