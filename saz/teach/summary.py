"""One line per taught class: what ``saz teach`` prints and the web page's teach job answers
(the no-forgetting check's lines are the check's own: :func:`saz.teach.checkset.forgetting_lines`)."""

from __future__ import annotations

from typing import Any


def class_line(row: dict[str, Any]) -> str:
    """A taught class of :attr:`TeachResult.classes`: its name, kind, recordings, CV scores and threshold."""
    cv = "no CV (one recording)" if row["ap"] is None else f"CV AP {row['ap']:.2f} F1 {row['f1']:.2f}"
    return f"{row['class']:<16} {row['kind']:<7} {row['recordings']:>3} rec.  {cv}  threshold {row['threshold']:.2f}"
