"""Training any registered model on feature arrays, for hard, soft and partial labels.

Protocols (``protocol``):

* ``auto``: the labels as they are: BCE on hard targets, on soft targets (HamNava's soft
  probabilities as targets), and masked to the known entries for partial labels (NaN =
  unknown, OpenMIC and IRMAS training); per-class thresholds tuned on validation.
* ``hard``: targets binarised at 0.5 first (HamNava Table 2, "hard"); thresholds tuned.
* ``soft-regression``: MSE between sigmoid outputs and soft targets; scored by MSE and R^2.
* ``soft-train-hard-eval``: trained as ``soft-regression``, scored on binarised truth at a
  fixed 0.5 threshold (accuracy and F1).

A run directory holds ``run.json`` (the run's settings: its configuration, feature, clip length,
vocabulary and a fingerprint of its data), ``log.csv`` (one row per epoch, its validation scores
read as the checkpoint's are: :func:`validation_scores`), ``state.pt``
(everything needed to go on: weights, optimiser, early-stopping counters, history) and, at the
end, ``model.pt``, the checkpoint of the best epoch. Every epoch draws its shuffling, dropout and
augmentation from ``(seed, epoch)`` only, so ``resume=True`` after an interruption gives the same
weights as an uninterrupted run; a resume with other settings than ``run.json``'s (but for
:data:`RESUMABLE`) is refused, as is a damaged ``state.pt``. All files are written atomically,
and the temporary files of writes an interruption cut short are removed by the next run.
"""

from __future__ import annotations

import hashlib
import io as _io
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from saz import io, metrics
from saz.datasets.base import Dataset
from saz.features import Feature, feature_from_config
from saz.features.dataset import dataset_features, typical_seconds
from saz.labels import BINARIZE_RULES, LabelSet, Vocabulary, binarize
from saz.models.balance import class_counts, oversample
from saz.models.base import SklearnModel, TorchModel, build, count_parameters, get_model_class
from saz.models.bundled import resolve_model
from saz.models.checkpoint import Checkpoint
from saz.models.normalizer import Normalizer
from saz.progress import progress_bar
from saz.vocabulary import align_labels

PROTOCOLS = ("auto", "hard", "soft-regression", "soft-train-hard-eval")
# What early stopping keeps the best epoch by: "auto" (-MSE for soft-regression, else validation
# mAP), or one column of log.csv (the losses and MSE lower-is-better, the others higher).
MONITORS = ("auto", "val_mse", "val_loss", "train_loss", "val_map", "val_macro_f1_present")
LOWER_IS_BETTER = ("val_mse", "val_loss", "train_loss")
UNKNOWN_LABELS = ("absent", "skip")  # what a classifier (rf, xgb) makes of an unknown label
# Settings newer than some run folders: a run.json without them was started with these values.
LATER_SETTINGS = {"binarize": "ge", "monitor": "auto", "oversample": False, "unknown_labels": "absent"}
RESUMABLE = ("epochs", "patience", "budget_cpu_minutes", "device")  # a resume may change them: how long, and where
Fresh = Callable[[int], "tuple[np.ndarray, np.ndarray] | None"]


