"""The checkpoint file: one reader, one writer, an unchanged format, one clear line for a bad file,
no code run by reading one, and the bundled default as shipped."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import skops.io
import soundfile as sf
import torch
from sklearn.multioutput import MultiOutputClassifier

from conftest import REPO, run_saz, tone
from saz.features import get_feature
from saz.labels import Vocabulary
from saz.models import build, bundled
from saz.models.bundled import resolve_model
from saz.models.checkpoint import Checkpoint, CheckpointError
from saz.models.ensemble import ensemble
from saz.models.normalizer import Normalizer
from saz.models.predictor import Predictor
from saz.models.rf import BinaryRelevance
from saz.prediction import load_predictor

VOCAB = Vocabulary.from_names(["tar", "ney", "daf"])
SHAPE = (16, 24)
KEPT = [REPO / "saz/models/weights/default.pt", *sorted((REPO / "benchmarks/models").glob("*.pt"))]


def features(seed: int, n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(-40, 10, (n, *SHAPE)).astype(np.float32), (rng.random((n, 3)) < 0.5).astype(np.float32)


def torch_checkpoint(seed: int = 0) -> Checkpoint:
    """An untrained saznet checkpoint: real weights of the right shapes, no skill."""
    torch.manual_seed(seed)
    X, _ = features(seed)
    return Checkpoint.from_model(build("saznet", SHAPE, 3), get_feature("logmel", n_mels=16), 1.0, VOCAB,
                                 [0.4, 0.5, 0.6], Normalizer.fit(X, "spectrogram"), {"protocol": "auto"})


def sklearn_checkpoint() -> Checkpoint:
    X, y = features(0, 24)
    model = build("rf", (SHAPE[0] * SHAPE[1],), 3, n_estimators=2).fit(X.reshape(len(X), -1), y, seed=0)
    return Checkpoint.from_model(model, get_feature("logmel", n_mels=16), 1.0, VOCAB, [0.5] * 3, None, {})


@pytest.fixture(scope="module")
def plain() -> dict[str, Any]:
    return torch_checkpoint().to_dict()


@pytest.fixture(scope="module")
def joined() -> dict[str, Any]:
    X, y = features(5)
    return ensemble([Predictor(torch_checkpoint(0)), Predictor(torch_checkpoint(1))], X, y, {}).to_dict()


def same(a: Any, b: Any, where: str = "") -> None:
    """``a`` and ``b`` are equal down to tensors, types and the order of dict keys."""
    assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b), (where, list(a), list(b))
        for k in a:
            same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b), where
    else:
        assert a == b, (where, a, b)


@pytest.mark.parametrize("path", KEPT, ids=lambda p: p.name)
def test_the_shipped_and_kept_checkpoints_read_and_write_unchanged(path, tmp_path):
    raw = torch.load(path, map_location="cpu", weights_only=True)
    ckpt = Checkpoint.load(path)
    same(raw, ckpt.to_dict())
    same(raw, torch.load(ckpt.save(tmp_path / "again.pt"), weights_only=True))
    assert ckpt.source == str(path) and (ckpt.kind == "ensemble") == bool(ckpt.members)


@pytest.mark.parametrize("make", [torch_checkpoint, sklearn_checkpoint, "ensemble"], ids=["torch", "sklearn", "ensemble"])
def test_a_checkpoint_round_trips_with_its_profiles_and_window_thresholds(make, joined, tmp_path):
    ckpt = Checkpoint.from_dict(joined) if make == "ensemble" else make()
    ckpt = ckpt.with_profile("low", np.full(3, 0.1), "every threshold low", {"f1": 0.5})
    ckpt = ckpt.with_window_thresholds({2.0: np.full(3, 0.7), 0.5: np.full(3, 0.9)}, "tuned at windows")
    again = Checkpoint.load(ckpt.save(tmp_path / "model.pt"))
    same(ckpt.to_dict(), again.to_dict())
    assert list(again.window_thresholds.windows) == [0.5, 2.0] and again.threshold_profiles["low"].scores == {"f1": 0.5}
    X, _ = features(9)
    np.testing.assert_array_equal(Predictor(ckpt).probabilities(X), Predictor(again).probabilities(X))
    assert Predictor(again).source == str(tmp_path / "model.pt")


def test_profiles_and_window_thresholds_make_a_new_checkpoint_and_check_what_they_add():
    ckpt = torch_checkpoint()
    profiled = ckpt.with_profile("low", np.zeros(3), "x")
    windowed = profiled.with_window_thresholds({0.5: np.ones(3)}, "y")
    assert not ckpt.threshold_profiles and ckpt.window_thresholds is None and profiled.window_thresholds is None
    assert list(windowed.threshold_profiles) == ["low"] and windowed.window_thresholds.about == "y"
    with pytest.raises(ValueError, match=re.escape("'tuned' cannot name a threshold profile (a word other than 'tuned')")):
        ckpt.with_profile("tuned", np.zeros(3), "x")
    with pytest.raises(ValueError, match=re.escape("profile 'low': expected 3 thresholds in [0, 1], got shape (2,)")):
        ckpt.with_profile("low", np.zeros(2), "x")
    with pytest.raises(ValueError, match=re.escape("window -1: expected a positive window and 3 thresholds in [0, 1]")):
        ckpt.with_window_thresholds({-1: np.zeros(3)}, "x")


def _set(key: str, value: Any) -> Callable[[dict], None]:
    return lambda d: d.__setitem__(key, value)


def _rename(d: dict) -> None:
    d["threshold"] = d.pop("thresholds")


def _norm(mean: tuple[int, ...], std: tuple[int, ...]) -> Callable[[dict], None]:
    return _set("norm", {"mean": torch.zeros(mean), "std": torch.ones(std)})


def _model(**changes: Any) -> Callable[[dict], None]:
    return lambda d: d.__setitem__("model", {**d["model"], **changes})


def _weights(d: dict) -> None:
    k = next(iter(d["state_dict"]))
    d["state_dict"] = {**d["state_dict"], k: torch.zeros(2)}


def _tensors(drop: str | None = None, add: str | None = None) -> Callable[[dict], None]:
    def apply(d: dict) -> None:
        d["state_dict"] = {k: v for k, v in d["state_dict"].items() if k != drop} | ({add: torch.zeros(1)} if add else {})
    return apply


BAD = {  # what is wrong -> (how to make it, what the one line says)
    "wrong keys": (_rename, "incomplete: missing 'thresholds'"),
    "threshold count": (lambda d: d.__setitem__("thresholds", d["thresholds"][:2]), "2 thresholds for 3 classes"),
    "threshold range": (_set("thresholds", [0.5, 1.5, 0.5]), "thresholds: values outside [0, 1]"),
    "no header": (lambda d: d.pop("format"), "not a saz checkpoint (no 'saz-checkpoint' header)"),
    "newer format": (_set("format_version", 2), "checkpoint format 2 is newer than this saz understands"),
    "unknown kind": (_set("kind", "onnx"), "unknown kind 'onnx' (expected torch, sklearn, ensemble)"),
    "kind without its weights": (_set("kind", "sklearn"), "a sklearn checkpoint without its 'estimator'"),
    "seconds of text": (_set("seconds", "five"), "'seconds' must be a positive number, not 'five'"),
    "model of another type": (_set("model", ["saznet"]), "'model' is list, not dict"),
    "unknown model": (_model(name="nosuch"), "model: 'nosuch' is no registered torch model"),
    "outputs for other classes": (_model(n_classes=4), "model: expected 3 outputs (one per class)"),
    "vocabulary of another type": (_set("vocabulary", {"names": "tar"}), "vocabulary: expected names"),
    "unknown feature": (_set("feature", {"feature": "nosuch"}), "feature: unknown feature 'nosuch'"),
    "norm of other bands": (_norm((5, 1), (5, 1)), "norm: statistics of shape (5, 1) do not fit inputs of shape (16, 24)"),
    "norm halves apart": (_norm((16, 1), (16, 2)), "norm: mean of shape (16, 1) but std of shape (16, 2)"),
    "profile count": (_set("threshold_profiles", {"low": {"thresholds": [0.1], "about": "x", "scores": {}}}),
                      "profile 'low': expected 3 thresholds in [0, 1], got shape (1,)"),
    "profile named tuned": (_set("threshold_profiles", {"tuned": {"thresholds": [0.1] * 3, "about": "x", "scores": {}}}),
                            "'tuned' cannot name a threshold profile"),
    "window count": (_set("window_thresholds", {"about": "x", "windows": [{"window": 1.0, "thresholds": [0.5]}]}),
                     "window 1.0: expected a positive window and 3 thresholds in [0, 1], got shape (1,)"),
    "members in a plain checkpoint": (lambda d: d.__setitem__("members", [dict(d)]), "a torch checkpoint with members"),
    "weights of another shape": (_weights, "state_dict: 'front.0.weight' has shape (2,), model 'saznet' as its config "
                                           "builds it needs (16, 1, 3, 3)"),
    "a tensor missing": (_tensors(drop="front.0.weight"), "state_dict: no 'front.0.weight', which model 'saznet' as "
                                                          "its config builds it has"),
    "a tensor too many": (_tensors(add="extra.weight"), "state_dict: 'extra.weight', which model 'saznet' as its "
                                                        "config builds it does not have"),
    "hparams the model refuses": (_model(hparams={"input_norm": "loud"}), "model: cannot build 'saznet' from its "
                                                                          "config (ValueError: input_norm must be one of"),
    "a state_dict of another type": (_set("state_dict", [1, 2]), "state_dict: expected a dict of named tensors"),
}


def _member(i: int, change: Callable[[dict], None]) -> Callable[[dict], None]:
    def apply(d: dict) -> None:
        d["members"] = [dict(m) for m in d["members"]]
        change(d["members"][i])
    return apply


BAD_ENSEMBLES = {
    "a broken member": (_member(0, lambda m: m.__setitem__("thresholds", [0.5])), ": member 1: 1 thresholds for 3 classes"),
    "a member of other classes": (_member(1, _set("vocabulary", Vocabulary.from_names(["a", "b", "c"]).to_dict())),
                                  "member 2 differs from the ensemble in its vocabulary"),
    "members named otherwise": (_model(members=["saznet"]), "model: the member names differ from the members'"),
    "an unknown combination": (_model(combine="median"), "unknown ensemble combination 'median' (choose from mean, max)"),
    "one member": (lambda d: (d.__setitem__("members", d["members"][:1]), _model(members=["saznet"])(d)),
                   "an ensemble needs at least two members"),
}


def refused(path: Path, says: str, load: Callable[[Path], Any] = Checkpoint.load) -> None:
    """Loading ``path`` fails with one CheckpointError line that names the file and says ``says``."""
    with pytest.raises(CheckpointError) as e:
        load(path)
    message = str(e.value)
    assert message.startswith(f"{path}: ") and says in message and "\n" not in message, message


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_a_wrong_checkpoint_is_refused_at_read_time_in_one_line(case, plain, tmp_path):
    change, says = BAD[case]
    d = {**plain}
    change(d)
    torch.save(d, tmp_path / "model.pt")
    refused(tmp_path / "model.pt", says)


@pytest.mark.parametrize("case", BAD_ENSEMBLES, ids=list(BAD_ENSEMBLES))
def test_a_wrong_ensemble_is_refused_at_read_time_in_one_line(case, joined, tmp_path):
    change, says = BAD_ENSEMBLES[case]
    d = {**joined}
    change(d)
    torch.save(d, tmp_path / "model.pt")
    refused(tmp_path / "model.pt", says)


def test_damaged_files_and_weights_of_another_shape_are_one_line_too(plain, tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    refused(tmp_path / "empty.pt", "not a saz checkpoint (an empty file)")
    whole = torch_checkpoint().save(tmp_path / "whole.pt").read_bytes()
    (tmp_path / "truncated.pt").write_bytes(whole[: len(whole) // 2])
    refused(tmp_path / "truncated.pt", "not a saz checkpoint (RuntimeError: PytorchStreamReader failed")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    refused(tmp_path / "text.pt", "not a saz checkpoint (UnpicklingError")
    torch.save([1, 2], tmp_path / "list.pt")
    refused(tmp_path / "list.pt", "no 'saz-checkpoint' header")
    refused(tmp_path / "missing.pt", "no such checkpoint file")
    d = {**plain}
    _weights(d)
    torch.save(d, tmp_path / "weights.pt")
    for load in (Checkpoint.load, Predictor.load):  # weights that fit no saznet of its config: refused when read
        refused(tmp_path / "weights.pt", "state_dict: 'front.0.weight' has shape (2,)", load)


@pytest.mark.parametrize("case", ["truncated", "threshold count"])  # the rest: in-process above
def test_saz_predict_names_a_bad_checkpoint_in_one_line_without_a_traceback(case, plain, tmp_path):
    """A truncated file used to give a message too long for one line; too few thresholds, a traceback."""
    model = tmp_path / "model.pt"
    if case == "truncated":
        whole = torch_checkpoint().save(model).read_bytes()
        model.write_bytes(whole[: len(whole) // 2])
    else:
        d = {**plain}
        BAD[case][0](d)
        torch.save(d, model)
    sf.write(tmp_path / "a.wav", tone(22050, 1.0), 22050)
    r = run_saz("predict", tmp_path / "a.wav", "-m", model)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1 and str(model) in lines[0] and "Traceback" not in r.stderr, r.stderr


# -- a model file never runs code ---------------------------------------------------------------


class Payload:
    """What a crafted pickle holds: unpickling it calls ``open(path, "w")``, creating the marker file."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def crafted(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """A sklearn checkpoint (as a dict) whose estimator is a pickle that would create a marker file."""
    marker = tmp_path / "ran"
    return {**sklearn_checkpoint().to_dict(), "estimator": pickle.dumps(Payload(marker))}, marker


def hidden(joined: dict[str, Any], member: dict[str, Any]) -> dict[str, Any]:
    """The ensemble ``joined`` with ``member`` in place of its second member."""
    return {**joined, "model": {**joined["model"], "members": ["saznet", member["model"]["name"]]},
            "members": [joined["members"][0], member]}


def test_a_pickled_estimator_is_refused_unread_alone_and_as_an_ensemble_member(joined, tmp_path):
    d, marker = crafted(tmp_path)
    torch.save(d, tmp_path / "model.pt")
    torch.save(hidden(joined, d), tmp_path / "ensemble.pt")
    for load in (Checkpoint.load, Predictor.load, load_predictor):
        refused(tmp_path / "model.pt", "its estimator is a pickle (an older saz's), which can run any code", load)
        refused(tmp_path / "ensemble.pt", ": member 2: its estimator is a pickle", load)
    with pytest.raises(CheckpointError, match="--trust-checkpoint"):
        Checkpoint.from_dict(d)
    assert not marker.exists()
    refused(tmp_path / "model.pt", "its estimator cannot be read (TypeError: a TextIOWrapper, not the model 'rf')",
            lambda p: Predictor.load(p, trust=True))
    assert marker.exists()  # the payload is real: trusting the file ran it


def test_a_crafted_file_runs_nothing_under_saz_predict(cli, joined, tmp_path):
    d, marker = crafted(tmp_path)
    torch.save(d, tmp_path / "model.pt")
    torch.save(hidden(joined, d), tmp_path / "ensemble.pt")
    (tmp_path / "whole.pt").write_bytes(pickle.dumps(Payload(marker), protocol=2))  # the file itself a pickle, not torch's
    sf.write(tmp_path / "a.wav", tone(22050, 1.0), 22050)
    for model, says in [("model.pt", "its estimator is a pickle"), ("ensemble.pt", "member 2: its estimator is a pickle"),
                        ("whole.pt", "not a saz checkpoint")]:
        r = cli("predict", tmp_path / "a.wav", "--model", tmp_path / model)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 1 and len(lines) == 1 and f"{tmp_path / model}: {says}" in lines[0], r.stderr
    r = cli("evaluate", tmp_path / "model.pt", "--dataset", "csv", "--root", tmp_path / "m.csv", "--out", tmp_path / "ev")
    assert r.returncode == 1 and "--trust-checkpoint" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not marker.exists()


def test_saz_serve_refuses_a_pickled_estimator_unless_trusted(tmp_path):
    pytest.importorskip("fastapi")
    from saz.serve.app import create_app

    d, marker = crafted(tmp_path)
    torch.save(d, tmp_path / "model.pt")
    refused(tmp_path / "model.pt", "its estimator is a pickle", create_app)
    assert not marker.exists()
    create_app(trusted_old_checkpoint(tmp_path), trust=True)


def old_pickle(model: BinaryRelevance) -> bytes:
    """``model`` pickled as saz pickled it before it stored estimators as state: its fitted
    classifiers in a ``MultiOutputClassifier`` (``model_``)."""
    old = object.__new__(type(model))
    state = dict(model.__dict__)
    multi = MultiOutputClassifier(model.estimator(0))
    multi.estimators_ = state.pop("estimators_")
    old.__dict__.update(state, model_=multi)
    return pickle.dumps(old)


def trusted_old_checkpoint(tmp_path: Path) -> Path:
    """A real rf checkpoint on clip statistics as an older saz wrote it: its estimator pickled."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 52)).astype(np.float32), (rng.random((40, 3)) < 0.5).astype(np.float32)
    y[:, 2] = 1  # a constant class
    model = build("rf", (52,), 3, n_estimators=3).fit(X, y)
    ckpt = Checkpoint.from_model(model, get_feature("stats"), 1.0, VOCAB, [0.5] * 3, None, {})
    d = {**ckpt.to_dict(), "estimator": old_pickle(model)}
    torch.save(d, tmp_path / "old.pt")
    return tmp_path / "old.pt"


