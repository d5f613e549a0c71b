"""The checkpoint file: one reader, one writer, an unchanged format, and one clear line for a bad file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import REPO, run_saz, tone
from saz.features import get_feature
from saz.labels import Vocabulary
from saz.models import build
from saz.models.checkpoint import Checkpoint, CheckpointError
from saz.models.ensemble import ensemble
from saz.models.normalizer import Normalizer
from saz.models.predictor import Predictor

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
    Checkpoint.load(tmp_path / "weights.pt")  # the file is consistent; its weights fit no saznet of this shape
    refused(tmp_path / "weights.pt", "cannot rebuild model 'saznet' from it (RuntimeError: Error(s) in loading state_dict",
            Predictor.load)


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
