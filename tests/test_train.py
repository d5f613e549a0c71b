"""Training, checkpoints, resume, protocols and the train/evaluate/compare commands."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from saz.features import get_feature
from saz.labels import Vocabulary
from saz.models import MODELS
from saz.models.augment import Augment, label_union
from saz.models.checkpoint import Checkpoint, CheckpointError
from saz.models.ensemble import ensemble
from saz.models.predictor import Predictor
from saz.models.train import Trainer, TrainConfig, masked_loss
from saz import metrics

SHAPES = {"spectrogram": (16, 24), "sequence": (5, 16), "vector": (12,)}
VOCAB = Vocabulary.from_names(["tar", "ney", "daf"])


def tiny(kind: str, n: int, seed: int, y_kind: str = "hard") -> tuple[np.ndarray, np.ndarray]:
    """Noise plus a class-specific band (+3) for each present class; separable by design."""
    rng = np.random.default_rng(seed)
    shape = SHAPES[kind]
    y = (rng.random((n, 3)) < 0.5).astype(np.float32)
    X = rng.normal(size=(n, *shape)).astype(np.float32)
    axis = 1 if kind == "spectrogram" else -1
    band = X.shape[axis] // 3
    for c in range(3):
        idx = [slice(None)] * X.ndim
        idx[axis] = slice(c * band, (c + 1) * band)
        X[tuple(idx)] += 3.0 * y[:, c].reshape(n, *[1] * (X.ndim - 1))
    if y_kind == "soft":
        y = np.clip(y * 0.8 + rng.random(y.shape).astype(np.float32) * 0.2, 0, 1)
    if y_kind == "partial":
        y[rng.random(y.shape) < 0.3] = np.nan
    return X * 10 - 40, y  # dB-like range, so augmentation's power mixing is meaningful


def trainer(name: str, run_dir, **cfg) -> Trainer:
    cfg = {"epochs": 3, "patience": 10, **cfg}
    if MODELS[name].kind == "sklearn":
        cfg.setdefault("hparams", {"n_estimators": 20})
    return Trainer(TrainConfig(name, **cfg), get_feature("stats"), 5.0, VOCAB, run_dir, progress=False)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_trains_and_its_checkpoint_round_trips(name, tmp_path):
    kind = MODELS[name].input_kind
    X, y = tiny(kind, 96, 0)
    Xv, yv = tiny(kind, 48, 1)
    path = trainer(name, tmp_path, epochs=10 if kind == "vector" else 3).fit(X, y, Xv, yv)  # a linear probe learns slowly
    ckpt = Checkpoint.load(path)
    info = ckpt.info
    if MODELS[name].kind == "torch":
        losses = [h["train_loss"] for h in info["history"]]
        assert losses[-1] < losses[0], losses
    p = Predictor.load(path).probabilities(Xv)
    assert p.shape == (48, 3)
    # the reloaded model reproduces the validation score the trainer measured in memory
    again = metrics.evaluate(yv, p, VOCAB, ckpt.thresholds)
    assert again.map == pytest.approx(info["validation"]["map"], abs=1e-9)
    assert again.map > 0.7, (name, again.map)  # chance is ~0.5 on separable data
    np.testing.assert_array_equal(Predictor.load(path).probabilities(Xv), p)
    predictor = Predictor.load(path)
    if predictor.has_frames:  # per-frame probabilities: one row per time step, bounding the clip's
        frames = predictor.frame_probabilities(Xv)
        assert frames.shape[0] == 48 and frames.shape[2] == 3
        if name in ("attention", "saznet"):  # attention pooling is a weighted mean of the frames
            assert (p >= frames.min(axis=1) - 1e-5).all() and (p <= frames.max(axis=1) + 1e-5).all()
    else:
        with pytest.raises(ValueError, match="does not predict per frame"):
            predictor.frame_probabilities(Xv)
    assert ckpt.vocabulary.names == VOCAB.names and len(ckpt.thresholds) == 3


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    X, y = tiny("spectrogram", 64, 0)
    Xv, yv = tiny("spectrogram", 32, 1)
    full = trainer("saznet", tmp_path / "full", epochs=4).fit(X, y, Xv, yv)
    trainer("saznet", tmp_path / "cut", epochs=2).fit(X, y, Xv, yv)  # "interrupted" after 2 epochs
    resumed = trainer("saznet", tmp_path / "cut", epochs=4).fit(X, y, Xv, yv, resume=True)
    a, b = Checkpoint.load(full), Checkpoint.load(resumed)
    assert len(b.info["history"]) == 4
    for k in a.state_dict:
        torch.testing.assert_close(a.state_dict[k], b.state_dict[k], rtol=0, atol=0)
    log = (tmp_path / "cut" / "log.csv").read_text().splitlines()
    assert log[0].startswith("epoch,train_loss,val_loss") and len(log) == 5


def test_resume_refuses_another_run_in_one_line(tmp_path):
    """A resumed run must be the run that stopped: another seed, model setting or data is refused,
    naming the setting; more epochs, patience or budget are not another run."""
    X, y = tiny("spectrogram", 64, 0)
    Xv, yv = tiny("spectrogram", 32, 1)
    run = tmp_path / "run"
    trainer("saznet", run, epochs=1).fit(X, y, Xv, yv)
    stored = json.loads((run / "run.json").read_text())
    assert stored["seed"] == 0 and stored["vocabulary"] == ["tar", "ney", "daf"] and "epochs" not in stored
    assert stored["data"]["train_clips"] == 64 and stored["feature"]["feature"] == "stats"
    with pytest.raises(ValueError, match=r"run.json: cannot resume with seed=1: the run was started with seed=0") as e:
        trainer("saznet", run, epochs=2, seed=1).fit(X, y, Xv, yv, resume=True)
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"cannot resume with lr=0.5: the run was started with lr=null"):
        trainer("saznet", run, epochs=2, lr=0.5).fit(X, y, Xv, yv, resume=True)
    with pytest.raises(ValueError, match=r"cannot resume with data.labels="):  # a re-cut validation set
        trainer("saznet", run, epochs=2).fit(X, y, Xv, yv[::-1].copy(), resume=True)
    with pytest.raises(ValueError, match=r"cannot resume with data.validation_clips=31"):
        trainer("saznet", run, epochs=2).fit(X, y, Xv[1:], yv[1:], resume=True)
    path = trainer("saznet", run, epochs=2, patience=3).fit(X, y, Xv, yv, resume=True)  # the same run, longer
    assert Checkpoint.load(path).info["epochs_run"] == 2
    trainer("saznet", run, epochs=1, seed=1).fit(X, y, Xv, yv)  # without resume: a new run in the folder
    assert json.loads((run / "run.json").read_text())["seed"] == 1


@pytest.mark.parametrize("damage", [b"", b"not a state", "cut"])
def test_a_damaged_state_file_is_one_line_naming_it(tmp_path, damage):
    X, y = tiny("spectrogram", 48, 0)
    Xv, yv = tiny("spectrogram", 32, 1)
    trainer("saznet", tmp_path, epochs=1).fit(X, y, Xv, yv)
    state = tmp_path / "state.pt"
    state.write_bytes(state.read_bytes()[:2000] if damage == "cut" else damage)
    with pytest.raises(ValueError, match=r"state.pt: damaged, cannot resume from it \(\w+\); delete it") as e:
        trainer("saznet", tmp_path, epochs=2).fit(X, y, Xv, yv, resume=True)
    assert str(state) in str(e.value) and "\n" not in str(e.value)
    (tmp_path / "run.json").write_text("{")
    with pytest.raises(ValueError, match=r"run.json: damaged, cannot check the run's settings"):
        trainer("saznet", tmp_path, epochs=2).fit(X, y, Xv, yv, resume=True)


def test_a_run_removes_the_temporary_files_of_interrupted_writes(tmp_path):
    X, y = tiny("spectrogram", 48, 0)
    Xv, yv = tiny("spectrogram", 32, 1)
    tmp_path.joinpath(".state.pt.k2j4h1.tmp").write_bytes(b"half a state")  # a write killed before its rename
    tmp_path.joinpath("notes.tmp").write_text("the user's")  # not a name atomic writes use
    trainer("saznet", tmp_path, epochs=1).fit(X, y, Xv, yv)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "model.pt", "notes.tmp", "run.json", "state.pt"]


def test_budget_and_patience_stop_training(tmp_path):
    X, y = tiny("sequence", 64, 0)
    Xv, yv = tiny("sequence", 32, 1)
    info = Checkpoint.load(trainer("fc_t", tmp_path / "b", epochs=50, budget_cpu_minutes=1e-6).fit(X, y, Xv, yv)).info
    assert info["epochs_run"] == 1
    noise = np.random.default_rng(2).random(yv.shape).round().astype(np.float32)  # validation unrelated to inputs
    info = Checkpoint.load(trainer("fc_t", tmp_path / "p", epochs=50, patience=2).fit(X, y, Xv, noise)).info
    assert info["epochs_run"] < 50 and info["epochs_run"] - info["best_epoch"] == 2


def test_label_smoothing_keeps_a_confident_model_off_0_and_1(tmp_path):
    """Plain BCE on separable data drives outputs towards 0 and 1; smoothed targets (0.2: 1 -> 0.9,
    0 -> 0.1) hold them back near the smoothed values, and the share is validated."""
    X, y = tiny("sequence", 256, 0)
    Xv, yv = tiny("sequence", 64, 1)
    out = {}
    for eps in (0.0, 0.2):
        path = trainer("fc_t", tmp_path / str(eps), epochs=40, patience=40, lr=1e-2, label_smoothing=eps,
                       augment=False).fit(X, y, Xv, yv)
        p = Predictor.load(path).probabilities(Xv)
        out[eps] = (p[yv == 1].mean(), p[yv == 0].mean())
        assert Checkpoint.load(path).info["config"]["label_smoothing"] == eps
    assert out[0.0][0] > 0.93 and out[0.0][1] < 0.1
    assert out[0.2][0] < min(0.92, out[0.0][0] - 0.05) and out[0.2][1] > max(0.08, out[0.0][1] + 0.05)
    with pytest.raises(ValueError, match="label_smoothing"):
        TrainConfig("fc_t", label_smoothing=0.5)


def test_partial_labels_are_masked_and_soft_protocols_use_mse(tmp_path):
    X, y = tiny("spectrogram", 64, 0, "partial")
    Xv, yv = tiny("spectrogram", 32, 1, "partial")
    ckpt = Checkpoint.load(trainer("hamnava_cnn", tmp_path / "partial").fit(X, y, Xv, yv))
    assert np.isfinite([h["train_loss"] for h in ckpt.info["history"]]).all()
    logits = torch.tensor([[0.0, 5.0]])
    # unknown entries contribute nothing: the loss is that of the known entry alone
    assert float(masked_loss(logits, torch.tensor([[float("nan"), 1.0]]), mse=False)) == pytest.approx(
        float(torch.nn.functional.softplus(torch.tensor(-5.0))), rel=1e-5)
    assert float(masked_loss(logits, torch.tensor([[0.5, 1.0]]), mse=True)) == pytest.approx(
        ((0.5 - 0.5) ** 2 + (torch.sigmoid(torch.tensor(5.0)).item() - 1) ** 2) / 2, rel=1e-5)
    X, y = tiny("spectrogram", 64, 0, "soft")
    Xv, yv = tiny("spectrogram", 32, 1, "soft")
    soft = Checkpoint.load(trainer("hamnava_cnn", tmp_path / "soft", protocol="soft-regression").fit(X, y, Xv, yv))
    assert soft.thresholds == (0.5, 0.5, 0.5) and "mse" in soft.info["validation"]
    with pytest.raises(ValueError, match="soft-label protocols"):
        trainer("rf", tmp_path / "rf", protocol="soft-regression").fit(X, y, Xv, yv)
    with pytest.raises(ValueError, match="unknown protocol"):
        TrainConfig("saznet", protocol="fuzzy")


def test_augment_keeps_exact_labels_and_is_seeded():
    a = torch.tensor([[1.0, 0.0, float("nan"), 0.0]])
    b = torch.tensor([[0.0, float("nan"), 1.0, 0.3]])
    u = label_union(a, b)
    assert u[0, 0] == 1 and torch.isnan(u[0, 1]) and u[0, 2] == 1 and u[0, 3] == pytest.approx(0.3)
    X, y = tiny("spectrogram", 8, 0)
    x, yt = torch.from_numpy(X), torch.from_numpy(y)
    out1 = Augment(mixup=1.0)(x, yt, torch.Generator().manual_seed(3))
    out2 = Augment(mixup=1.0)(x, yt, torch.Generator().manual_seed(3))
    torch.testing.assert_close(out1[0], out2[0])
    assert out1[0].shape == x.shape and torch.isfinite(out1[0]).all()
    assert (out1[1] >= yt).all()  # union: mixing only ever adds instruments
    assert not torch.equal(out1[0], x)


def test_not_a_checkpoint_is_one_clear_error(tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="model.pt: not a saz checkpoint"):
        Predictor.load(bad)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        Predictor.load(tmp_path / "missing.pt")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without a CUDA GPU")
def test_device_auto_is_the_cpu_here_and_cuda_is_refused_clearly():
    from saz.models.train import torch_device

    assert torch_device("auto").type == "cpu" and torch_device("cpu").type == "cpu"
    with pytest.raises(ValueError, match="no CUDA GPU"):
        TrainConfig("saznet", device="cuda:0")
    with pytest.raises(ValueError, match="cpu or cuda"):
        TrainConfig("saznet", device="meta")


def test_fresh_clips_replace_the_oldest_of_the_pool_every_epoch(tmp_path):
    X, y = tiny("spectrogram", 40, 0)
    Xv, yv = tiny("spectrogram", 32, 1)
    seeds = iter(range(100, 200))
    asked = []

    def fresh(max_clips: int):
        asked.append(max_clips)
        return tiny("spectrogram", 16, next(seeds))

    X_before = X.copy()
    trainer("saznet", tmp_path / "run", epochs=4).fit(X, y, Xv, yv, fresh=fresh)
    assert asked == [40, 40, 40]  # before epochs 2, 3 and 4
    assert np.array_equal(X, X_before)  # the caller's array is not overwritten
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert log[0].endswith("fresh_clips") and [int(r.split(",")[-1]) for r in log[1:]] == [0, 16, 32, 48]
    plain = trainer("saznet", tmp_path / "plain", epochs=4).fit(X, y, Xv, yv)
    a, b = Checkpoint.load(tmp_path / "run" / "model.pt"), Checkpoint.load(plain)
    assert any(not torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)


def test_init_starts_from_a_checkpoint_and_refuses_another_vocabulary(tmp_path):
    X, y = tiny("spectrogram", 48, 0)
    Xv, yv = tiny("spectrogram", 32, 1)
    first = trainer("saznet", tmp_path / "a", epochs=2).fit(X, y, Xv, yv)
    tuned = trainer("saznet", tmp_path / "b", epochs=1, lr=1e-12, init=str(first)).fit(X, y, Xv, yv)
    scratch = trainer("saznet", tmp_path / "c", epochs=1, lr=1e-12, seed=5).fit(X, y, Xv, yv)
    a, b, c = (Checkpoint.load(p).state_dict for p in (first, tuned, scratch))
    key = "classify.weight"
    torch.testing.assert_close(a[key], b[key], atol=1e-6, rtol=0)
    assert not torch.allclose(a[key], c[key], atol=1e-3)
    other = Trainer(TrainConfig("saznet", epochs=1, init=str(first)), get_feature("stats"), 5.0,
                    Vocabulary.from_names(["tar", "ney"]), tmp_path / "d", progress=False)
    with pytest.raises(ValueError, match="cannot start"):
        other.fit(X, y[:, :2], Xv, yv[:, :2])


def test_an_ensemble_averages_its_members_each_with_its_own_normalisation(tmp_path):
    X, y = tiny("spectrogram", 64, 0)
    Xv, yv = tiny("spectrogram", 32, 1)
    pa = Predictor.load(trainer("saznet", tmp_path / "a", epochs=2).fit(X, y, Xv, yv))
    pb = Predictor.load(trainer("saznet", tmp_path / "b", epochs=2, seed=1).fit(X + 20, y, Xv + 20, yv))  # another input scale
    assert not np.array_equal(pa.checkpoint.norm.mean, pb.checkpoint.norm.mean)
    path = ensemble([pa, pb], Xv, yv, {"note": "two members"}).save(tmp_path / "ens.pt")
    ens = Predictor.load(path)
    np.testing.assert_allclose(ens.probabilities(Xv), (pa.probabilities(Xv) + pb.probabilities(Xv)) / 2, atol=1e-6)
    assert ens.has_frames
    np.testing.assert_allclose(ens.frame_probabilities(Xv), (pa.frame_probabilities(Xv) + pb.frame_probabilities(Xv)) / 2,
                               atol=1e-6)
    assert ens.name == "ensemble" and len(ens.thresholds) == 3 and ens.info["note"] == "two members"
    assert 0 <= ens.info["validation"]["macro"]["f1"] <= 1
    other = Checkpoint.load(trainer("saznet", tmp_path / "c", epochs=1).fit(X[:, :8], y, Xv[:, :8], yv))
    other = dataclasses.replace(other, vocabulary=Vocabulary.from_names(["tar", "ney", "santur"]))
    with pytest.raises(ValueError, match="vocabulary"):
        ensemble([pa, Predictor(other)], Xv, yv, {})
    with pytest.raises(ValueError, match="at least two"):
        ensemble([pa], Xv, yv, {})


def test_a_max_ensemble_lets_the_surest_member_speak_and_tunes_its_own_thresholds(tmp_path):
    X, y = tiny("spectrogram", 64, 0)
    Xv, yv = tiny("spectrogram", 32, 1)
    pa = Predictor.load(trainer("saznet", tmp_path / "a", epochs=2).fit(X, y, Xv, yv))
    pb = Predictor.load(trainer("saznet", tmp_path / "b", epochs=2, seed=1).fit(X, y, Xv, yv))
    path = ensemble([pa, pb], Xv, yv, {}, combine="max").save(tmp_path / "max.pt")
    ens = Predictor.load(path)
    np.testing.assert_allclose(ens.probabilities(Xv), np.maximum(pa.probabilities(Xv), pb.probabilities(Xv)), atol=1e-6)
    np.testing.assert_allclose(ens.frame_probabilities(Xv),
                               np.maximum(pa.frame_probabilities(Xv), pb.frame_probabilities(Xv)), atol=1e-6)
    mean = Predictor(ensemble([pa, pb], Xv, yv, {}))
    assert not np.allclose(ens.probabilities(Xv), mean.probabilities(Xv))
    old = torch.load(path, weights_only=True)
    del old["model"]["combine"]  # an ensemble written before the option averaged its members
    np.testing.assert_allclose(Predictor(Checkpoint.from_dict(old)).probabilities(Xv), mean.probabilities(Xv), atol=1e-6)
    with pytest.raises(ValueError, match="unknown ensemble combination 'median'"):
        ensemble([pa, pb], Xv, yv, {}, combine="median")


@pytest.mark.parametrize("name", ["saznet", "rf"])
def test_log_csv_and_the_run_summary_read_validation_f1_one_way(name, tmp_path):
    """log.csv's F1 is the checkpoint's: macro F1 over the classes present in the validation
    clips, at the thresholds tuned on them (one column, named so); a class without a positive
    there counts in neither."""
    X, y = tiny("vector" if name == "rf" else "spectrogram", 64, 0)
    Xv, yv = tiny("vector" if name == "rf" else "spectrogram", 32, 1)
    yv[:, 2] = 0  # daf never plays in the validation clips
    ckpt = Checkpoint.load(trainer(name, tmp_path, epochs=3).fit(X, y, Xv, yv))
    v = ckpt.info["validation"]
    header, *rows = (tmp_path / "log.csv").read_text().splitlines()
    col = header.split(",").index("val_macro_f1_present")
    best = rows[ckpt.info["best_epoch"] - 1].split(",")
    assert float(best[col]) == pytest.approx(v["macro_f1_present"], abs=1e-5)
    per_class = metrics.evaluate(yv, Predictor(ckpt).probabilities(Xv), VOCAB, np.asarray(ckpt.thresholds)).per_class
    assert v["macro_f1_present"] == pytest.approx(np.mean([c.f1 for c in per_class[:2]]), abs=1e-5)
    assert "val_macro_f1" not in header.split(",")


def test_thresholds_that_call_everything_present_are_named():
    grid_min = metrics.THRESHOLD_GRID[0]
    warning = metrics.threshold_collapse(np.array([grid_min, grid_min, 0.0, 0.6]))
    assert warning.startswith("3 of 4 thresholds at or below 0.05, the lowest tuning tries: the model calls nearly "
                              "everything present")
    assert metrics.threshold_collapse(np.array([grid_min, grid_min, 0.5, 0.6])) is None  # half: not most