def test_an_older_pickled_checkpoint_loads_with_trust_and_predicts_as_before(cli, tmp_path):
    path = trusted_old_checkpoint(tmp_path)
    old = Predictor.load(path, trust=True)
    new = Predictor(dataclasses.replace(old.checkpoint, estimator=old.model.state()))  # stored as this saz stores it
    X = np.random.default_rng(1).normal(size=(8, 52)).astype(np.float32)
    np.testing.assert_allclose(old.probabilities(X), new.probabilities(X), atol=1e-6)
    assert (old.probabilities(X)[:, 2] == 1).all()  # the constant class still predicts its constant
    sf.write(tmp_path / "a.wav", tone(22050, 1.0), 22050)
    assert cli("predict", tmp_path / "a.wav", "-m", path).returncode == 1
    r = cli("predict", tmp_path / "a.wav", "-m", path, "--trust-checkpoint", "--threshold", "0.99")
    assert r.returncode == 0 and "daf" in r.stdout, r.stderr


def test_a_sklearn_checkpoint_stores_no_pickle(tmp_path):
    d = torch.load(sklearn_checkpoint().save(tmp_path / "rf.pt"), weights_only=True)
    state = d["estimator"]
    assert set(state) == {"format", "constant", "fitted", "estimators"} and state["format"] == "skops"
    assert all(blob[:2] == b"PK" for blob in state["estimators"])  # skops: a zip of JSON and numpy arrays


