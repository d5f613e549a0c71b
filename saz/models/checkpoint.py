"""The checkpoint file: everything needed to predict, as one typed, validated :class:`Checkpoint`.

A checkpoint file (``torch.save`` of a plain dict, written atomically) stores the model config and
weights (or, for scikit-learn models, the fitted estimator's state), the feature config and clip length,
the vocabulary, the per-class thresholds tuned on validation, the input standardisation
(:class:`~saz.models.normalizer.Normalizer`), the training protocol and metrics (``info``), and
the saz version. An ensemble (:mod:`saz.models.ensemble`) holds whole member checkpoints instead
of weights. :meth:`Checkpoint.load` is the one reader and :meth:`Checkpoint.save` the one writer;
the reader checks every entry, so a damaged or foreign file fails with one :class:`CheckpointError`
line naming the file and the problem instead of failing later, deep in prediction.

Nothing in a file can run code when it is read: files load with ``weights_only=True``, and a
scikit-learn checkpoint stores its estimator as :meth:`SklearnModel.state` (skops or XGBoost's
UBJSON, checked when rebuilt). Files of older saz versions pickled the estimator; such a file is
refused unless it is trusted (``trust=True``, ``--trust-checkpoint``), an ensemble member too.
The bundled default is checked against its recorded SHA-256 (:mod:`saz.models.bundled`).

Besides its own thresholds (the profile :data:`TUNED`) a checkpoint may carry threshold
*profiles* (:meth:`Checkpoint.with_profile`): the same probabilities read with other per-class
thresholds, each with a line on how they were set and what they scored, chosen per call by name;
and its own thresholds tuned again for other prediction windows
(:meth:`Checkpoint.with_window_thresholds`).
"""

from __future__ import annotations

import dataclasses
import io as _io
import math
import os
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from saz import io
from saz._version import __version__
from saz.features import Feature, feature_from_config
from saz.labels import Vocabulary
from saz.models.base import MODELS, SklearnModel, TorchModel, build
from saz.models.ensemble import combination
from saz.models.normalizer import Normalizer

FORMAT = "saz-checkpoint"
FORMAT_VERSION = 1
KINDS = ("torch", "sklearn", "ensemble")
TUNED = "tuned"  # the name of a checkpoint's own thresholds among its threshold profiles
_WEIGHTS = {"torch": "state_dict", "sklearn": "estimator", "ensemble": "members"}  # what each kind stores
PICKLED = ("its estimator is a pickle (an older saz's), which can run any code when read: retrain it, or, only if "
           "you trust where the file came from, load it with --trust-checkpoint (trust=True)")


class CheckpointError(Exception):
    """A file that is not a readable, consistent saz checkpoint (the message names the file)."""


@dataclass(frozen=True)
class ThresholdProfile:
    """Per-class thresholds read instead of the tuned ones, with how they were set and what they scored."""

    thresholds: tuple[float, ...]
    about: str
    scores: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"thresholds": list(self.thresholds), "about": self.about, "scores": self.scores}

    @classmethod
    def from_dict(cls, name: str, d: Any) -> "ThresholdProfile":
        if not isinstance(d, dict) or not isinstance(d.get("about"), str) or not isinstance(d.get("scores", {}), dict):
            raise ValueError(f"profile '{name}': expected thresholds, about (text) and scores (a dict)")
        return cls(_floats(d.get("thresholds"), f"profile '{name}'"), d["about"], d.get("scores", {}))


