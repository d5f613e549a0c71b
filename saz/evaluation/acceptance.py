"""The rule a candidate must pass to replace the shipped default model.

Fixed before any candidate is scored: the candidate keeps every target the shipped default meets
(:data:`TARGETS`), no test of the suite finds it significantly worse (paired bootstrap over clips
on macro F1, p < 0.05), and its macro F1 over the classes present on real polyphonic audio is higher.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from saz.evaluation.compare import load_run
from saz.evaluation.suite import TESTS
from saz.metrics import paired_bootstrap

TARGETS = {"v1_macro_f1": 0.60, "real_single_top1": 0.60}  # the targets the shipped default meets
P_VALUE = 0.05


def refusals(candidate: dict[str, Any], shipped: dict[str, Any], candidate_eval: str | Path,
             shipped_eval: str | Path) -> list[str]:
    """Why the candidate may not replace the shipped default (empty: it may). ``candidate`` and
    ``shipped`` are :func:`saz.evaluation.suite.score` results; the ``*_eval`` folders hold the
    evaluation runs those scores came from (one folder per name in :data:`TESTS`)."""
    reasons = [f"{k} {candidate[k]:.3f} under the target {t}" for k, t in TARGETS.items() if shipped[k] >= t > candidate[k]]
    for test in TESTS:
        a, b = load_run(Path(candidate_eval) / test), load_run(Path(shipped_eval) / test)
        r = paired_bootstrap(a["y_true"], a["y_prob"], b["y_prob"], a["thresholds"], b["thresholds"])["macro_f1"]
        if r["diff"] < 0 and r["p"] < P_VALUE:
            reasons.append(f"{test} macro F1 significantly lower ({r['diff']:+.3f}, p = {r['p']:.3f})")
    key = "real_poly_macro_f1_present"
    if candidate[key] <= shipped[key]:
        reasons.append(f"real poly macro F1 {candidate[key]:.3f} not above the shipped {shipped[key]:.3f}")
    return reasons
