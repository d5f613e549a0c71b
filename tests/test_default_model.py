"""The bundled default model: it loads offline, its card and golden outputs (the README's command:
tests/cli/test_end_to_end.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import EXAMPLES, REPO
from saz.prediction import DEFAULT_MODEL, load_predictor, predict
from saz.vocabulary import default_vocabulary

GOLDEN = REPO / "tests" / "golden" / "ensemble.json"


def test_default_model_ships_in_the_package_and_loads():
    assert DEFAULT_MODEL.is_file() and DEFAULT_MODEL.stat().st_size < 5_000_000
    pred = load_predictor("default")
    assert pred.name == "ensemble" and [m.name for m in pred.members] == ["saznet"] * 3 and pred.has_frames
    assert pred.vocab.names == default_vocabulary().names
    assert ((pred.thresholds > 0) & (pred.thresholds < 1)).all() and pred.seconds == 5.0


def test_default_model_sensitive_profile_only_lowers_thresholds():
    pred = load_predictor("default")
    sensitive = pred.thresholds_for("sensitive")
    assert (sensitive <= pred.thresholds + 1e-6).all() and (sensitive < pred.thresholds - 0.05).sum() >= 5
    tuned, more = predict(EXAMPLES / "ensemble.ogg"), predict(EXAMPLES / "ensemble.ogg", profile="sensitive")
    found = {c for c, _ in tuned.present}
    assert found < {c for c, _ in more.present}
    assert "sensitive" in (REPO / "saz" / "models" / "weights" / "default.md").read_text()


def test_golden_predictions_on_the_example():
    """Regression test: probabilities on examples/ensemble.ogg as committed (regenerate with
    `python -c "from saz.prediction import predict; print(predict('examples/ensemble.ogg').to_json())" > tests/golden/ensemble.json`
    after retraining the default model)."""
    golden = json.loads(GOLDEN.read_text())
    got = predict(EXAMPLES / "ensemble.ogg").to_dict()
    assert got["probabilities"] == pytest.approx(golden["probabilities"], abs=1e-4)
    np.testing.assert_allclose([[w["probabilities"][c] for c in golden["probabilities"]] for w in got["timeline"]["windows"]],
                               [[w["probabilities"][c] for c in golden["probabilities"]] for w in golden["timeline"]["windows"]],
                               atol=1e-4)
    assert [s["instrument"] for s in got["timeline"]["segments"]] == [s["instrument"] for s in golden["timeline"]["segments"]]