@dataclass(frozen=True)
class WindowThresholds:
    """A checkpoint's own thresholds tuned again per prediction window (seconds -> per-class thresholds)."""

    about: str
    windows: dict[float, tuple[float, ...]]

    def to_dict(self) -> dict[str, Any]:
        return {"about": self.about, "windows": [{"window": w, "thresholds": list(t)} for w, t in self.windows.items()]}

    @classmethod
    def from_dict(cls, d: Any) -> "WindowThresholds":
        rows = d.get("windows") if isinstance(d, dict) else None
        if not isinstance(d, dict) or not isinstance(d.get("about"), str) or not isinstance(rows, list) or not all(
                isinstance(r, dict) and _is_number(r.get("window")) for r in rows):
            raise ValueError("window_thresholds: expected about (text) and windows (rows of window and thresholds)")
        windows = {float(r["window"]): _floats(r.get("thresholds"), f"window {r['window']}") for r in rows}
        if len(windows) != len(rows):
            raise ValueError("window_thresholds: a window appears twice")
        return cls(d["about"], windows)


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """One model ready to predict: what it is, what it hears, what it names, and where to decide.

    ``model`` is the model config (:meth:`TorchModel.config`, or for an ensemble its member names
    and ``combine``), ``feature`` the feature config, ``seconds`` the clip length. A ``torch``
    checkpoint has ``state_dict``, a ``sklearn`` one its ``estimator`` (the model's
    :meth:`~SklearnModel.state`, or the pickled model in a trusted file of an older saz), an ``ensemble``
    its ``members``. Construction checks that the parts agree (ValueError otherwise); ``source``
    (the file, or "<memory>") names it in messages and is not stored.
    """

    kind: str
    model: dict[str, Any]
    feature: dict[str, Any]
    seconds: float
    vocabulary: Vocabulary
    thresholds: tuple[float, ...]
    norm: Normalizer | None = None
    info: dict[str, Any] = field(default_factory=dict)
    state_dict: dict[str, torch.Tensor] | None = None
    estimator: dict[str, Any] | bytes | None = None
    members: tuple["Checkpoint", ...] = ()
    threshold_profiles: dict[str, ThresholdProfile] = field(default_factory=dict)
    window_thresholds: WindowThresholds | None = None
    saz_version: str = __version__
    source: str = "<memory>"

    def __post_init__(self) -> None:
        _check_model(self)
        _check_members(self)
        _check_thresholds(self)

    @property
    def name(self) -> str:
        """The model's registered name ("ensemble" for an ensemble)."""
        return self.model["name"]

    @property
    def combine(self) -> str:
        """How an ensemble joins its members (ensembles written before the choice averaged)."""
        return self.model.get("combine", "mean")

    # -- making one -------------------------------------------------------------------------------

    @classmethod
    def from_model(cls, model: TorchModel | SklearnModel, feature: Feature, seconds: float, vocab: Vocabulary,
                   thresholds: Sequence[float], norm: Normalizer | None, info: dict[str, Any]) -> "Checkpoint":
        """The checkpoint of a trained ``model``; ``info`` carries the protocol, training config and metrics."""
        weights = ({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
                   if isinstance(model, TorchModel) else None)
        return cls(kind=model.kind, model=model.config(), feature=feature.config(), seconds=float(seconds),
                   vocabulary=vocab, thresholds=tuple(float(t) for t in thresholds), norm=norm, info=info,
                   state_dict=weights, estimator=None if weights is not None else model.state())

    def with_profile(self, name: str, thresholds: np.ndarray, about: str,
                     scores: dict[str, Any] | None = None) -> "Checkpoint":
        """This checkpoint with the threshold profile ``name`` added (or replaced): per-class
        ``thresholds``, ``about`` (how they were set) and optional ``scores`` (what they
        measured, for the card). ValueError for a bad name or thresholds."""
        profile = ThresholdProfile(_profile_row(name, thresholds, len(self.vocabulary)), about, scores or {})
        return dataclasses.replace(self, threshold_profiles={**self.threshold_profiles, name: profile})

    def with_window_thresholds(self, table: dict[float, np.ndarray], about: str) -> "Checkpoint":
        """This checkpoint with its own thresholds tuned again for prediction windows other than its
        clip length: ``table`` maps a window (seconds) to per-class thresholds tuned at it
        (:func:`saz.evaluation.calibration.window_thresholds`), ``about`` says on what. Replaces any earlier table.

        A file's probability is its highest window's, so the shorter the window, the more windows a
        clip has and the higher an absent class's highest probability: thresholds tuned at the clip
        length let false positives through at short windows (``benchmarks/results/window_length.md``).
        """
        n = len(self.vocabulary)
        windows = dict(_window_row(w, t, n) for w, t in sorted(table.items()))
        return dataclasses.replace(self, window_thresholds=WindowThresholds(about, windows))

    # -- the file ---------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike, trust: bool = False) -> "Checkpoint":
        """Read and check the checkpoint file ``path``; :class:`CheckpointError` for anything else,
        including a pickled estimator (an older saz's) unless ``trust``: reading that runs its code."""
        p = Path(path)
        if not p.is_file():
            raise CheckpointError(f"{p}: no such checkpoint file")
        if p.stat().st_size == 0:
            raise CheckpointError(f"{p}: not a saz checkpoint (an empty file)")
        try:
            with warnings.catch_warnings():  # torch warns about a foreign pickle before refusing it: the refusal says it
                warnings.simplefilter("ignore", UserWarning)
                d = torch.load(p, map_location="cpu", weights_only=True)
        except Exception as e:  # torch raises many types for non-checkpoints
            reason = ": ".join(_one_line(e).split(": ")[:2])  # the type and the first clause: damaged or foreign
            raise CheckpointError(f"{p}: not a saz checkpoint ({reason})") from None
        return cls.from_dict(d, str(p), trust)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the checkpoint file atomically (a reader sees the old file or the whole new one)."""
        buf = _io.BytesIO()
        torch.save(self.to_dict(), buf)
        return io.write_bytes(path, buf.getvalue())

    def to_dict(self) -> dict[str, Any]:
        """The plain dict stored in the file (keys in the order format 1 has always had them)."""
        ensemble = self.kind == "ensemble"
        d: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION, "saz_version": self.saz_version}
        d.update({"kind": self.kind, "model": self.model} if ensemble else {"model": self.model, "kind": self.kind})
        d.update(feature=self.feature, seconds=self.seconds, vocabulary=self.vocabulary.to_dict(),
                 thresholds=[float(t) for t in self.thresholds], norm=None if self.norm is None else self.norm.to_dict())
        if ensemble:
            d["members"] = [m.to_dict() for m in self.members]
        d["info"] = self.info
        if self.kind == "torch":
            d["state_dict"] = self.state_dict
        elif self.kind == "sklearn":
            d["estimator"] = self.estimator
        if self.threshold_profiles:
            d["threshold_profiles"] = {k: p.to_dict() for k, p in self.threshold_profiles.items()}
        if self.window_thresholds is not None:
            d["window_thresholds"] = self.window_thresholds.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: Any, source: str = "<memory>", trust: bool = False) -> "Checkpoint":
        """The checkpoint stored as the dict ``d`` (read from ``source``), every entry checked;
        :class:`CheckpointError` naming ``source`` and the first problem found (a pickled
        estimator, here or in a member, is one unless ``trust``)."""
        try:
            return _parse(cls, d, source, trust)
        except (ValueError, TypeError, KeyError) as e:  # a malformed entry, whatever it trips over
            raise CheckpointError(f"{source}: {_one_line(e, named=not isinstance(e, ValueError))}") from None

    # -- using one --------------------------------------------------------------------------------

    def build_model(self) -> TorchModel | SklearnModel | None:
        """The model with its trained weights (None for an ensemble); :class:`CheckpointError`
        when the weights or the estimator do not make one."""
        if self.kind == "ensemble":
            return None
        if self.kind == "sklearn":
            return self._build_estimator()
        cfg = self.model
        try:
            model = _build(cfg)
            model.load_state_dict(self.state_dict)
        except (TypeError, ValueError, KeyError, RuntimeError) as e:  # other hparams, or weights of another shape
            raise CheckpointError(f"{self.source}: cannot rebuild model '{self.name}' from it ({_one_line(e)})") from None
        return model

    def _build_estimator(self) -> SklearnModel:
        """The scikit-learn model, rebuilt from its state, or unpickled: the one place a pickle is
        read, and only one from a file read with ``trust`` (or made in this process)."""
        try:
            if isinstance(self.estimator, bytes):
                model = pickle.loads(self.estimator)
            else:
                model = _build(self.model).load_state(self.estimator)
            if not isinstance(model, MODELS[self.name]):
                raise TypeError(f"a {type(model).__name__}, not the model '{self.name}'")
        except Exception as e:  # damaged bytes raise whatever their reader makes of them
            raise CheckpointError(f"{self.source}: its estimator cannot be read ({_one_line(e)})") from None
        return model


# -- reading ----------------------------------------------------------------------------------------

_REQUIRED = ("kind", "model", "feature", "seconds", "vocabulary", "thresholds")


def _parse(cls: type[Checkpoint], d: Any, source: str, trust: bool) -> Checkpoint:
    """:meth:`Checkpoint.from_dict` without the error wrapping: ValueError for the first problem."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ValueError(f"not a saz checkpoint (no '{FORMAT}' header)")
    version = d.get("format_version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"checkpoint format {version} is newer than this saz understands")
    missing = [k for k in _REQUIRED if k not in d]
    if missing:
        raise ValueError(f"incomplete: missing {', '.join(repr(k) for k in missing)}")
    kind = _entry(d, "kind", str)
    if kind not in KINDS:
        raise ValueError(f"unknown kind '{kind}' (expected {', '.join(KINDS)})")
    if _WEIGHTS[kind] not in d:
        raise ValueError(f"incomplete: a {kind} checkpoint without its '{_WEIGHTS[kind]}'")
    members = tuple(cls.from_dict(m, f"{source}: member {i}", trust) for i, m in enumerate(_entry(d, "members", list, []), 1))
    return cls(
        kind=kind, model=_entry(d, "model", dict), feature=_entry(d, "feature", dict),
        seconds=_seconds(d["seconds"]), vocabulary=_vocabulary(d["vocabulary"]),
        thresholds=_floats(d["thresholds"], "thresholds"),
        norm=None if d.get("norm") is None else Normalizer.from_dict(d["norm"]), info=_entry(d, "info", dict, {}),
        state_dict=_state_dict(d["state_dict"]) if kind == "torch" else None,
        estimator=_estimator(d["estimator"], trust) if kind == "sklearn" else None, members=members,
        threshold_profiles={k: ThresholdProfile.from_dict(k, p) for k, p in _entry(d, "threshold_profiles", dict, {}).items()},
        window_thresholds=None if d.get("window_thresholds") is None else WindowThresholds.from_dict(d["window_thresholds"]),
        saz_version=_entry(d, "saz_version", str, "unknown"), source=source)


def _entry(d: dict, key: str, kind: type, default: Any = ...) -> Any:
    """``d[key]`` if it is a ``kind``; ``default`` when absent (required when not given)."""
    if key not in d and default is not ...:
        return default
    if not isinstance(d.get(key), kind):
        raise ValueError(f"'{key}' is {type(d.get(key)).__name__}, not {kind.__name__}")
    return d[key]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _seconds(x: Any) -> float:
    if not _is_number(x) or x <= 0:
        raise ValueError(f"'seconds' must be a positive number, not {x!r}")
    return float(x)


def _floats(x: Any, what: str) -> tuple[float, ...]:
    if not isinstance(x, (list, tuple)) or not all(_is_number(v) for v in x):
        raise ValueError(f"{what}: expected a list of numbers")
    return tuple(float(v) for v in x)


def _vocabulary(d: Any) -> Vocabulary:
    names, aliases = (d.get("names"), d.get("aliases", {})) if isinstance(d, dict) else (None, None)
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names) and isinstance(aliases, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in aliases.items())):
        raise ValueError("vocabulary: expected names (a list of text) and aliases (text to text)")
    return Vocabulary.from_dict(d)


