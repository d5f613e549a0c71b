"""The labelled clips shipped with ``saz teach``: the no-forgetting check set, the background set, the check.

Both are log-mel clips of the default's input with labels in the default vocabulary, built by
``benchmarks/teach_check_set.py`` and quantised to 8 bits (0.31 dB steps) so they travel in the
package (about 2 MB together):

- ``check_set.npz``, scored at the end of every run: 48 clips of saz-bench v1's ``validation``
  split (FluidR3_GM and MuseScore_General renders) and 48 of the ``real`` set (held-out real
  recordings, alone and mixed, from sources whose licences allow redistribution);
- ``background_set.npz``: 128 clips of saz-bench v1's ``train`` split, which teaching adds to the
  user's examples (ensembles of the base's classes, negatives of a new class, labelled examples
  of a refined one), so a head learns what the base's music sounds like without its instrument.

:func:`forgetting_check` scores the base and the taught model on it with the base's thresholds:
the macro F1 of the base's classes present in each part, before and after teaching. The base's
classes that were not refined keep their probabilities by construction; a refined class can only
gain positives (its probability is the larger of the base's and its head's), so the check is
what says whether teaching it cost anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from saz import io
from saz.metrics import evaluate
from saz.models.predictor import Predictor

CHECK_FILE = Path(__file__).with_name("check_set.npz")
BACKGROUND_FILE = Path(__file__).with_name("background_set.npz")
DB_RANGE = 80.0  # log-mel values lie in [-80, 0] dB (top_db 80, referenced to the clip's maximum)


@dataclass(frozen=True)
class ClipSet:
    """Features ``(n, mels, frames)``, labels ``(n, classes)`` (NaN unknown), the part each clip
    belongs to, the feature config they were computed with, the clip length and the label names."""

    X: np.ndarray
    y: np.ndarray
    part: np.ndarray
    feature: dict[str, Any]
    seconds: float
    classes: tuple[str, ...]

    def save(self, path: str | Path = CHECK_FILE) -> Path:
        """Write the set quantised to 8 bits, atomically."""
        q = np.round(np.clip(-self.X, 0, DB_RANGE) * (255 / DB_RANGE)).astype(np.uint8)
        meta = {"feature": self.feature, "seconds": self.seconds, "classes": list(self.classes)}
        return io.atomic_write(path, lambda f: np.savez_compressed(
            f, q=q, y=self.y.astype(np.float32), part=self.part.astype(str), meta=np.array(json.dumps(meta))))

    @classmethod
    def load(cls, path: str | Path = CHECK_FILE) -> ClipSet:
        with np.load(path) as d:
            meta = json.loads(str(d["meta"]))
            X = -d["q"].astype(np.float32) * (DB_RANGE / 255)
            return cls(X, d["y"], d["part"], meta["feature"], float(meta["seconds"]), tuple(meta["classes"]))

    def fits(self, predictor: Predictor) -> bool:
        """Whether ``predictor`` reads these features: the same feature config and clip length."""
        return predictor.checkpoint.feature == self.feature and abs(predictor.seconds - self.seconds) < 1e-6


def forgetting_check(base: Predictor, taught: Predictor, check: ClipSet, refined: list[int]) -> dict[str, Any]:
    """The base's classes on ``check`` before and after teaching: per part, the macro F1 (classes
    present, the base's thresholds) of base and taught, its change, and the largest probability
    change of the classes not refined; ``macro_f1_change`` is the worst part's change."""
    names = list(base.vocab.names)
    cols = [check.classes.index(n) if n in check.classes else -1 for n in names]
    known = [j for j, c in enumerate(cols) if c >= 0]
    y = check.y[:, [cols[j] for j in known]]
    p0 = base.probabilities(check.X)[:, known]
    p1 = taught.probabilities(check.X)[:, known]
    keep = [i for i, j in enumerate(known) if j not in refined]
    thresholds = np.asarray(base.thresholds)[known]
    parts = {}
    for part in dict.fromkeys(check.part.tolist()):
        m = check.part == part
        before = evaluate(y[m], p0[m], [names[j] for j in known], thresholds).macro_f1_present
        after = evaluate(y[m], p1[m], [names[j] for j in known], thresholds).macro_f1_present
        parts[part] = {"clips": int(m.sum()), "base_macro_f1": round(before, 4), "taught_macro_f1": round(after, 4),
                       "change": round(after - before, 4)}
    out = {"against": "shipped check set (labels)", "clips": len(check.X), "parts": parts,
           "max_change": float(np.abs(p1 - p0)[:, keep].max()) if keep else 0.0,
           "macro_f1_change": min(p["change"] for p in parts.values())}
    return {**out, "lines": forgetting_lines(out)}


def decision_agreement(base: Predictor, taught: Predictor, X: np.ndarray, refined: list[int]) -> dict[str, Any]:
    """How the base's classes changed on features ``X`` without labels (a base that does not read the
    check set's features): the largest probability change of the classes not refined, and the macro
    F1 of the taught model's decisions against the base's own."""
    p0, p1 = base.probabilities(X), taught.probabilities(X)[:, : len(base.vocab)]
    keep = [j for j in range(p0.shape[1]) if j not in refined]
    d0, d1 = p0 >= base.thresholds, p1 >= base.thresholds
    tp, fp, fn = (d0 & d1).sum(0), (~d0 & d1).sum(0), (d0 & ~d1).sum(0)
    f1 = np.where(tp + fp + fn > 0, 2 * tp / np.maximum(1, 2 * tp + fp + fn), 1.0)
    out = {"against": "the base's own decisions on the examples", "clips": len(X),
           "max_change": float(np.abs(p1 - p0)[:, keep].max()) if keep and len(X) else 0.0,
           "macro_f1_change": float(f1[keep].mean() - 1.0) if keep else 0.0,
           "refined_macro_f1_change": float(f1[refined].mean() - 1.0) if refined else None}
    return {**out, "lines": forgetting_lines(out)}


def forgetting_lines(check: dict[str, Any]) -> list[str]:
    """The check of a teach run as the lines ``saz teach`` prints, ``saz models info`` and the web page show."""
    untouched = f"classes not taught: probabilities changed by at most {check['max_change']:.1e}"
    if "parts" not in check:
        return [f"no forgetting ({check['clips']} of your clips, against the base's own decisions): {untouched}, "
                f"macro F1 {check['macro_f1_change']:+.3f}"]
    return ["no forgetting: the base's classes on saz's check set (macro F1 before -> after)",
            *(f"  {name} ({p['clips']} clips): {p['base_macro_f1']:.3f} -> {p['taught_macro_f1']:.3f} ({p['change']:+.3f})"
              for name, p in check["parts"].items()), f"  {untouched}"]
