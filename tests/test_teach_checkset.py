"""The clip sets shipped with saz teach, and the no-forgetting check on the default (real weights, real check set)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from saz.models.checkpoint import Checkpoint
from saz.models.predictor import Predictor
from saz.prediction import load_predictor
from saz.teach import ClipSet, forgetting_check, teach
from saz.teach.checkset import BACKGROUND_FILE, CHECK_FILE, DB_RANGE
from test_teach import examples


def test_clip_set_round_trip_keeps_features_to_a_third_of_a_db(tmp_path: Path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-DB_RANGE, 0, (3, 4, 5)).astype(np.float32)
    clips = ClipSet(X, np.eye(3, dtype=np.float32), np.array(["a", "a", "b"]), {"feature": "logmel"}, 5.0, ("x", "y", "z"))
    back = ClipSet.load(clips.save(tmp_path / "c.npz"))
    assert np.abs(back.X - X).max() <= DB_RANGE / 255 / 2 + 1e-5
    assert back.classes == clips.classes and list(back.part) == ["a", "a", "b"] and back.feature == clips.feature
    assert not list(tmp_path.glob(".*"))  # written atomically: no temporary file left


def test_shipped_sets_fit_the_default_and_not_other_inputs(model: str):
    default = load_predictor("default")
    check, background = ClipSet.load(CHECK_FILE), ClipSet.load(BACKGROUND_FILE)
    assert {p: int((check.part == p).sum()) for p in set(check.part)} == {"v1-validation": 48, "real": 48}
    assert check.classes == default.vocab.names and check.fits(default) and background.fits(default)
    assert not check.fits(Predictor(Checkpoint.load(model)))  # 2-s clips: the check falls back to the user's clips
    present = {p: int((np.nan_to_num(check.y[check.part == p]).sum(0) > 0).sum()) for p in ("v1-validation", "real")}
    assert present["v1-validation"] >= 15 and present["real"] >= 5  # the free real sources have 7 classes


@pytest.fixture(scope="module")
def refined(tmp_path_factory):
    """The default taught a new instrument and a refined class (sitar) from generated recordings."""
    root = examples(tmp_path_factory.mktemp("ex"), {"kamancheh": "kamancheh", "sitar": "reed"}, recordings=2)
    return teach(root, progress=False)


def test_teaching_the_default_is_checked_on_the_shipped_set(refined):
    check = refined.check
    assert set(check["parts"]) == {"v1-validation", "real"} and check["clips"] == 96
    assert check["max_change"] < 1e-5  # the classes not taught keep their probabilities
    assert check["macro_f1_change"] >= -0.01
    lines = check["lines"]
    assert lines[1].startswith("  v1-validation (48 clips): ") and "probabilities changed by at most" in lines[-1]


def test_the_check_sees_a_refined_class_that_fires_everywhere(refined):
    """A refined head pushed to fire on every clip adds false sitars: the check must report the loss."""
    ckpt = refined.checkpoint
    state = dict(ckpt.state_dict)
    sitar = ckpt.model["hparams"]["targets"].index(list(ckpt.vocabulary.names).index("sitar"))
    state["head.bias"] = state["head.bias"].clone()
    state["head.bias"][sitar] = 50.0
    harmful = Predictor(dataclasses.replace(ckpt, state_dict=state))
    default = load_predictor("default")
    check = forgetting_check(default, harmful, ClipSet.load(CHECK_FILE), refined=[default.vocab.names.index("sitar")])
    assert check["macro_f1_change"] < -0.01
    assert check["max_change"] < 1e-5  # still only the refined class moved