def _forest_state(change: Callable[[Any], None]) -> dict[str, Any]:
    """The state of a fitted rf over the test features, its first class's forest changed by ``change``."""
    ckpt = sklearn_checkpoint()
    model = ckpt.build_model()
    change(model.estimators_[0])
    return {**ckpt.to_dict(), "estimator": model.state()}


def _bad_child(forest: Any) -> None:
    tree = forest.estimators_[0].tree_
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    nodes["left_child"][0] = 10 ** 6  # prediction would read far outside the tree
    tree.__setstate__({**state, "nodes": nodes})


BAD_ESTIMATORS = {
    "a type skops does not trust": (lambda s: s["estimators"].__setitem__(0, skops.io.dumps({"run": os.system})),
                                    "the forest holds types saz does not load: posix.system"),
    "a tree pointing outside itself": (None, "tree 1: a child index outside its"),
    "another layout": (lambda s: s.__setitem__("fitted", s["fitted"][:1]), "expected each of 3 classes constant (0 or 1) or fitted"),
    "another format": (lambda s: s.__setitem__("format", "onnx"), "expected classifiers stored as 'skops', found 'onnx'"),
    "damaged bytes": (lambda s: s["estimators"].__setitem__(0, b"PK\x03\x04 damaged"), "its estimator cannot be read (BadZipFile"),
}


