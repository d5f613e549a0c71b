"""The timeline's scores against frame annotations: a generated case with a known answer, the
MedleyDB fixture through `saz evaluate`'s scoring, and a CSV manifest's activity end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import tone
from saz.evaluation.timeline import reference_events, segment_grid, timeline_scores
from saz.prediction import Prediction

SR = 22050
MEDLEYDB = Path(__file__).resolve().parent.parent / "fixtures" / "medleydb"


def windows(tar: list[float], ney: list[float]) -> Prediction:
    """A 10-s Prediction of tar and ney from 1-s windows, 1-s hop (thresholds 0.5)."""
    wp = np.array([tar, ney], np.float32).T
    return Prediction("x.wav", ["tar", "ney"], np.full(2, 0.5, np.float32), 10.0, 1.0, 1.0, wp.max(0),
                      np.arange(10.0), wp)


def test_reference_events_and_segment_grid():
    act = np.zeros((100, 2), np.float32)  # 10 frames a second
    act[:40, 0], act[60:65, 0], act[:, 1] = 0.8, 0.5, np.nan
    tar, ney = reference_events(act, 10.0)
    np.testing.assert_allclose(tar, [[0.0, 4.0], [6.0, 6.5]])
    assert ney is None
    assert segment_grid(tar, 10).tolist() == [True] * 4 + [False, False, True] + [False] * 3
    assert segment_grid(np.array([[0.5, 2.0000000001]]), 4).tolist() == [True, True, False, False]


def test_a_generated_timeline_with_a_known_answer():
    """Clip 1: tar plays 0-4 s, saz finds it 0-5 s (an onset on time, the offset within half the
    length): 4 segments right, one inserted; the event found. Clip 2: tar plays 2-3 s, saz says
    0-5 s: 1 segment right, 4 inserted; the event missed (onset 2 s off) and one false. ney is
    unknown in the annotations (NaN): its detections count nowhere."""
    acts = np.zeros((2, 100, 2), np.float32)
    acts[0, :40, 0], acts[1, 20:30, 0], acts[:, :, 1] = 1.0, 1.0, np.nan
    found = windows([0.9] * 5 + [0.1] * 5, [0.9] * 10)
    t = timeline_scores([found, found, None], np.concatenate([acts, acts[:1]]), 10.0, np.full(2, 0.5, np.float32))
    assert t["clips"] == 2
    seg, ev = t["segment_based"], t["event_based"]
    assert (seg["precision"], seg["recall"], seg["f1"]) == pytest.approx((0.5, 1.0, 2 / 3))
    assert (seg["substitutions"], seg["deletions"], seg["insertions"], seg["reference"]) == (0, 0, 5, 5)
    assert seg["error_rate"] == pytest.approx(1.0)
    assert (ev["precision"], ev["recall"], ev["f1"], ev["error_rate"], ev["reference"]) == pytest.approx((0.5, 0.5, 0.5, 1.0, 2))
    assert t["per_class"] == [{"name": "tar", "segment_f1": pytest.approx(2 / 3), "event_f1": 0.5, "reference_events": 2}]
    # the report's thresholds decide, not the prediction's own: at 0.95 nothing is found
    none = timeline_scores([found], acts[:1], 10.0, np.full(2, 0.95, np.float32))
    assert none["segment_based"]["recall"] == 0.0 and none["segment_based"]["deletions"] == 4
    assert timeline_scores([found], np.full((1, 100, 2), np.nan, np.float32), 10.0, np.full(2, 0.5)) is None


def test_medleydb_activity_is_scored_in_the_report(tmp_path):
    from saz.datasets import load
    from saz.evaluation.scoring import align_labels, evaluate_checkpoint
    from saz.prediction import load_predictor, predict

    pred, ds = load_predictor("default"), load("medleydb", MEDLEYDB)
    r = evaluate_checkpoint(pred, ds, tmp_path, progress=False)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["timeline"] == r.timeline and r.timeline["clips"] == 1
    act, _ = align_labels(ds.labels.activity[0], ds.vocab, pred.vocab)  # the mix's activity in the model's classes
    playing = [pred.vocab.names[j] for j in range(len(pred.vocab)) if (np.nan_to_num(act[:, j]) >= 0.5).any()]
    assert sorted(c["name"] for c in r.timeline["per_class"] if c["reference_events"]) == sorted(playing)
    found = {s.instrument for s in predict(ds.clips["path"][0], model=pred).segments}  # the 2-s mix is one window
    assert r.timeline["event_based"]["precision"] == pytest.approx(len(found & set(playing)) / len(found))
    assert "## Timeline" in (tmp_path / "report.md").read_text()


def test_csv_activity_end_to_end_and_no_timeline_without_it(profiled, tmp_path):
    """A 6-s tone whose tar plays 0-3 s by its activity file, ney never (daf unknown); with every
    threshold 0 saz finds all three all along: segments 3 right, 9 inserted; no event matched."""
    from saz.datasets import load
    from saz.evaluation.scoring import evaluate_checkpoint
    from saz.models.predictor import Predictor

    sf.write(tmp_path / "a.wav", tone(SR, 6.0), SR)
    act = np.zeros((60, 3), np.float32)
    act[:30, 0], act[:, 2] = 1.0, np.nan
    np.save(tmp_path / "a.npy", act)
    (tmp_path / "timed.csv").write_text("clip_id,path,tar,ney,daf,activity,frame_rate\na,a.wav,1,0,,a.npy,10\n")
    (tmp_path / "plain.csv").write_text("clip_id,path,tar,ney,daf\na,a.wav,1,0,\n")
    pred = Predictor.load(profiled)
    r = evaluate_checkpoint(pred, load("csv", tmp_path / "timed.csv", classes=["tar", "ney", "daf"]), tmp_path / "timed", progress=False, profile="everything")
    seg, ev = r.timeline["segment_based"], r.timeline["event_based"]
    assert (seg["f1"], seg["insertions"], seg["error_rate"]) == (pytest.approx(0.4), 9, 3.0)
    assert (ev["f1"], ev["reference"], ev["error_rate"]) == (0.0, 1, 3.0)
    plain = evaluate_checkpoint(pred, load("csv", tmp_path / "plain.csv", classes=["tar", "ney", "daf"]), tmp_path / "plain", progress=False)
    assert plain.timeline is None and "timeline" not in json.loads((tmp_path / "plain" / "report.json").read_text())
    assert "## Timeline" not in (tmp_path / "plain" / "report.md").read_text()


def test_saz_evaluate_says_the_timeline_scores(cli, tmp_path):
    r = cli("evaluate", "default", "-d", "medleydb", "-r", MEDLEYDB, "--split", "all", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    t = json.loads((tmp_path / "report.json").read_text())["timeline"]
    seg, ev = t["segment_based"], t["event_based"]
    assert r.stdout.splitlines()[-1] == (f"timeline of 1 clip(s) with frame activity: segment-based F1 {seg['f1']:.3f}, "
                                         f"error rate {seg['error_rate']:.3f}; event-based F1 {ev['f1']:.3f}, "
                                         f"error rate {ev['error_rate']:.3f}")
