"""Teaching one run: names onto classes, the frozen base's embeddings, the heads, the checkpoint, the check."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from saz.features import Feature, feature_from_config
from saz.labels import DEFAULT_ALIASES, Vocabulary, normalise_name
from saz.models.checkpoint import Checkpoint, ThresholdProfile, WindowThresholds
from saz.models.predictor import Predictor
from saz.models.taught import Taught
from saz.prediction import load_predictor
from saz.synth.acoustics import AcousticsConfig
from saz.progress import track
from saz.teach import heads
from saz.teach.checkset import BACKGROUND_FILE, ClipSet, decision_agreement, forgetting_check
from saz.teach.examples import (
    Items,
    TeachError,
    join,
    mixed_items,
    negative_examples,
    read_examples,
    solo_items,
    varied_items,
)
from saz.vocabulary import resolve_name

CHECK_CLIPS = 64  # clips of the no-forgetting check
MIXTURES = 5  # mixtures made of each window of a taught instrument
# In a new class's head, a solo window weighs this many times all the mixtures made of it. Chosen on
# the cultural benchmark at k = 5 (mean AP solo / mixed, seeds 0-2): 1x 0.828 / 0.658, 8x 0.856 / 0.656,
# 32x 0.873 / 0.657, 64x 0.867 / 0.637; on seeds 3-4, not used to choose, 1x 0.853 / 0.700, 32x 0.886 / 0.714.
# A refined class's head keeps 1x: the background clips guard the base's decisions on its music
# (at 32x, refining sitar and taiko from one recording cost the v1 check clips 0.016 macro F1). From
# one recording a refined class's threshold sits above every item without it (heads.scores): at k = 1
# (seeds 0-2) the check's worst change went from -0.014 / -0.004 / -0.009 to -0.006 / -0.004 / 0.000.
SOLO_WEIGHT = 32.0
# Tape-speed variations of each window of a taught instrument (within +-SEMITONES), sharing its weight.
# On the cultural benchmark (mean AP solo / mixed): k = 1 (seeds 0-2) none 0.534 / 0.443, 2 within 4
# semitones 0.547 / 0.433, 4 within 2 0.561 / 0.436, 4 within 4 0.584 / 0.447 (0.588 / 0.455 sharing
# the weight), 4 within 6 0.580 / 0.450, 8 within 3 0.576 / 0.452; k = 5 (seeds 0-4) none 0.878 /
# 0.679, 4 within 4 0.899 / 0.669, sharing the weight 0.892 / 0.680.
VARIATIONS = 4
SEMITONES = 4.0
# Rooms and per-stem EQ for those mixtures, and no mastering damage: on the cultural benchmark
# (k = 5, 3 seeds) rooms alone gave mixed AP 0.641 against 0.635 without and 0.609 with the whole
# chain; level, noise and codec variety reach the heads through the user's recordings, the
# negatives and the shipped background clips.
ROOMS = AcousticsConfig(compress=0.0, limit=0.0, eq=0.0, band_limit=0.0, noise=0.0, clip=0.0, resample=0.0,
                        lossy=0.0, level_db=(-0.5, -0.5))
BACKGROUND = "background:"  # the recording name of each shipped background clip, then its index
WITH_PROBABILITIES = True  # the base's class probabilities are part of the heads' embedding
Stage = Callable[[str, float], None]  # told (stage, fraction of it done) as a run goes


@dataclass
class TeachResult:
    """A taught checkpoint, each taught class's CV scores and the no-forgetting check."""

    checkpoint: Checkpoint
    classes: list[dict[str, Any]]
    check: dict[str, Any]


def plan_classes(names: list[str], vocab: Vocabulary) -> dict[str, str]:
    """Each given instrument name -> the class it teaches: the base class it or its alias names
    (refined), else the name itself (new); TeachError when two names mean one class."""
    plan: dict[str, str] = {}
    for name in dict.fromkeys(names):
        target = _meaning(vocab, name)
        clash = next((other for other, t in plan.items() if t == target), None)
        if clash is not None:
            raise TeachError(f"instrument names '{clash}' and '{name}' both mean the class '{target}': use one name")
        plan[name] = target
    return plan