@dataclass
class TrainConfig:
    """Everything that decides a run; stored in the checkpoint."""

    model: str
    hparams: dict[str, Any] = field(default_factory=dict)
    protocol: str = "auto"
    epochs: int = 30
    patience: int = 6
    budget_cpu_minutes: float | None = None  # stop when training has used this much CPU time (mid-epoch too)
    batch_size: int | None = None            # None: the model's own
    lr: float | None = None
    weight_decay: float | None = None
    augment: bool | None = None              # None: the model's own recipe (saznet's), if any
    seed: int = 0
    init: str | None = None                  # start from this checkpoint's weights (init_checkpoint: 'default:2'...)
    device: str = "auto"                     # where PyTorch models train: auto (CUDA when there is one), cpu, cuda[:N]
    label_smoothing: float = 0.0             # training targets pulled towards 0.5 by this share (0: none)
    binarize: str = "ge"                     # soft labels to hard at 0.5: "ge" (>=) or "gt" (>, HamNava's)
    monitor: str = "auto"                    # early stopping's criterion (MONITORS): val_mse as HamNava, train_loss...
    oversample: bool = False                 # rare classes oversampled with the MedleyDB report's augmentation
    unknown_labels: str = "absent"           # rf/xgb: unknown (NaN) entries count as "absent", or "skip": each class
                                             # trains on the clips labelled for it (OpenMIC's binary relevance)

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol '{self.protocol}' (choose from {', '.join(PROTOCOLS)})")
        if not 0.0 <= self.label_smoothing < 0.5:
            raise ValueError(f"label_smoothing must be in [0, 0.5), got {self.label_smoothing}")
        if self.monitor not in MONITORS:
            raise ValueError(f"unknown monitor '{self.monitor}' (choose from {', '.join(MONITORS)})")
        if self.unknown_labels not in UNKNOWN_LABELS:
            raise ValueError(f"unknown_labels must be one of {', '.join(UNKNOWN_LABELS)}, got '{self.unknown_labels}'")
        if self.binarize not in BINARIZE_RULES:
            raise ValueError(f"binarize must be one of {', '.join(BINARIZE_RULES)}, got '{self.binarize}'")
        get_model_class(self.model)
        torch_device(self.device)

    @property
    def uses_mse(self) -> bool:
        return self.protocol in ("soft-regression", "soft-train-hard-eval")


def torch_device(name: str) -> torch.device:
    """The device ``name`` means here ('auto': the first CUDA GPU if any, else the CPU), or a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device '{name}' (auto, cpu, cuda or cuda:N)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device '{name}': this machine has no CUDA GPU that PyTorch can use")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device '{name}': saz trains on cpu or cuda")
    return dev


def training_targets(y: np.ndarray, protocol: str, rule: str = "ge") -> np.ndarray:
    """The targets a protocol trains on (NaN stays unknown); ``rule`` binarises for ``hard``."""
    return binarize(y, 0.5, rule) if protocol == "hard" else np.asarray(y, dtype=np.float32)


def evaluation_truth(y: np.ndarray, protocol: str, rule: str = "ge") -> np.ndarray:
    """The truth a protocol scores against: binarised by ``rule`` for the hard-evaluation protocols."""
    hard = protocol in ("hard", "soft-train-hard-eval")
    return binarize(y, 0.5, rule) if hard else np.asarray(y, dtype=np.float32)


def masked_loss(logits: torch.Tensor, y: torch.Tensor, mse: bool, pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """BCE (optionally class-weighted) or MSE on sigmoid outputs, averaged over known entries."""
    known = ~torch.isnan(y)
    target = torch.nan_to_num(y, nan=0.0)
    if mse:
        per = (torch.sigmoid(logits) - target) ** 2
    else:
        per = F.binary_cross_entropy_with_logits(logits, target, reduction="none", pos_weight=pos_weight)
    return (per * known).sum() / known.sum().clamp(min=1)


def class_weights(y: np.ndarray) -> torch.Tensor:
    """Positive weight ``sqrt(negatives / positives)`` per class, in [1, 20]."""
    t = np.nan_to_num(y, nan=0.0) >= 0.5
    known = ~np.isnan(y)
    pos = t.sum(0)
    neg = known.sum(0) - pos
    return torch.from_numpy(np.clip(np.sqrt(neg / np.maximum(pos, 1)), 1.0, 20.0).astype(np.float32))


def _torch_state(blob: dict) -> bytes:
    buf = _io.BytesIO()
    torch.save(blob, buf)
    return buf.getvalue()


def digest(*parts: bytes) -> str:
    """A short hash of ``parts`` in order (each one's length goes first, so no two ways of cutting
    the same bytes into parts collide): a fingerprint of a run's data."""
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little") + part)
    return h.hexdigest()[:16]


def _first_difference(stored: dict, now: dict, prefix: str = "") -> tuple[str, Any, Any] | None:
    """The first setting (a dotted name, in the order of ``now``) whose value differs, and its two values."""
    for key in [*now, *(k for k in stored if k not in now)]:
        was, new = stored.get(key), now.get(key)
        if isinstance(was, dict) and isinstance(new, dict):
            if (found := _first_difference(was, new, f"{prefix}{key}.")) is not None:
                return found
        elif was != new:
            return f"{prefix}{key}", was, new
    return None