@pytest.mark.parametrize("case", BAD_ESTIMATORS, ids=list(BAD_ESTIMATORS))
def test_an_estimator_state_that_is_unsafe_or_inconsistent_is_refused_in_one_line(case, tmp_path):
    change, says = BAD_ESTIMATORS[case]
    d = _forest_state(_bad_child if change is None else lambda forest: None)
    if change is not None:
        d["estimator"] = {**d["estimator"], "estimators": list(d["estimator"]["estimators"])}
        change(d["estimator"])
    torch.save(d, tmp_path / "model.pt")
    refused(tmp_path / "model.pt", says, Predictor.load)


def test_an_xgboost_booster_pointing_outside_its_tree_is_refused(tmp_path):
    xgboost = pytest.importorskip("xgboost")
    X, y = features(0, 24)
    model = build("xgb", (SHAPE[0] * SHAPE[1],), 3, n_estimators=2).fit(X.reshape(len(X), -1), (y > 0).astype(np.float32))
    ckpt = Checkpoint.from_model(model, get_feature("logmel", n_mels=16), 1.0, VOCAB, [0.5] * 3, None, {})
    d = ckpt.to_dict()
    booster = json.loads(model.estimators_[0].get_booster().save_raw("json"))
    booster["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][0] = 10 ** 6
    crafted_booster = xgboost.Booster()
    crafted_booster.load_model(bytearray(json.dumps(booster).encode()))  # XGBoost itself takes it, and would crash on it
    d["estimator"] = {**d["estimator"], "estimators": [bytes(crafted_booster.save_raw("ubj")), *d["estimator"]["estimators"][1:]]}
    torch.save(d, tmp_path / "model.pt")
    refused(tmp_path / "model.pt", "its estimator cannot be read (ValueError: tree 1: a child index outside its", Predictor.load)
    np.testing.assert_array_equal(Predictor.load(ckpt.save(tmp_path / "sound.pt")).probabilities(X), Predictor(ckpt).probabilities(X))


# -- the bundled default is the file shipped ----------------------------------------------------


def test_the_default_is_checked_against_its_recorded_checksum(cli, monkeypatch, tmp_path):
    assert resolve_model("default") == bundled.DEFAULT_MODEL
    assert bundled.DEFAULT_SHA256.read_text().split()[0] == bundled.sha256(bundled.DEFAULT_MODEL)
    altered = tmp_path / "default.pt"
    data = bytearray(bundled.DEFAULT_MODEL.read_bytes())
    data[-100] ^= 1  # one bit: still a readable file, no longer the one shipped
    altered.write_bytes(bytes(data))
    monkeypatch.setattr(bundled, "DEFAULT_MODEL", altered)
    refused(altered, "not the default model saz shipped (its SHA-256 differs from the one in default.sha256)",
            lambda _: load_predictor("default"))
    sf.write(tmp_path / "a.wav", tone(22050, 1.0), 22050)
    r = cli("predict", tmp_path / "a.wav")
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and str(altered) in r.stderr, r.stderr
    monkeypatch.setattr(bundled, "DEFAULT_SHA256", tmp_path / "default.sha256")
    with pytest.raises(CheckpointError, match="checksum is missing"):
        resolve_model("default")