def _meaning(vocab: Vocabulary, name: str) -> str:
    """The class of ``vocab`` that ``name`` means, directly, through saz's name table, or through
    a usual spelling of it (santur -> santour -> dulcimer); else ``name`` itself, normalised."""
    spelling = Vocabulary.from_names(DEFAULT_ALIASES).resolve(name, strict=False) or name
    return resolve_name(vocab, name) or resolve_name(vocab, spelling) or normalise_name(name)


def base_members(base: Checkpoint) -> list[Checkpoint]:
    """The networks of ``base`` to teach on (an ensemble's members, or the checkpoint itself);
    TeachError unless each has saznet's frame features, frame rate and attention pooling."""
    members = list(base.members) or [base]
    for m in members:
        net = m.build_model()
        pooled = all(hasattr(net, a) for a in ("frame_features", "classify", "attend"))
        if not pooled or type(net).frame_hop != Taught.frame_hop:
            raise TeachError(f"{base.source}: model '{m.name}' has no saznet frame features to teach on (use a saznet or the default)")
    return members


def taught_model(base: Checkpoint, n_classes: int, targets: list[int]) -> Taught:
    """The model ``taught`` on the frozen networks of ``base`` (weights and standardisation loaded), heads untrained."""
    members = base_members(base)
    shapes = [list(m.norm.mean.shape) if m.norm is not None else None for m in members]
    model = Taught(tuple(members[0].model["input_shape"]), n_classes, members=[m.model for m in members],
                   norm_shapes=shapes, combine=base.combine if base.kind == "ensemble" else "mean", targets=targets,
                   with_probabilities=WITH_PROBABILITIES)
    for m, part in zip(members, model.members):
        part.net.load_state_dict(m.state_dict)
        if m.norm is not None:
            part.mean.copy_(torch.from_numpy(m.norm.mean))
            part.std.copy_(torch.from_numpy(m.norm.std))
    return model.eval()


