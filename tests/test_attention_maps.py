"""Attention maps of a model that attends over time, from saz evaluate and saz predict --plot, and
their frame-level score against MedleyDB's activity annotations."""

from pathlib import Path

import numpy as np
import pytest

from saz.evaluation.attention import activity_score, step_activity

FIXTURES = Path(__file__).parent / "fixtures"


def test_activity_score_ranks_active_steps():
    act = np.zeros((1, 20, 2), np.float32)
    act[0, 5:10, 0] = 1.0                       # class 0 active in steps 1-2 of 4; class 1 never (left out)
    w = np.full((1, 4, 2), 0.25, np.float32)
    w[0, :, 0] = [0.1, 0.4, 0.4, 0.1]
    assert step_activity(act[0], 4)[:, 0].tolist() == [False, True, False, False]
    s = activity_score(w, act, ["a", "b"])
    assert s["pairs"] == 1 and s["mean_auc"] == pytest.approx((2 + 0.5) / 3) and "b" not in s["per_class"]
    assert activity_score(-w, act, ["a", "b"])["mean_auc"] == pytest.approx(0.5 / 3)


@pytest.fixture(scope="module")
def attention_model(tmp_path_factory) -> str:
    """A 1-s attention model over MedleyDB's 17 macro classes, one epoch on random features."""
    from saz.datasets import load
    from saz.features import get_feature
    from saz.models.train import Trainer, TrainConfig

    vocab = load("medleydb", FIXTURES / "medleydb", labels="macro", segment=1.0, split="none").vocab
    feature = get_feature("melpatches", n_mels=64)
    shape = feature(np.zeros((1, feature.sr), np.float32)).shape[1:]
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, size=(16, *shape)).astype(np.float32)
    y = (rng.random((16, len(vocab))) < 0.3).astype(np.float32)
    run = tmp_path_factory.mktemp("att")
    cfg = TrainConfig("attention", epochs=1)
    return str(Trainer(cfg, feature, 1.0, vocab, run, progress=False).fit(X, y, X[:4], y[:4]))


def test_evaluate_writes_maps_and_scores_them_against_activity(cli, attention_model, tmp_path):
    out = tmp_path / "ev"
    r = cli("evaluate", attention_model, "--dataset", "medleydb", "--root", FIXTURES / "medleydb", "--split", "all",
            "--option", "labels=macro", "--option", "segment=1.0", "--option", "split=none", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "attention maps ->" in r.stdout and "attention against frame activity" in r.stdout
    assert (out / "attention" / "00.png").stat().st_size > 0 and (out / "attention" / "activity_score.json").is_file()
    import pandas as pd

    clips = pd.read_csv(out / "per_clip.csv", keep_default_na=False)
    assert list(clips.columns[:6]) == ["clip", "true", "predicted", "TP", "FN", "FP"] and len(clips) == 2  # the fixture mix: 2 s, two 1-s clips
    assert (clips["n_TP"] + clips["n_FN"] == clips["n_true"]).all()


def test_predict_plot_draws_the_attention_map(cli, attention_model, tmp_path):
    wav = FIXTURES / "medleydb/Audio/MusicDelta_Beethoven/MusicDelta_Beethoven_MIX.wav"
    r = cli("predict", wav, "--model", attention_model, "--plot", tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "MusicDelta_Beethoven_MIX.png").is_file()
    assert (tmp_path / "MusicDelta_Beethoven_MIX_attention.png").stat().st_size > 0


def test_activity_is_cut_as_the_audio_is():
    from saz.evaluation.attention import fit_frames

    act = np.arange(10, dtype=np.float32).reshape(1, 10, 1)
    assert fit_frames(act, 4)[0, :, 0].tolist() == [3, 4, 5, 6]
    assert fit_frames(act, 12)[0, -2:, 0].tolist() == [0, 0] and fit_frames(act, 12).shape == (1, 12, 1)
