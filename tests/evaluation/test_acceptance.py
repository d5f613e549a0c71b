"""The rule a candidate must pass to replace the shipped default."""

from __future__ import annotations

import numpy as np

from saz import io
from saz.evaluation.acceptance import TESTS, refusals
from saz.metrics import evaluate


def write_run(folder, y_true, y_prob):
    report = evaluate(y_true, y_prob, ["a", "b", "c"], 0.5).to_dict()
    report["run"] = {"model": folder.parent.name, "seed": 0, "checkpoint": "x.pt", "dataset": "d", "root": ".",
                     "protocol": "hard"}
    io.write_json(folder / "report.json", report)
    np.savez(folder / "predictions.npz", ids=np.arange(len(y_true)).astype(str), y_true=y_true, y_prob=y_prob,
             thresholds=np.full(y_true.shape[1], 0.5, np.float32), classes=np.array(["a", "b", "c"]))


def runs(tmp_path, candidate_noise: float):
    rng = np.random.default_rng(0)
    y = (rng.random((200, 3)) < 0.4).astype(np.float32)
    good = np.clip(y * 0.8 + 0.1 + rng.normal(0, 0.05, y.shape), 0, 1).astype(np.float32)
    cand = np.clip(y * 0.8 + 0.1 + rng.normal(0, candidate_noise, y.shape), 0, 1).astype(np.float32)
    for test in TESTS:
        for who, p in (("candidate", cand), ("shipped", good)):
            (tmp_path / who / test).mkdir(parents=True)
            write_run(tmp_path / who / test, y, p)
    return tmp_path / "candidate", tmp_path / "shipped"


SHIPPED = {"v1_macro_f1": 0.62, "real_single_top1": 0.65, "real_poly_macro_f1_present": 0.46}


def test_a_candidate_as_good_and_better_on_real_polyphony_passes(tmp_path):
    cand, ship = runs(tmp_path, 0.05)
    better = {**SHIPPED, "real_poly_macro_f1_present": 0.50}
    assert refusals(better, SHIPPED, cand, ship) == []


def test_a_candidate_is_refused_for_each_reason(tmp_path):
    cand, ship = runs(tmp_path, 0.45)  # much noisier probabilities: significantly worse on every test
    worse = {"v1_macro_f1": 0.55, "real_single_top1": 0.70, "real_poly_macro_f1_present": 0.46}
    reasons = refusals(worse, SHIPPED, cand, ship)
    assert reasons[0] == "v1_macro_f1 0.550 under the target 0.6"
    assert sum("significantly lower" in r for r in reasons) == len(TESTS)
    assert reasons[-1] == "real poly macro F1 0.460 not above the shipped 0.460"