def _member_spec(spec: str) -> tuple[str, int | None]:
    """``'default:2'`` -> ``('default', 2)``; a spec without a ``:N`` ending -> ``(spec, None)``."""
    head, sep, tail = spec.rpartition(":")
    return (head, int(tail)) if sep and tail.isdigit() else (spec, None)


def init_checkpoint(spec: str) -> Checkpoint:
    """The checkpoint a run starts from (``init``): 'default' or a checkpoint file, and of an
    ensemble (the default is one of three saznets) a member, which has weights to start from:
    the first, or with ``SPEC:N`` the N-th (from 1). ValueError for a member the ensemble lacks,
    or ``:N`` after a checkpoint that is no ensemble."""
    path, n = _member_spec(spec)
    ckpt = Checkpoint.load(resolve_model(path))
    if ckpt.kind != "ensemble":
        if n is not None:
            raise ValueError(f"{path}: not an ensemble, so it has no member {n} to start from")
        return ckpt
    if not 1 <= (n or 1) <= len(ckpt.members):
        raise ValueError(f"{spec}: the ensemble has members 1 to {len(ckpt.members)}")
    return ckpt.members[(n or 1) - 1]


def starting_feature(cfg: TrainConfig) -> dict[str, Any]:
    """The feature configuration a run starts from: its ``init`` checkpoint's (the weights were
    trained on it), else the model's default."""
    return dict(init_checkpoint(cfg.init).feature if cfg.init else get_model_class(cfg.model).default_feature)


def _on_vocabulary(ds: Dataset, vocab: Vocabulary, spec: str) -> Dataset:
    """``ds`` with its labels on ``vocab`` (:func:`saz.vocabulary.align_labels`; a class they
    never name is unknown), or ValueError naming the classes of ``ds`` that ``vocab`` lacks."""
    if list(ds.vocab.names) == list(vocab.names):
        return ds
    y, dropped = align_labels(ds.y, ds.vocab, vocab)
    if dropped:
        raise ValueError(f"{spec}: its vocabulary has no {', '.join(dropped)}: fine-tuning keeps the classes of the "
                         "checkpoint it starts from (train one from scratch to learn others)")
    return Dataset(ds.name, ds.root, ds.clips, LabelSet(vocab, y), list(ds.problems))


def fine_tuning_sets(cfg: TrainConfig, train: Dataset, val: Dataset) -> tuple[Dataset, Dataset]:
    """``train`` and ``val`` labelled over the vocabulary of the run's ``init`` checkpoint (as they
    are without one): a class named by another of its names (``fiddle``) is that class, and a
    class the labels never name is unknown (NaN: taught neither present nor absent, so the model
    keeps what it knew of it). ValueError for a labelled class the checkpoint does not know."""
    if not cfg.init:
        return train, val
    vocab = init_checkpoint(cfg.init).vocabulary
    return _on_vocabulary(train, vocab, cfg.init), _on_vocabulary(val, vocab, cfg.init)


def validation_scores(y_val: np.ndarray, p_val: np.ndarray, vocab: Vocabulary, protocol: str,
                      keep: np.ndarray | None = None, rule: str = "ge") -> tuple[metrics.Evaluation, np.ndarray]:
    """A run's one reading of its validation clips, every epoch (``log.csv``) and at the end (the
    checkpoint's ``validation``, the line ``saz train`` prints): the scores at the thresholds the
    checkpoint keeps (tuned for F1 on these clips, ``keep``'s for a class without a positive
    there when given; 0.5 for the soft protocols), and those thresholds. Its F1 is the macro F1
    over the classes with a positive validation clip
    (:attr:`saz.metrics.Evaluation.macro_f1_present`, ``val_macro_f1_present``)."""
    truth = evaluation_truth(y_val, protocol, rule)
    if protocol in ("auto", "hard"):
        thresholds = metrics.tune_thresholds(truth, p_val)
        if keep is not None:
            decided = (np.nan_to_num(truth, nan=0.0) >= 0.5).any(axis=0)
            thresholds = np.where(decided, thresholds, np.asarray(keep, np.float32)).astype(np.float32)
    else:
        thresholds = np.full(len(vocab), 0.5, np.float32)
    return metrics.evaluate(truth, p_val, vocab, thresholds), thresholds


