"""One line per taught class and one for the no-forgetting check: what ``saz teach`` prints and the web page shows."""

from __future__ import annotations

from typing import Any


def class_line(row: dict[str, Any]) -> str:
    """A taught class of :attr:`TeachResult.classes`: its name, kind, recordings, CV scores and threshold."""
    cv = "no CV (one recording)" if row["ap"] is None else f"CV AP {row['ap']:.2f} F1 {row['f1']:.2f}"
    return f"{row['class']:<16} {row['kind']:<7} {row['recordings']:>3} rec.  {cv}  threshold {row['threshold']:.2f}"


def check_line(check: dict[str, Any]) -> str:
    """The no-forgetting check of :attr:`TeachResult.check`, in words."""
    return (f"no forgetting ({check['clips']} check clips): base classes' probabilities changed by at most "
            f"{check['max_change']:.1e}, macro F1 {check['macro_f1_change']:+.3f} against the base's own decisions")