def _estimator(x: Any, trust: bool) -> dict[str, Any] | bytes:
    """A scikit-learn checkpoint's estimator: its model's state (a dict), or a pickle (bytes, an
    older saz's) only when ``trust``: unpickling it would run whatever code the file holds."""
    if isinstance(x, bytes) and not trust:
        raise ValueError(PICKLED)
    if not isinstance(x, (dict, bytes)):
        raise ValueError(f"'estimator' is {type(x).__name__}, not a model's state")
    return x


def _state_dict(d: Any) -> dict[str, torch.Tensor]:
    if not isinstance(d, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in d.items()):
        raise ValueError("state_dict: expected a dict of named tensors")
    return d


def _one_line(e: BaseException, named: bool = True) -> str:
    """The first sentence of ``e``'s message (after its type when ``named``), for a one-line error."""
    text = " ".join(str(e.args[0] if isinstance(e, KeyError) and e.args else e).split())
    first = text.split(". ")[0][:200]
    return f"{type(e).__name__}: {first}" if named and first else first or type(e).__name__


# -- checking ---------------------------------------------------------------------------------------


def _check_model(ckpt: Checkpoint) -> None:
    """The kind, model config, weights and feature agree; ValueError saying where not."""
    cfg, kind, n = ckpt.model, ckpt.kind, len(ckpt.vocabulary)
    if kind not in KINDS:
        raise ValueError(f"unknown kind '{kind}' (expected {', '.join(KINDS)})")
    if not isinstance(cfg.get("name"), str):
        raise ValueError("model: no name")
    try:
        feature_from_config(ckpt.feature)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"feature: {_one_line(e, named=False)}") from None
    if kind == "ensemble":
        return
    if cfg["name"] not in MODELS or MODELS[cfg["name"]].kind != kind:
        raise ValueError(f"model: '{cfg['name']}' is no registered {kind} model")
    shape = cfg.get("input_shape")
    if not (isinstance(shape, (list, tuple)) and shape and all(isinstance(s, int) and s > 0 for s in shape)):
        raise ValueError("model: input_shape must be a list of positive sizes")
    if cfg.get("n_classes") != n or not isinstance(cfg.get("hparams"), dict):
        raise ValueError(f"model: expected {n} outputs (one per class) and hparams, got {cfg.get('n_classes')!r} outputs")
    if kind == "torch":
        _check_weights(cfg, ckpt.state_dict)
    if kind == "sklearn" and not isinstance(ckpt.estimator, (dict, bytes)):
        raise ValueError("a sklearn checkpoint without its estimator")
    if ckpt.norm is not None and not ckpt.norm.fits(tuple(shape)):
        raise ValueError(f"norm: statistics of shape {ckpt.norm.mean.shape} do not fit inputs of shape {tuple(shape)}")


