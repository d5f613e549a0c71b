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
