"""Multi-seed and hyper-parameter sweeps: a trial per seed and setting, on any engine, compared.

A :class:`Trial` trains one model with one seed and one setting of its hyper-parameters on a
dataset and scores the checkpoint on the test split, in a folder of its own (``train/``,
``eval/``). :func:`run_trial` is a plain top-level function of the trial alone, so an engine can
run trials anywhere (a Ray task each with ``--engine ray``) and other drivers (a study) can reuse
it. A trial whose ``eval/report.json`` exists is done: a rerun does only the missing trials.
:func:`sweep` gathers the evaluation folders into :func:`saz.evaluation.compare.compare`, each
setting a model of its own, its seeds averaged.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from saz.scale import Engine


@dataclass(frozen=True)
class Trial:
    """One training and evaluation run: ``model`` with ``hparams`` and ``seed`` on the reader
    ``dataset`` at ``root`` (with its ``options``), trained for at most ``epochs``, in ``folder``."""

    model: str
    dataset: str
    root: str
    folder: str
    seed: int = 0
    hparams: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    epochs: int = 30
    test_split: str = "test"
    cache: str | None = None

    @property
    def setting(self) -> str:
        """The model and its setting, as the comparison names it (``rf n_estimators=50``)."""
        return " ".join([self.model, *(f"{k}={v}" for k, v in sorted(self.hparams.items()))])


def grid(model: str, dataset: str, root: str, out: str | Path, seeds: Sequence[int], values: dict[str, list[Any]],
         **common: Any) -> list[Trial]:
    """A trial per seed and per combination of ``values`` (each hyper-parameter's values), each in
    ``out/trials/<setting>-seed<N>``; ``common``: the other :class:`Trial` fields."""
    keys = sorted(values)
    settings = [dict(zip(keys, combo)) for combo in itertools.product(*(values[k] for k in keys))]
    out = Path(out)
    return [Trial(model, dataset, root, str(out / "trials" / _folder_name(model, h, s)), s, h, **common)
            for h in settings for s in seeds]


def _folder_name(model: str, hparams: dict[str, Any], seed: int) -> str:
    return "-".join([model, *(f"{k}={v}" for k, v in sorted(hparams.items())), f"seed{seed}"]).replace("/", "_")


def run_trial(trial: Trial) -> str:
    """Train and evaluate ``trial`` (unless its evaluation exists); its evaluation folder."""
    from saz.datasets import load
    from saz.datasets.splits import split_of, train_and_validation
    from saz.evaluation.scoring import evaluate_checkpoint
    from saz.models.predictor import Predictor
    from saz.models.train import TrainConfig, starting_feature, train_on_dataset, training_input

    folder = Path(trial.folder)
    if (folder / "eval" / "report.json").exists():
        return str(folder / "eval")
    ds = load(trial.dataset, trial.root, **trial.options)
    tr, va, _ = train_and_validation(ds, seed=trial.seed)
    cfg = TrainConfig(trial.model, dict(trial.hparams), epochs=trial.epochs, seed=trial.seed)
    feature_cfg = starting_feature(cfg)
    _, seconds = training_input(cfg, tr, feature_cfg)
    path = train_on_dataset(cfg, tr, va, folder / "train", feature_cfg, seconds, trial.cache,
                            resume=(folder / "train" / "state.pt").exists(), progress=False)
    evaluate_checkpoint(Predictor.load(path), split_of(ds, trial.test_split), folder / "eval", cache_dir=trial.cache,
                        progress=False)
    return str(folder / "eval")


def _trials_work(state: None, trials: list[Trial]) -> Iterator[tuple[Trial, str | None, str | None]]:
    """An engine's work: each trial run, as ``(trial, evaluation folder, None)`` or ``(trial, None, error)``."""
    for t in trials:
        try:
            yield t, run_trial(t), None
        except Exception as e:  # one failing trial must not stop the sweep
            yield t, None, f"{t.folder}: {type(e).__name__}: {e}".splitlines()[0]


def run_trials(trials: list[Trial], engine: Engine | None = None) -> Iterator[tuple[Trial, str | None, str | None]]:
    """Every trial's ``(trial, evaluation folder or None, error or None)``, as each finishes: here
    one after another, or a task each on a distributed ``engine``."""
    engine = engine or Engine()
    return engine.map(_trials_work, trials, None, chunk=1, lost=lambda t, why: (t, None, f"{t.folder}: {why}"))


def sweep_report(done: list[tuple[Trial, str]], n_boot: int = 2000) -> dict:
    """The comparison of the finished trials (:func:`saz.evaluation.compare.compare`), a model per setting."""
    from saz.evaluation.compare import compare

    return compare([folder for _, folder in done], n_boot, names={folder: t.setting for t, folder in done})