def _build(cfg: dict[str, Any]) -> TorchModel | SklearnModel:
    """The untrained model the config ``cfg`` describes."""
    return build(cfg["name"], cfg["input_shape"], cfg["n_classes"], **cfg["hparams"])


def _check_weights(cfg: dict[str, Any], state_dict: Any) -> None:
    """``state_dict`` holds exactly the tensors, of exactly the shapes, of the model its config
    describes (built on the meta device: no memory, no arithmetic); ValueError naming the first
    that differs, so weights that fit no such model fail when read, not when first used."""
    if not isinstance(state_dict, dict):
        raise ValueError("a torch checkpoint without its state_dict")
    try:
        with torch.device("meta"):
            expected = _build(cfg).state_dict()
    except (TypeError, ValueError, KeyError, RuntimeError) as e:  # hparams this model does not take
        raise ValueError(f"model: cannot build '{cfg['name']}' from its config ({_one_line(e)})") from None
    model = f"model '{cfg['name']}' as its config builds it"
    missing, extra = [k for k in expected if k not in state_dict], [k for k in state_dict if k not in expected]
    if missing or extra:
        raise ValueError(f"state_dict: no '{missing[0]}', which {model} has" if missing
                         else f"state_dict: '{extra[0]}', which {model} does not have")
    for k, v in expected.items():
        if tuple(state_dict[k].shape) != tuple(v.shape):
            raise ValueError(f"state_dict: '{k}' has shape {tuple(state_dict[k].shape)}, {model} needs {tuple(v.shape)}")