@torch.no_grad()
def embed(model: Taught, feature: Feature, waves: np.ndarray, progress: bool, batch: int = 32,
          on_stage: Stage | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Clip embeddings of ``waves`` by the frozen base and the base's probabilities (a progress bar,
    and ``on_stage("embedding", fraction)`` after each batch: this is the long part)."""
    chunks = range(0, len(waves), batch)
    Z, B = [], []
    for k, i in enumerate(track(chunks, "embedding", total=len(chunks), enabled=progress)):
        z, b = model.embed_with_base(torch.from_numpy(feature(waves[i:i + batch])))
        Z.append(z.numpy())
        B.append(b.numpy())
        if on_stage is not None:
            on_stage("embedding", (k + 1) / len(chunks))
    if not Z:
        return np.zeros((0, model.embed_mean.numel()), np.float32), np.zeros((0, model.n_base), np.float32)
    return np.concatenate(Z), np.concatenate(B)


def _extended(vocab: Vocabulary, new: list[str]) -> Vocabulary:
    """``vocab`` with the classes ``new`` appended, their usual aliases added where free."""
    names = (*vocab.names, *new)
    aliases = {**Vocabulary.from_names(names).aliases, **vocab.aliases}
    return Vocabulary(names, {k: v for k, v in aliases.items() if k not in names})


def _thresholds(base: tuple[float, ...], new: np.ndarray) -> tuple[float, ...]:
    return (*base, *(float(t) for t in new))


def _checkpoint(base: Checkpoint, model: Taught, vocab: Vocabulary, new_thresholds: np.ndarray,
                info: dict[str, Any]) -> Checkpoint:
    """The taught checkpoint: the base's thresholds (and profiles, window thresholds) with the new classes' appended."""
    profiles = {k: ThresholdProfile(_thresholds(p.thresholds, new_thresholds), p.about, p.scores)
                for k, p in base.threshold_profiles.items()}
    windows = None if base.window_thresholds is None else WindowThresholds(
        base.window_thresholds.about, {w: _thresholds(t, new_thresholds) for w, t in base.window_thresholds.windows.items()})
    ckpt = Checkpoint.from_model(model, feature_from_config(base.feature), base.seconds, vocab,
                                 _thresholds(base.thresholds, new_thresholds), None, info)
    return dataclasses.replace(ckpt, threshold_profiles=profiles, window_thresholds=windows)


def _weights(items: Items, refined: list[bool]) -> np.ndarray:
    """Each item's weight ``(n, classes)`` in each head's fit: a mixture or background clip 1; a solo
    window and its :data:`VARIATIONS` share the weight of all the mixtures made of it (each solo
    item, a negative's window too, weighs ``MIXTURES / (1 + VARIATIONS)``), :data:`SOLO_WEIGHT`
    times that for a new class."""
    solo = MIXTURES / (1 + VARIATIONS) * np.where(refined, 1.0, SOLO_WEIGHT)
    return np.where(items.mixed[:, None], 1.0, solo[None, :])


def _install_heads(model: Taught, Z: np.ndarray, items: Items, targets: list[int], base_t: np.ndarray,
                   cv_t: np.ndarray) -> None:
    """Fit the heads on all items; a refined class's head is shifted so that the base's threshold
    decides where its CV-tuned threshold did (the class keeps one threshold)."""
    mean, std = Z.mean(0), Z.std(0) + 1e-5
    W, b = heads.fit_heads((Z - mean) / std, items.labels, _weights(items, [t < model.n_base for t in targets]))
    for j, t in enumerate(targets):
        if t < model.n_base:
            b[j] += _logit(base_t[t]) - _logit(cv_t[j])
    with torch.no_grad():
        model.embed_mean.copy_(torch.from_numpy(mean))
        model.embed_std.copy_(torch.from_numpy(std))
        model.head.weight.copy_(torch.from_numpy(W))
        model.head.bias.copy_(torch.from_numpy(b))


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


@torch.no_grad()
def _with_background(base: Predictor, model: Taught, classes: list[str], items: Items,
                     Z: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray, Items]:
    """The embeddings and labels of ``items`` with the shipped background clips added when the base
    reads their features (:mod:`saz.teach.checkset`): ensembles of the base's music, where a refined
    class has its label and a new class is absent, with the base's probabilities ``B``. The joined
    items carry no waveforms: from here on everything works on embeddings."""
    bg = ClipSet.load(BACKGROUND_FILE)
    if not bg.fits(base):
        return Z, B, items
    cols = [bg.classes.index(c) if c in bg.classes else -1 for c in classes]
    labels = np.stack([np.nan_to_num(bg.y[:, c]) if c >= 0 else np.zeros(len(bg.y), np.float32) for c in cols], 1)
    parts = [model.embed_with_base(torch.from_numpy(bg.X[i:i + 32])) for i in range(0, len(bg.X), 32)]
    Zb, Bb = (torch.cat([part[k] for part in parts]).numpy() for k in (0, 1))
    names = [f"{BACKGROUND}{i}" for i in range(len(bg.X))]
    joined = Items(np.zeros((0, 0), np.float32), np.concatenate([items.labels, labels]), [*items.primary, *names],
                   [*items.parts, *(frozenset([r]) for r in names)], np.concatenate([items.mixed, np.ones(len(names), bool)]))
    return np.concatenate([Z, Zb]), np.concatenate([B, Bb]), joined


def _forgetting(base: Predictor, taught: Checkpoint, items: Items, feature: Feature, refined: list[int],
                seed: int) -> dict[str, Any]:
    """The no-forgetting check: on the shipped check set when the base reads its features (the
    default does), else on up to :data:`CHECK_CLIPS` of the user's own clips against the base's decisions."""
    check = ClipSet.load()
    if check.fits(base):
        return forgetting_check(base, Predictor(taught), check, refined)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(items.waves), min(CHECK_CLIPS, len(items.waves)), replace=False))
    return decision_agreement(base, Predictor(taught), feature(items.waves[chosen]), refined)


def teach(examples: str | os.PathLike, base: str | os.PathLike = "default", negatives: str | os.PathLike | None = None,
          seed: int = 0, progress: bool = True, on_skip: Callable[[str], None] = print,
          on_stage: Stage | None = None) -> TeachResult:
    """Teach ``base`` the instruments of ``examples`` (see :mod:`saz.teach`); unreadable recordings are
    reported by ``on_skip`` and left out. ``on_stage``, if given, is told each stage as it starts
    (reading, embedding, cross-validating, checking) and the embedding's fraction done (the web
    app's progress). TeachError for examples that teach nothing."""
    stage = on_stage or (lambda name, done: None)
    stage("reading", 0.0)
    start = time.process_time()
    base_pred = load_predictor(base)
    ckpt = base_pred.checkpoint
    rows = read_examples(examples)
    plan = plan_classes(list(rows["instrument"]), ckpt.vocabulary)
    rows["instrument"] = rows["instrument"].map(plan)
    if negatives is not None:
        rows = pd.concat([rows, negative_examples(negatives, seed)], ignore_index=True)
    classes = list(dict.fromkeys(plan.values()))
    new = [c for c in classes if c not in ckpt.vocabulary.names]
    vocab = _extended(ckpt.vocabulary, new)
    targets = [vocab.names.index(c) for c in classes]
    feature = feature_from_config(ckpt.feature)
    solo = solo_items(rows, classes, feature.sr, ckpt.seconds, on_skip)
    items = join(solo, varied_items(solo, seed, VARIATIONS, SEMITONES, feature.sr),
                 mixed_items(solo, classes, seed, MIXTURES, ROOMS, feature.sr))
    model = taught_model(ckpt, len(vocab), targets)
    stage("embedding", 0.0)
    Z, B, trained = _with_background(base_pred, model, classes, items, *embed(model, feature, items.waves, progress,
                                                                              on_stage=on_stage))
    stage("cross-validating", 0.0)
    Zs = (Z - Z.mean(0)) / (Z.std(0) + 1e-5)
    is_refined = [t < len(ckpt.vocabulary) for t in targets]
    weights = _weights(trained, is_refined)
    oof = heads.out_of_fold(Zs, trained, heads.folds(trained, classes, seed), weights)
    base_t = np.asarray(ckpt.thresholds)
    base_hit = [B[:, t] >= base_t[t] if refined else None for t, refined in zip(targets, is_refined)]
    base_music = np.array([r.startswith(BACKGROUND) for r in trained.primary])
    cv_t, scores = heads.scores(oof, trained, classes, base_hit, base_music)
    for j, row in enumerate(scores):  # the windows cut from the recordings, not their variations
        row["windows"] = int((solo.labels[:, j] > 0).sum())
    _install_heads(model, Z, trained, targets, base_t, cv_t)
    info = _info(ckpt, examples, plan, scores, targets, vocab, time.process_time() - start)
    new_t = np.asarray([cv_t[targets.index(t)] for t in range(len(ckpt.vocabulary), len(vocab))])
    taught = _checkpoint(ckpt, model, vocab, new_t, info)
    refined = [t for t in targets if t < len(ckpt.vocabulary)]
    stage("checking", 0.0)
    check = _forgetting(base_pred, taught, items, feature, refined, seed)
    taught = dataclasses.replace(taught, info={**taught.info, "forgetting_check": check})
    return TeachResult(taught, scores, check)


def _info(base: Checkpoint, examples: Any, plan: dict[str, str], scores: list[dict[str, Any]], targets: list[int],
          vocab: Vocabulary, cpu: float) -> dict[str, Any]:
    """What ``saz models info`` shows: the base, the examples, each taught class and its CV scores."""
    n_base = len(base.vocabulary)
    for row, t in zip(scores, targets):
        row["kind"] = "refined" if t < n_base else "new"
        row["given_as"] = [k for k, v in plan.items() if v == row["class"]]
    return {"protocol": "teach", "base": base.source, "base_validation": base.info.get("validation"),
            "validation": base.info.get("validation"), "examples": str(examples), "cpu_seconds": round(cpu, 1),
            "taught": scores, "cv": f"{heads.MAX_FOLDS}-fold at most, grouped by recording (never split inside one)",
            "classes": len(vocab)}
