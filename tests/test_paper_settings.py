"""The paper-faithful settings of issue 25 as library options: the binarising rule, per-class
scores as HamNava's Table 3, and early stopping on each document's criterion."""

import numpy as np
import pytest
from sklearn.metrics import r2_score

from saz.features import get_feature
from saz.labels import Vocabulary, binarize
from saz.metrics import evaluate
from saz.models.train import Trainer, TrainConfig, soft_mse


def test_binarize_rule_decides_the_tie_at_the_threshold():
    y = np.array([[0.5, 0.75, 0.25, np.nan]], np.float32)
    np.testing.assert_array_equal(binarize(y, 0.5), [[1, 1, 0, np.nan]])
    np.testing.assert_array_equal(binarize(y, 0.5, "gt"), [[0, 1, 0, np.nan]])
    with pytest.raises(ValueError, match="ge, gt"):
        binarize(y, 0.5, "gte")
    with pytest.raises(ValueError, match="binarize must be one of"):
        TrainConfig("saznet", binarize="x")


def test_per_class_accuracy_mse_and_r2_as_hamnava_table_3():
    rng = np.random.default_rng(1)
    y = rng.choice([0.0, 0.5, 0.75, 1.0], size=(40, 3))
    p = np.clip(y + rng.normal(0, 0.2, y.shape), 0, 1)
    result = evaluate(y, p, ["tar", "ney", "daf"], 0.5)
    for j, c in enumerate(result.per_class):
        assert c.mse == pytest.approx(np.mean((y[:, j] - p[:, j]) ** 2))
        assert c.r2 == pytest.approx(r2_score(y[:, j], p[:, j]))
        assert c.accuracy == pytest.approx(np.mean((y[:, j] >= 0.5) == (p[:, j] >= 0.5)))
    hard = evaluate((y >= 0.5).astype(float), p, ["tar", "ney", "daf"], 0.5)
    assert all(c.mse is None and c.accuracy is not None for c in hard.per_class)


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(0)
    X = rng.normal(-40, 10, size=(40, 64, 44)).astype(np.float32)
    y = rng.choice([0.0, 0.5, 1.0], size=(40, 3)).astype(np.float32)
    return X, y


@pytest.mark.parametrize("monitor", ["train_loss", "val_mse", "val_loss"])
def test_monitor_keeps_the_best_epoch_of_its_log_column(monitor, arrays, tmp_path):
    """The checkpoint is the epoch whose ``monitor`` column of log.csv is lowest."""
    X, y = arrays
    cfg = TrainConfig("saznet", epochs=4, patience=10, augment=False, monitor=monitor, protocol="soft-train-hard-eval",
                      lr=3e-3)
    trainer = Trainer(cfg, get_feature("logmel", n_mels=64), 1.0, Vocabulary.from_names(["tar", "ney", "daf"]),
                      tmp_path, progress=False)
    from saz.models.checkpoint import Checkpoint

    info = Checkpoint.load(trainer.fit(X[:28], y[:28], X[28:], y[28:])).info
    column = [h[monitor] for h in info["history"]]
    assert info["best_epoch"] == int(np.argmin(column)) + 1
    assert info["history"][0]["val_mse"] > 0


def test_soft_mse_ignores_unknown_entries():
    assert soft_mse(np.array([[0.5, np.nan]]), np.array([[0.25, 0.9]])) == pytest.approx(0.0625)
    with pytest.raises(ValueError, match="unknown monitor"):
        TrainConfig("saznet", monitor="val_f1")


@pytest.mark.parametrize("model", ["rf", "xgb"])
def test_binary_relevance_trains_each_class_on_the_clips_labelled_for_it(model):
    """OpenMIC's labels are partial: a class's unknown entries must not teach it "absent". Here
    most clips that sound like class 0 are unknown for it; counted absent they drown its positives."""
    pytest.importorskip("xgboost") if model == "xgb" else None
    from saz.models.base import build

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    y = np.stack([(X[:, 0] > 0), (X[:, 1] > 0)], axis=1).astype(np.float64)
    unknown = (X[:, 0] > 0) & (rng.random(200) < 0.8)
    y[unknown, 0] = np.nan
    probe = X[X[:, 0] > 0.5]
    skip = build(model, (4,), 2).fit(X, y, seed=0).predict_proba(probe)[:, 0]
    absent = build(model, (4,), 2).fit(X, np.nan_to_num(y), seed=0).predict_proba(probe)[:, 0]
    assert skip.mean() > 0.8 > 0.5 > absent.mean()
    with pytest.raises(ValueError, match="unknown_labels"):
        TrainConfig(model, unknown_labels="maybe")


