"""Metrics against scikit-learn on the same inputs and against hand-computed cases."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (accuracy_score, average_precision_score, hamming_loss, label_ranking_average_precision_score,
                             mean_squared_error, precision_recall_fscore_support, r2_score, roc_auc_score)

from saz.metrics import (ClassScore, Evaluation, EvaluationRun, annotator_agreement, bootstrap_intervals, evaluate,
                         fpr_thresholds, paired_bootstrap, top1_hits, tune_thresholds)

NAMES = [f"c{i}" for i in range(5)]


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    y = (rng.random((300, 5)) < [0.1, 0.3, 0.5, 0.2, 0.4]).astype(np.float32)
    p = np.clip(0.45 * y + 0.6 * rng.random(y.shape), 0, 1)
    return y, p


def test_hard_labels_equal_sklearn(data):
    y, p = data
    r = evaluate(y, p, NAMES)
    pred = (p >= 0.5).astype(int)
    for avg in ("micro", "macro", "weighted", "samples"):
        pr, rc, f1, _ = precision_recall_fscore_support(y, pred, average=avg, zero_division=0)
        assert getattr(r, avg).precision == pytest.approx(pr) and getattr(r, avg).recall == pytest.approx(rc)
        assert getattr(r, avg).f1 == pytest.approx(f1)
    assert r.map == pytest.approx(average_precision_score(y, p, average="macro"))
    assert r.roc_auc == pytest.approx(roc_auc_score(y, p, average="macro"))
    assert r.subset_accuracy == pytest.approx(accuracy_score(y, pred))
    assert r.label_accuracy == pytest.approx(1 - hamming_loss(y, pred))
    has_pos = y.any(axis=1)
    assert r.lrap == pytest.approx(label_ranking_average_precision_score(y[has_pos], p[has_pos]))
    _, _, f_c, s_c = precision_recall_fscore_support(y, pred, average=None, zero_division=0)
    assert [c.f1 for c in r.per_class] == pytest.approx(list(f_c))
    assert [c.support for c in r.per_class] == list(s_c)
    assert r.kind == "hard" and r.mse is None and "mse" not in r.to_dict()


def test_hand_computed_case():
    y = np.array([[1, 0], [1, 1], [0, 0], [0, 1]], dtype=np.float32)
    p = np.array([[0.9, 0.2], [0.4, 0.8], [0.6, 0.1], [0.3, 0.7]])
    r = evaluate(y, p, ["a", "b"])
    # class a: tp=1 (clip0) fp=1 (clip2) fn=1 (clip1) -> P=R=F1=0.5 ; class b: tp=2, fp=0, fn=0 -> 1
    assert [c.f1 for c in r.per_class] == pytest.approx([0.5, 1.0])
    assert r.micro.f1 == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    assert r.macro.f1 == pytest.approx(0.75)
    assert r.subset_accuracy == pytest.approx(0.5)  # clips 0 and 3 fully right
    assert r.per_class[0].ap == pytest.approx((1 + 2 / 3) / 2)  # ranking a: 0.9+,0.6-,0.4+,0.3-


HAND_REPORT = {  # the report.json layout of the hand-computed case, keys in their order (as saz wrote it before typing)
    "kind": "hard", "n_clips": 4, "n_classes": 2, "micro": {"precision": 0.75, "recall": 0.75, "f1": 0.75},
    "macro": {"precision": 0.75, "recall": 0.75, "f1": 0.75}, "weighted": {"precision": 0.75, "recall": 0.75, "f1": 0.75},
    "samples": {"precision": 0.75, "recall": 0.625, "f1": 2 / 3}, "label_accuracy": 0.75, "subset_accuracy": 0.5,
    "map": 0.9166666666666666, "roc_auc": 0.875, "lrap": 1.0,
    "per_class": [{"class": "a", "known": 4, "support": 2, "precision": 0.5, "recall": 0.5, "f1": 0.5, "ap": 0.8333333333333333,
                   "roc_auc": 0.75, "accuracy": 0.5, "mse": None, "r2": None},
                  {"class": "b", "known": 4, "support": 2, "precision": 1.0, "recall": 1.0, "f1": 1.0, "ap": 1.0, "roc_auc": 1.0,
                   "accuracy": 1.0, "mse": None, "r2": None}],
    "no_positive_classes": [],
}
RUN = {"model": "saznet", "seed": 0, "checkpoint": "m.pt", "dataset": "csv", "root": "/d", "protocol": "hard",
       "long_clips": "windows", "windowed_clips": 1, "dropped_classes": ["x"], "skipped_clips": ["c.wav: empty file"]}


def test_typed_result_writes_the_report_json_layout_and_reads_it_back():
    y = np.array([[1, 0], [1, 1], [0, 0], [0, 1]], dtype=np.float32)
    p = np.array([[0.9, 0.2], [0.4, 0.8], [0.6, 0.1], [0.3, 0.7]])
    r = evaluate(y, p, ["a", "b"])
    assert isinstance(r, Evaluation) and isinstance(r.per_class[0], ClassScore) and r.per_class[1].name == "b"
    d = r.to_dict()
    assert json.dumps(d) == json.dumps(HAND_REPORT)  # same keys, same order, same numbers
    assert Evaluation.from_dict(d) == r and Evaluation.from_dict(json.loads(json.dumps(d))) == r
    r.run = EvaluationRun(**RUN)
    assert json.dumps(r.to_dict()) == json.dumps({**HAND_REPORT, "run": RUN})
    assert Evaluation.from_dict(r.to_dict()).run == r.run
    old = {k: v for k, v in RUN.items() if k not in ("long_clips", "windowed_clips")}  # a report older than those keys
    assert Evaluation.from_dict({**HAND_REPORT, "run": old}).to_dict()["run"] == old
    assert r.subset("macro", "mse", "map") == {"macro": HAND_REPORT["macro"], "map": HAND_REPORT["map"]}


def test_soft_result_keeps_mse_and_r2_where_the_report_had_them():
    rng = np.random.default_rng(4)
    soft = rng.choice([0, 0.25, 0.75, 1.0], size=(30, 3)).astype(np.float32)
    r = evaluate(soft, np.clip(soft + rng.normal(0, 0.2, soft.shape), 0, 1), NAMES[:3])
    keys = list(r.to_dict())
    assert keys[keys.index("lrap") + 1:keys.index("per_class")] == ["mse", "r2"]
    assert Evaluation.from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_partial_labels_score_known_entries_only(data):
    y, p = data
    yp = y.copy()
    rng = np.random.default_rng(2)
    hide = rng.random(y.shape) < 0.4
    yp[hide] = np.nan
    r = evaluate(yp, p, NAMES)
    assert r.kind == "partial"
    for j, c in enumerate(r.per_class):
        k = ~hide[:, j]
        pr, rc, f1, _ = precision_recall_fscore_support(y[k, j], p[k, j] >= 0.5, average="binary", zero_division=0)
        assert c.f1 == pytest.approx(f1) and c.known == k.sum()
        assert c.ap == pytest.approx(average_precision_score(y[k, j], p[k, j]))
    known = ~hide
    tp = ((y == 1) & (p >= 0.5) & known).sum()
    fp = ((y == 0) & (p >= 0.5) & known).sum()
    fn = ((y == 1) & (p < 0.5) & known).sum()
    assert r.micro.f1 == pytest.approx(2 * tp / (2 * tp + fp + fn))
    # changing predictions on unknown entries changes nothing
    p2 = p.copy()
    p2[hide] = 1 - p2[hide]
    r2 = evaluate(yp, p2, NAMES)
    assert r2.macro == r.macro and r2.map == r.map


def test_soft_labels_mse_r2_and_binarised_classification():
    rng = np.random.default_rng(3)
    soft = rng.choice([0, 0.5, 0.75, 1.0, 0.25], size=(100, 4)).astype(np.float32)
    p = np.clip(soft + rng.normal(0, 0.2, soft.shape), 0, 1)
    r = evaluate(soft, p, NAMES[:4])
    assert r.kind == "soft"
    assert r.mse == pytest.approx(mean_squared_error(soft, p))
    assert r.r2 == pytest.approx(r2_score(soft, p))
    _, _, f1, _ = precision_recall_fscore_support(soft >= 0.5, p >= 0.5, average="macro", zero_division=0)
    assert r.macro.f1 == pytest.approx(f1)


def test_class_without_positives_is_reported_not_fatal(data):
    y, p = data
    y = y.copy()
    y[:, 0] = 0
    r = evaluate(y, p, NAMES)
    assert r.no_positive_classes == ["c0"]
    assert r.per_class[0].ap is None and r.per_class[0].roc_auc is None
    assert r.map == pytest.approx(np.mean([average_precision_score(y[:, j], p[:, j]) for j in range(1, 5)]))


def test_shape_mismatch_is_clear(data):
    y, p = data
    with pytest.raises(ValueError, match="shapes differ"):
        evaluate(y, p[:, :3], NAMES)


def test_threshold_tuning_raises_f1(data):
    y, p = data
    t = tune_thresholds(y, p)
    assert t.shape == (5,) and ((t >= 0.05) & (t <= 0.95)).all()
    assert evaluate(y, p, NAMES, t).macro.f1 > evaluate(y, p, NAMES).macro.f1
    # a class separable at 0.3 gets a threshold that separates it
    yy = np.array([[0], [0], [1], [1]], dtype=np.float32)
    pp = np.array([[0.1], [0.2], [0.35], [0.4]])
    tt = tune_thresholds(yy, pp)
    assert 0.2 < tt[0] <= 0.35
    assert tune_thresholds(np.zeros((3, 1)), np.ones((3, 1)))[0] == 0.5



def test_fpr_thresholds_follow_the_negatives_only():
    # ten negatives at 0.05..0.50; positives anywhere (they must not matter)
    neg = np.round(np.arange(1, 11) * 0.05, 2)
    y = np.r_[np.zeros(10), np.ones(3), np.nan][:, None]
    p = np.r_[neg, [0.9, 0.2, 0.6], 0.99][:, None]
    assert fpr_thresholds(y, p, 0.0)[0] == pytest.approx(0.51)  # above every negative
    assert fpr_thresholds(y, p, 0.1)[0] == pytest.approx(0.46)  # one negative in ten (0.50) may pass
    assert fpr_thresholds(y, p, 0.3)[0] == pytest.approx(0.36)
    moved = p.copy()
    moved[10:13] = 0.01  # the positives fall: the threshold stays
    assert fpr_thresholds(y, moved, 0.1)[0] == fpr_thresholds(y, p, 0.1)[0]
    # no negative known: the default; negatives above the grid: its top
    assert fpr_thresholds(np.ones((3, 1)), np.ones((3, 1)), 0.1)[0] == 1.0
    assert fpr_thresholds(np.zeros((3, 1)), np.ones((3, 1)), 0.1)[0] == pytest.approx(0.95)


def test_paired_bootstrap_detects_a_better_model_and_not_a_twin(data):
    y, p = data
    rng = np.random.default_rng(5)
    worse = np.clip(0.15 * y + 0.8 * rng.random(y.shape), 0, 1)
    res = paired_bootstrap(y, p, worse, n_boot=500, seed=0)
    for m in ("macro_f1", "map"):
        assert res[m]["diff"] > 0 and res[m]["ci"][0] > 0 and res[m]["p"] < 0.01
    assert res["macro_f1"]["a"] == pytest.approx(evaluate(y, p, NAMES).macro.f1)
    assert res["map"]["a"] == pytest.approx(evaluate(y, p, NAMES).map, abs=1e-9)
    same = paired_bootstrap(y, p, p, n_boot=200)
    assert same["macro_f1"]["diff"] == 0 and same["macro_f1"]["p"] == 1.0
    again = paired_bootstrap(y, p, worse, n_boot=500, seed=0)
    assert again == res


def test_bootstrap_intervals_bracket_the_score_and_narrow_with_more_clips(data):
    y, p = data
    y = y.copy()
    y[:, 0] = 0  # a class that never occurs: left out of the macro F1, as the report's "present" score does
    iv = bootstrap_intervals(y, p, 0.5, n_boot=400, seed=1)
    point = evaluate(y, p, NAMES, 0.5).macro_f1_present
    assert iv["macro_f1_present"][0] < point < iv["macro_f1_present"][1]
    assert iv["top1"][0] < top1_hits(y, p).mean() < iv["top1"][1]
    wide = np.diff(iv["macro_f1_present"])[0]
    more = bootstrap_intervals(np.tile(y, (9, 1)), np.tile(p, (9, 1)), 0.5, n_boot=400, seed=1)
    assert np.diff(more["macro_f1_present"])[0] < 0.6 * wide  # 9x the clips: about a third the width
    assert bootstrap_intervals(y, y, 0.5, n_boot=50)["macro_f1_present"] == [1.0, 1.0]  # a perfect model


def test_annotator_agreement_and_confidence_hand_computed():
    responses = pd.DataFrame({
        "clip": ["e1", "e1", "e1", "e2", "e2", "e3"],
        "instrument": ["tar"] * 3 + ["tar"] * 2 + ["ney"],
        "value": [1.0, 0.75, 0.0, 0.5, 1.0, 0.0],
    })
    t = annotator_agreement(responses).set_index("instrument")
    # e1 binarised 1,1,0: per annotation 1/2, 1/2, 0 -> 1/3 ; e2 binarised 1,1 -> 1 ; tar = (1/3 + 1) / 2
    assert t.loc["tar", "agreement"] == pytest.approx((1 / 3 + 1) / 2)
    # confidence 2|a-0.5|: e1 (1 + 0.5 + 1)/3, e2 (0 + 1)/2
    assert t.loc["tar", "confidence"] == pytest.approx((2.5 / 3 + 0.5) / 2)
    assert np.isnan(t.loc["ney", "agreement"]) and t.loc["ney", "confidence"] == 1.0


def test_top1_hits_ask_whether_the_most_probable_class_plays():
    y = np.array([[1, 0, 0], [0, 1, np.nan], [np.nan, 0, 1], [0.8, 0.1, 0]])
    p = np.array([[0.9, 0.1, 0.0], [0.2, 0.1, 0.9], [0.9, 0.0, 0.1], [0.6, 0.3, 0.1]])
    assert top1_hits(y, p).tolist() == [True, False, False, True]  # unknown (NaN) is not a hit; soft 0.8 plays