def _check_members(ckpt: Checkpoint) -> None:
    """An ensemble has at least two members, named in its config, of its feature, clip length and vocabulary."""
    if ckpt.kind != "ensemble":
        if ckpt.members:
            raise ValueError(f"a {ckpt.kind} checkpoint with members")
        return
    if len(ckpt.members) < 2:
        raise ValueError("an ensemble needs at least two members")
    if list(ckpt.model.get("members", [])) != [m.name for m in ckpt.members]:
        raise ValueError("model: the member names differ from the members'")
    combination(str(ckpt.combine))
    for i, m in enumerate(ckpt.members, 1):
        for what in ("feature", "seconds", "vocabulary"):
            if getattr(m, what) != getattr(ckpt, what):
                raise ValueError(f"member {i} differs from the ensemble in its {what}")


def _check_thresholds(ckpt: Checkpoint) -> None:
    """One threshold in [0, 1] per class: the checkpoint's own, each profile's, each window's."""
    n = len(ckpt.vocabulary)
    t = np.asarray(ckpt.thresholds, dtype=np.float64)
    if t.shape != (n,):
        raise ValueError(f"{t.size} thresholds for {n} classes")
    if not ((t >= 0) & (t <= 1)).all():
        raise ValueError("thresholds: values outside [0, 1]")
    for name, profile in ckpt.threshold_profiles.items():
        _profile_row(name, profile.thresholds, n)
    for window, thresholds in (ckpt.window_thresholds.windows.items() if ckpt.window_thresholds else ()):
        _window_row(window, thresholds, n)


def _profile_row(name: Any, thresholds: Any, n: int) -> tuple[float, ...]:
    """The ``n`` thresholds of profile ``name`` as floats; ValueError for a bad name or values."""
    t = np.asarray(thresholds, dtype=np.float64)
    if not isinstance(name, str) or name == TUNED or not name.isidentifier():
        raise ValueError(f"'{name}' cannot name a threshold profile (a word other than '{TUNED}')")
    if t.shape != (n,) or not ((t >= 0) & (t <= 1)).all():
        raise ValueError(f"profile '{name}': expected {n} thresholds in [0, 1], got shape {t.shape}")
    return tuple(float(x) for x in t)


def _window_row(window: Any, thresholds: Any, n: int) -> tuple[float, tuple[float, ...]]:
    """``(window, thresholds)`` as floats; ValueError unless the window is positive and there are ``n`` thresholds."""
    t = np.asarray(thresholds, dtype=np.float64)
    if not window > 0 or t.shape != (n,) or not ((t >= 0) & (t <= 1)).all():
        raise ValueError(f"window {window}: expected a positive window and {n} thresholds in [0, 1], got shape {t.shape}")
    return float(window), tuple(float(x) for x in t)