def test_logmel_peak_is_the_medleydb_reports_input():
    """Unit peak, then librosa.power_to_db(melspectrogram, ref=np.max): 0 dB at the loudest bin."""
    import librosa

    rng = np.random.default_rng(0)
    t = np.arange(22050 * 2) / 22050
    y = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.normal(size=t.size)).astype(np.float32)
    z = y / np.abs(y).max()
    ref = librosa.power_to_db(librosa.feature.melspectrogram(y=z, sr=22050), ref=np.max, top_db=80)
    out = get_feature("logmel_peak")(y)
    assert out.shape == ref.shape and out.max() == 0.0
    np.testing.assert_allclose(out, ref, atol=5e-3)
    np.testing.assert_allclose(get_feature("logmel_peak")(0.1 * y), out, atol=1e-3)  # loudness gone


def test_oversampling_brings_every_class_to_the_most_frequent_with_the_reports_augmentation(tmp_path):
    import pandas as pd
    import soundfile as sf

    from saz.models.balance import augment, class_counts, oversample, recut

    rng = np.random.default_rng(0)
    s = rng.normal(-40, 10, size=(32, 50)).astype(np.float32)
    out = augment(s, np.random.default_rng(1))
    assert out.shape == s.shape and not np.array_equal(out, s)
    y = np.zeros(22050, np.float32)
    y[15000:15100] = 0.9  # the only loud stretch: a re-cut of 1000 samples starts there
    cut = recut(y, 1000, np.random.default_rng(0), 0.1)
    assert len(cut) == 1000 and abs(cut[0]) > 0.1
    feature = get_feature("logmel", n_mels=32)
    paths = []
    for k in range(6):
        paths.append(str(tmp_path / f"c{k}.wav"))
        sf.write(paths[-1], 0.5 * np.sin(2 * np.pi * (200 + 50 * k) * np.arange(22050) / 22050), 22050)
    X = np.stack([feature(sf.read(p, dtype="float32")[0]) for p in paths])
    labels = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [1, 1]], np.float32)
    X2, y2 = oversample(X, labels, pd.DataFrame({"path": paths}), feature, 22050, 1.0, seed=0)
    assert class_counts(labels, ["a", "b"]) == {"a": 5, "b": 2}
    assert class_counts(y2, ["a", "b"]) == {"a": 5, "b": 5} and len(X2) == 9 and X2.shape[1:] == X.shape[1:]
    assert (y2[6:] == [0, 1]).all()  # copies of the one single-label clip of b
    with pytest.raises(ValueError, match="spectrograms"):
        oversample(X.reshape(6, -1), labels, pd.DataFrame({"path": paths}), feature, 22050, 1.0)


def test_a_run_started_before_these_settings_resumes(arrays, tmp_path):
    """run.json written without binarize/monitor/oversample/unknown_labels: those were the defaults."""
    import json

    X, y = arrays
    vocab = Vocabulary.from_names(["tar", "ney", "daf"])

    def trainer(epochs: int) -> Trainer:
        return Trainer(TrainConfig("saznet", epochs=epochs, augment=False), get_feature("logmel", n_mels=64), 1.0,
                       vocab, tmp_path, progress=False)

    trainer(1).fit(X[:28], y[:28], X[28:], y[28:])
    run = json.loads((tmp_path / "run.json").read_text())
    for key in ("binarize", "monitor", "oversample", "unknown_labels"):
        del run[key]
    (tmp_path / "run.json").write_text(json.dumps(run))
    trainer(2).fit(X[:28], y[:28], X[28:], y[28:], resume=True)
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 3