def soft_mse(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared error of probabilities against the labels as they are (soft), over the known entries."""
    known = ~np.isnan(y)
    return float(np.mean((np.asarray(p, np.float64)[known] - np.asarray(y, np.float64)[known]) ** 2)) if known.any() else float("nan")


def _score(row: dict, monitor: str, protocol: str) -> float:
    """Early-stopping score of an epoch's ``log.csv`` row (higher is better): ``monitor``'s column,
    negated when lower is better; ``auto``: -MSE for soft regression, else mAP (F1 without one)."""
    if monitor == "auto":
        monitor = "val_mse" if protocol == "soft-regression" else "val_map"
        if monitor == "val_map" and np.isnan(row["val_map"]):
            monitor = "val_macro_f1_present"
    value = float(row[monitor])
    return -np.inf if np.isnan(value) else (-value if monitor in LOWER_IS_BETTER else value)


class Trainer:
    """Trains one model on ``(X, y)`` arrays and writes the run directory."""

    def __init__(self, cfg: TrainConfig, feature: Feature, seconds: float, vocab: Vocabulary, run_dir: str | Path,
                 progress: bool = True, data_info: dict[str, Any] | None = None):
        self.cfg = cfg
        self.feature = feature
        self.seconds = seconds
        self.vocab = vocab
        self.run = Path(run_dir)
        self.progress = progress
        self.data_info = data_info or {}
        self.cls = get_model_class(cfg.model)
        self.start = init_checkpoint(cfg.init) if cfg.init else None  # the checkpoint the weights start from

    # -- shared --------------------------------------------------------------------------------

    def settings(self, y: np.ndarray, y_val: np.ndarray) -> dict[str, Any]:
        """What makes this run this run, as ``run.json`` keeps it: the configuration less
        :data:`RESUMABLE`, the feature, clip length and vocabulary, and the data: clip counts, a
        hash of the labels, and the dataset's name and clip-id hash where ``data_info`` has them."""
        config = {k: v for k, v in asdict(self.cfg).items() if k not in RESUMABLE}
        labels = digest(*(np.ascontiguousarray(t, np.float32).tobytes() for t in (y, y_val)))
        data = {"train_clips": len(y), "validation_clips": len(y_val), "labels": labels,
                **{k: self.data_info[k] for k in ("dataset", "clips") if k in self.data_info}}
        return io.jsonable({**config, "feature": self.feature.config(), "seconds": self.seconds,
                            "vocabulary": list(self.vocab.names), "data": data})

    def _check_same_run(self, settings: dict[str, Any]) -> None:
        """Refuse (one line naming the setting) to resume a run whose ``run.json`` holds other
        settings; a run folder without one (nothing to resume, or written before it) passes."""
        path = self.run / "run.json"
        if not (self.run / "state.pt").exists() or not path.exists():
            return
        try:
            stored = {**LATER_SETTINGS, **json.loads(path.read_text())}
        except (OSError, ValueError) as e:
            raise ValueError(f"{path}: damaged, cannot check the run's settings ({type(e).__name__})") from None
        if (found := _first_difference(stored, settings)) is not None:
            name, was, now = found
            raise ValueError(f"{path}: cannot resume with {name}={json.dumps(now)}: the run was started with "
                             f"{name}={json.dumps(was)} (resume with its settings, or train into another folder)")

    def _validation(self, y_val: np.ndarray, p_val: np.ndarray) -> tuple[metrics.Evaluation, np.ndarray]:
        """:func:`validation_scores` of this run (a fine-tuned class without a validation positive
        keeps the threshold of the checkpoint it started from)."""
        keep = None if self.start is None else np.asarray(self.start.thresholds, np.float32)
        return validation_scores(y_val, p_val, self.vocab, self.cfg.protocol, keep, self.cfg.binarize)

    def _info(self, history: list[dict], best_epoch: int, val: metrics.Evaluation, cpu: float, n_params: int | None) -> dict:
        return {"protocol": self.cfg.protocol, "config": asdict(self.cfg), "data": self.data_info,
                "best_epoch": best_epoch, "epochs_run": len(history), "cpu_seconds": cpu, "parameters": n_params,
                "validation": {**val.subset("micro", "macro"), "macro_f1_present": val.macro_f1_present,
                               **val.subset("map", "mse", "r2")},
                "history": history}

    def _finish(self, model: TorchModel | SklearnModel, norm: Normalizer | None, p_val: np.ndarray, y_val: np.ndarray,
                history: list[dict], best_epoch: int, cpu: float) -> Path:
        val, thresholds = self._validation(y_val, p_val)
        n_params = count_parameters(model) if isinstance(model, TorchModel) else None
        info = self._info(history, best_epoch, val, cpu, n_params)
        ckpt = Checkpoint.from_model(model, self.feature, self.seconds, self.vocab, thresholds, norm, info)
        return ckpt.save(self.run / "model.pt")

    def fit(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, resume: bool = False,
            fresh: Fresh | None = None) -> Path:
        """Train, early-stop on validation, and write ``model.pt``; returns its path.

        ``fresh(max_clips)`` (e.g. :meth:`saz.synth.stream.FreshClips.take`), when given, is
        asked before every epoch after the first for new clips, which replace the oldest of
        the training pool. Resuming such a run continues the weights from a fresh pool.
        """
        if len(X) == 0 or len(X_val) == 0:
            raise ValueError("training and validation sets must both hold clips")
        self.run.mkdir(parents=True, exist_ok=True)
        io.remove_temp_files(self.run)  # one run writes a run folder: a temporary file there is an interrupted write's
        settings = self.settings(y, y_val)
        if resume:
            self._check_same_run(settings)
        io.write_json(self.run / "run.json", settings)
        if issubclass(self.cls, SklearnModel):
            return self._fit_sklearn(X, y, X_val, y_val)
        return self._fit_torch(X, y, X_val, y_val, resume, fresh)

    # -- scikit-learn ----------------------------------------------------------------------------

    def _fit_sklearn(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray) -> Path:
        if self.cfg.uses_mse:
            raise ValueError(f"{self.cfg.model} is a classifier; soft-label protocols need a neural model")
        cpu0 = time.process_time()
        targets = binarize(y, 0.5, self.cfg.binarize)
        if self.cfg.unknown_labels == "absent":
            targets = np.nan_to_num(targets, nan=0.0)
        model = build(self.cfg.model, X.shape[1:], len(self.vocab), **self.cfg.hparams).fit(X, targets, seed=self.cfg.seed)
        p_val = model.predict_proba(X_val)
        val = self._validation(y_val, p_val)[0]
        cpu = time.process_time() - cpu0
        history = [{"epoch": 1, "train_loss": float("nan"), "val_loss": float("nan"),
                    "val_macro_f1_present": val.macro_f1_present, "val_map": val.map, "cpu_seconds": cpu}]
        self._write_log(history)
        return self._finish(model, None, p_val, y_val, history, 1, cpu)

    # -- PyTorch ----------------------------------------------------------------------------------

    def _write_log(self, history: list[dict]) -> None:
        cols = list(history[0])
        lines = [",".join(cols)] + [",".join(f"{h[c]:.6g}" if isinstance(h[c], float) else str(h[c]) for c in cols)
                                    for h in history]
        io.write_text(self.run / "log.csv", "\n".join(lines) + "\n")

    @torch.no_grad()
    def _predict(self, model: TorchModel, X: np.ndarray, norm: Normalizer, batch: int) -> np.ndarray:
        model.eval()
        dev = next(model.parameters()).device
        out = [torch.sigmoid(model(norm(torch.from_numpy(X[i:i + batch])).to(dev))).cpu() for i in range(0, len(X), batch)]
        return torch.cat(out).numpy()

    def _warm_start(self, model: TorchModel) -> Normalizer | None:
        """Load the weights of the ``init`` checkpoint into ``model`` (fine-tuning), or say why
        not; returns its input standardisation, which those weights were trained behind."""
        ckpt, path = self.start, self.cfg.init
        if ckpt.name != self.cfg.model or list(ckpt.vocabulary.names) != list(self.vocab.names):
            raise ValueError(f"{path}: a {ckpt.name} checkpoint over other classes cannot start a "
                             f"{self.cfg.model} run over this vocabulary")
        if dict(ckpt.feature) != self.feature.config():
            raise ValueError(f"{path}: trained on another feature ({_first_difference(ckpt.feature, self.feature.config())[0]} "
                             "differs): its weights would hear other inputs")
        try:
            model.load_state_dict(ckpt.state_dict)
        except RuntimeError as e:
            raise ValueError(f"{path}: weights do not fit this model ({str(e).splitlines()[0]})") from None
        return ckpt.norm

    @property
    def _budget(self) -> float | None:
        """The CPU-seconds budget, if any."""
        return None if self.cfg.budget_cpu_minutes is None else 60.0 * self.cfg.budget_cpu_minutes

    def _fit_torch(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, resume: bool,
                   fresh: Fresh | None = None) -> Path:
        """Set up (or resume), run epochs until done, out of patience or out of budget; keep the best epoch."""
        cfg = self.cfg
        pool = _Pool(np.array(X, dtype=np.float32, order="C", copy=True if fresh is not None else None),
                     torch.from_numpy(training_targets(y, cfg.protocol, cfg.binarize)), cfg.binarize)
        X_val = np.ascontiguousarray(X_val, dtype=np.float32)
        run = self._setup(pool)
        prog = self._start_or_resume(run, resume)
        n_batches = (len(pool.X) + run.batch - 1) // run.batch
        with progress_bar(self.progress) as bar:
            task = bar.add_task(f"train {cfg.model}", total=cfg.epochs * n_batches,
                                completed=len(prog.history) * n_batches, info="")
            for epoch in range(len(prog.history) + 1, cfg.epochs + 1):
                if prog.bad >= cfg.patience or (self._budget is not None and prog.cpu >= self._budget):
                    break
                if fresh is not None and epoch > 1 and (new := fresh(len(pool.X))) is not None:
                    pool.swap_in(new, cfg.protocol)
                cpu0 = time.process_time()
                deadline = None if self._budget is None else cpu0 + self._budget - prog.cpu
                train_loss = self._epoch(run, pool, epoch, deadline,
                                         lambda info: bar.update(task, advance=1, info=info))
                val_loss, val_mse, result = self._validate(run, X_val, y_val)
                prog.cpu += time.process_time() - cpu0
                self._record(prog, run.model, epoch, (train_loss, val_loss, val_mse), result, pool.fresh_clips)
                bar.update(task, info=f"epoch {epoch} loss {train_loss:.4f} val mAP {prog.history[-1]['val_map']:.3f}")
                self._write_log(prog.history)
                self._write_state(run, prog)
        run.model.load_state_dict(prog.best_weights)
        p_val = self._predict(run.model, X_val, run.norm, 256)
        return self._finish(run.model, run.norm, p_val, y_val, prog.history, prog.best_epoch, prog.cpu)

    def _setup(self, pool: "_Pool") -> "_Setup":
        """The seeded (optionally warm-started) model on its device, the normaliser fitted on the
        pool, the optimiser, and the augmentation and class weights the model asks for."""
        cfg, cls = self.cfg, self.cls
        torch.manual_seed(cfg.seed)
        model = build(cfg.model, pool.X.shape[1:], len(self.vocab), **cfg.hparams)
        norm = self._warm_start(model) if self.start is not None else None
        dev = torch_device(cfg.device)  # batches are drawn and augmented on the CPU, then moved
        model.to(dev)
        if norm is None or not norm.fits(pool.X.shape[1:]):
            norm = Normalizer.fit(pool.X, cls.input_kind)
        opt_cfg = dict(cls.optimizer)
        if cfg.lr is not None:
            opt_cfg["lr"] = cfg.lr
        if cfg.weight_decay is not None:
            opt_cfg["weight_decay"] = cfg.weight_decay
        opt = torch.optim.Adam(model.parameters(), **opt_cfg)
        augment = getattr(cls, "augment", None) if cfg.augment in (None, True) else None
        if cfg.augment and augment is None:
            raise ValueError(f"{cfg.model} has no augmentation recipe")
        if augment is not None and cls.input_kind != "spectrogram":
            augment = None
        balanced = getattr(cls, "class_balanced", False) and not cfg.uses_mse
        pos_weight = class_weights(pool.targets.numpy()).to(dev) if balanced else None
        return _Setup(model, opt, norm, dev, cfg.batch_size or cls.batch_size, augment, pos_weight)

    def _start_or_resume(self, run: "_Setup", resume: bool) -> "_Progress":
        """A fresh start, or (``resume`` and a ``state.pt`` there) the weights, optimiser and
        bookkeeping of the last epoch written."""
        state_path = self.run / "state.pt"
        if not (resume and state_path.exists()):
            return _Progress([], {k: v.clone() for k, v in run.model.state_dict().items()})
        try:
            state = torch.load(state_path, map_location="cpu", weights_only=True)
            run.model.load_state_dict(state["model"])
            run.opt.load_state_dict(state["optimizer"])
            return _Progress(state["history"], state["best_weights"], state["best"], state["best_epoch"], state["bad"],
                             state["cpu"])
        except Exception as e:  # cut short, overwritten or another run's: whatever the damage, one line
            raise ValueError(f"{state_path}: damaged, cannot resume from it ({type(e).__name__}); "
                             "delete it to train the run from its start") from None

    def _epoch(self, run: "_Setup", pool: "_Pool", epoch: int, deadline: float | None,
               step: Callable[[str], None]) -> float:
        """One pass over the pool; returns the mean training loss.

        Shuffling, dropout and augmentation are drawn from ``(seed, epoch)`` only, so a resumed
        run repeats them. At ``deadline`` (a :func:`time.process_time`), the pass stops after
        the batch in hand (at least one); ``step`` reports each batch.
        """
        cfg = self.cfg
        torch.manual_seed(cfg.seed * 100_003 + epoch)
        gen = torch.Generator().manual_seed(cfg.seed * 7_919 + epoch)
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(pool.X))
        run.model.train()
        total, count = 0.0, 0
        for b in range((len(pool.X) + run.batch - 1) // run.batch):
            if b > 0 and deadline is not None and time.process_time() >= deadline:
                break  # the budget ends mid-epoch: validate what was learned and stop
            idx = np.sort(order[b * run.batch:(b + 1) * run.batch])
            xb, yb = torch.from_numpy(pool.X[idx]), pool.targets[idx]
            if run.augment is not None:
                xb, yb = run.augment(xb, yb, gen)
            yb = yb * (1 - cfg.label_smoothing) + 0.5 * cfg.label_smoothing  # NaN (unknown) stays NaN
            loss = masked_loss(run.model(run.norm(xb).to(run.dev)), yb.to(run.dev), cfg.uses_mse, run.pos_weight)
            run.opt.zero_grad()
            loss.backward()
            run.opt.step()
            total += loss.item() * len(idx)
            count += len(idx)
            step(f"epoch {epoch} loss {total / count:.4f}")
        return total / count

    def _validate(self, run: "_Setup", X_val: np.ndarray, y_val: np.ndarray) -> tuple[float, float, dict]:
        """The validation loss (against the training targets), MSE (against the labels as they
        are, soft) and scores of the model as it is now."""
        p_val = self._predict(run.model, X_val, run.norm, 256)
        y_val_t = torch.from_numpy(training_targets(y_val, self.cfg.protocol, self.cfg.binarize))
        val_loss = float(masked_loss(torch.logit(torch.from_numpy(p_val), eps=1e-7), y_val_t, self.cfg.uses_mse))
        return val_loss, soft_mse(y_val, p_val), self._validation(y_val, p_val)[0]

    def _record(self, prog: "_Progress", model: TorchModel, epoch: int, losses: tuple[float, float, float],
                result: dict, fresh_clips: int) -> None:
        """The epoch's row of the history (``losses``: training loss, validation loss and MSE) and
        early stopping's bookkeeping: a better ``monitor`` score keeps the weights and resets patience."""
        row = {"epoch": epoch, "train_loss": losses[0], "val_loss": losses[1],
               "val_macro_f1_present": result.macro_f1_present,
               "val_map": result.map if result.map is not None else float("nan"), "val_mse": losses[2],
               "cpu_seconds": prog.cpu, "fresh_clips": fresh_clips}
        score = _score(row, self.cfg.monitor, self.cfg.protocol)
        if score > prog.best or prog.best_epoch == 0:
            prog.best, prog.best_epoch, prog.bad = score, epoch, 0
            prog.best_weights = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            prog.bad += 1
        prog.history.append(row)

    def _write_state(self, run: "_Setup", prog: "_Progress") -> None:
        """``state.pt``: everything a resumed run needs to go on exactly as if never stopped."""
        io.write_bytes(self.run / "state.pt", _torch_state({
            "model": run.model.state_dict(), "optimizer": run.opt.state_dict(), "history": prog.history,
            "best": prog.best, "best_epoch": prog.best_epoch, "bad": prog.bad, "cpu": prog.cpu,
            "best_weights": prog.best_weights}))


@dataclass
class _Pool:
    """The training clips' features and targets; fresh clips replace the oldest, in turn."""

    X: np.ndarray
    targets: torch.Tensor
    rule: str = "ge"
    oldest: int = 0
    fresh_clips: int = 0

    def swap_in(self, new: tuple[np.ndarray, np.ndarray], protocol: str) -> None:
        """Put the clips of ``new`` (features, labels) in place of the oldest of the pool."""
        rows = (self.oldest + np.arange(len(new[0]))) % len(self.X)
        self.X[rows] = new[0]
        self.targets[rows] = torch.from_numpy(training_targets(new[1], protocol, self.rule))
        self.oldest = int((rows[-1] + 1) % len(self.X))
        self.fresh_clips += len(rows)


@dataclass
class _Setup:
    """What a PyTorch run trains with, fixed before its first epoch."""

    model: TorchModel
    opt: torch.optim.Optimizer
    norm: Normalizer
    dev: torch.device
    batch: int
    augment: Callable[..., tuple[torch.Tensor, torch.Tensor]] | None
    pos_weight: torch.Tensor | None


@dataclass
class _Progress:
    """What the epochs change and ``state.pt`` keeps: the history, early stopping's counters,
    the CPU time used and the best weights so far."""

    history: list[dict]
    best_weights: dict[str, torch.Tensor]
    best: float = -np.inf
    best_epoch: int = 0
    bad: int = 0
    cpu: float = 0.0


def training_input(cfg: TrainConfig, train: Dataset, feature_config: dict[str, Any] | None = None,
                   seconds: float | None = None) -> tuple[Feature, float]:
    """The feature (``feature_config``, else :func:`starting_feature`) and clip length
    (``seconds``, else the ``init`` checkpoint's, else the median clip of ``train``) a run trains
    on: what a stream of fresh clips must match."""
    feature = feature_from_config(feature_config or starting_feature(cfg))
    return feature, seconds or (init_checkpoint(cfg.init).seconds if cfg.init else typical_seconds(train.clips))


def train_on_dataset(cfg: TrainConfig, train: Dataset, val: Dataset, run_dir: str | Path,
                     feature_config: dict[str, Any] | None = None, seconds: float | None = None,
                     cache_dir: str | Path | None = None, resume: bool = False, progress: bool = True,
                     fresh: Fresh | None = None) -> Path:
    """Compute (cached) features of both sets with :func:`training_input`'s feature and length, and train.

    With ``cfg.init`` (fine-tuning), both sets are labelled over the vocabulary of the checkpoint
    the run starts from (:func:`fine_tuning_sets`), which keeps its feature, clip length, input
    standardisation and, for a class the validation clips have no positive of, its threshold.
    ``fresh(max_clips)``, when given, yields new clips (features over that same feature and
    length, labels over the training vocabulary), which each epoch swaps in for the oldest:
    e.g. the ``take`` that :func:`saz.synth.stream.fresh_clips` yields.
    """
    if list(train.vocab.names) != list(val.vocab.names):
        raise ValueError("training and validation sets have different vocabularies")
    train, val = fine_tuning_sets(cfg, train, val)
    feature, seconds = training_input(cfg, train, feature_config, seconds)
    X, y, ok, problems = dataset_features(train, feature, seconds, cache_dir, progress)
    X_val, y_val, _, val_problems = dataset_features(val, feature, seconds, cache_dir, progress)
    info = {"dataset": train.name, "root": str(train.root), "train_clips": len(X), "validation_clips": len(X_val),
            "label_kind": train.kind.value, "skipped": problems + val_problems,
            "clips": digest(*("\n".join(map(str, ds.ids)).encode() for ds in (train, val)))}
    if cfg.oversample:
        before = class_counts(y, train.vocab.names)
        X, y = oversample(X, y, train.clips[ok], feature, feature.sr, seconds, cfg.seed)
        info["balance"] = {"before": before, "after": class_counts(y, train.vocab.names), "train_clips": len(X)}
    if fresh is not None:
        info["fresh"] = True
    trainer = Trainer(cfg, feature, seconds, train.vocab, run_dir, progress=progress, data_info=info)
    return trainer.fit(X, y, X_val, y_val, resume=resume, fresh=fresh)
