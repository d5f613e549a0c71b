"""The model zoo on saz-bench v1: every registered model, one training budget, two test parts.

    python benchmarks/zoo.py --bench DIR [--work DIR] [--budget 16] [--epochs 30]

Stages, each resumable (rerun the same command after an interruption):

1. features of all clips for every model's default feature (cached in WORK/cache);
2. every model trained with seed 0 on ``train``, early-stopped on ``validation``, under the same
   budget of CPU-minutes (process CPU time: 2 busy threads spend it twice as fast as the wall
   clock, and a run that shares its cores with another process gets fewer epochs for it) and at
   most ``--epochs`` epochs; checkpoints in WORK/runs/<model>-s<seed>/;
3. the two strongest baselines by validation mAP and saznet get seeds 1 and 2;
4. every run evaluated on ``test`` (unseen SoundFont, unseen pieces), ``test_mix`` (real
   recorded samples) and, from the ``real`` set of ``--real`` (default ``../shared``; ``--real ''``
   skips it), ``real_single`` (held-out single-instrument recordings; top-1 too) and ``real_poly``
   (mixtures of held-out recordings, band excerpts); ``saz.evaluation.compare`` per test part (mean ± std over
   seeds, paired bootstrap against the best model); inference time per 5-s clip (features +
   network, batch of 64);
5. ``benchmarks/results/zoo.md`` and ``zoo.json`` (plus the comparison folders).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning, so the CPU-time budget measures work done, not
# time spent waiting for a core that another process holds.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

from saz import io
from saz.datasets import load
from saz.evaluation import compare
from saz.evaluation.scoring import evaluate_checkpoint
from saz.features import feature_from_config
from saz.features.dataset import dataset_features
from saz.metrics import top1_hits
from saz.models import MODELS
from saz.models.checkpoint import Checkpoint
from saz.models.predictor import Predictor
from saz.models.train import TrainConfig, Trainer

RESULTS = Path(__file__).parent / "results"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
OURS = "saznet"
TESTS = ("test", "test_mix")
REAL_TESTS = ("real_single", "real_poly")
# What the source documents report, for the ranking comparison (their data, not ours).
DOCUMENT_RANKINGS = {
    "cultural-instruments-polyphonic-detection.txt (Tables 3-10, 63 cultural instruments)": [
        ("han_cnn", "micro F1 0.55, macro F1 0.504"), ("xgb", "0.426 / 0.363"), ("crnn", "mel: 0.39 / 0.361; MFCC: 0.237 / 0.22"),
        ("rf", "micro recall 0.128 (lowest of the ML models)"), ("bilstm", "0 on every metric")],
    "openmic-attention-review.txt (Figure 2, OpenMIC-2018, no numbers in the text)": [
        ("attention", "best macro F1"), ("rnn / fc_t / fc / rf", "baselines, below ATT")],
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Zoo:
    def __init__(self, bench: Path, work: Path, budget: float, epochs: int, patience: int, real: Path | None):
        self.ds = load("saz-bench", bench)
        self.work = work
        self.cache = work / "cache"
        self.budget, self.epochs, self.patience = budget, epochs, patience
        self.splits = {s: self.ds.subset(s) for s in ("train", "validation", *TESTS)}
        self.tests = TESTS
        if real is not None:  # the same real set as benchmarks/generalisation.py scores
            r = load("real", real, mixes=200, cache=str(work / "real-mix"))
            self.splits["real_single"] = r.subset("single")
            self.splits["real_poly"] = r.subset(np.flatnonzero(r.clips["split"].isin(["mix", "band"]).to_numpy()))
            self.tests = (*TESTS, *REAL_TESTS)
        self.seconds = 5.0
        self._features: dict[str, tuple] = {}

    def features(self, model: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        feature = feature_from_config(MODELS[model].default_feature)
        key = feature.key()
        if key not in self._features:
            self._features.clear()  # keep one feature family in memory at a time
            t0 = time.time()
            out = {}
            for split in ("train", "validation"):
                X, y, _, problems = dataset_features(self.splits[split], feature, self.seconds, self.cache, progress=False)
                if problems:
                    log(f"{split}: {len(problems)} clips skipped, first: {problems[0]}")
                out[split] = (X, y)
            self._features = {key: out}
            log(f"features {key} ready in {time.time() - t0:.0f} s")
        return self._features[key]

    def run_dir(self, model: str, seed: int) -> Path:
        return self.work / "runs" / f"{model}-s{seed}"

    def train(self, model: str, seed: int) -> Path:
        run = self.run_dir(model, seed)
        if (run / "model.pt").exists():
            return run / "model.pt"
        data = self.features(model)
        cfg = TrainConfig(model, seed=seed, epochs=self.epochs, patience=self.patience, budget_cpu_minutes=self.budget)
        feature = feature_from_config(MODELS[model].default_feature)
        info = {"dataset": "saz-bench", "root": str(self.ds.root), "train_clips": len(data["train"][0]),
                "validation_clips": len(data["validation"][0]), "label_kind": "hard", "skipped": []}
        t0 = time.time()
        log(f"train {model} seed {seed}")
        path = Trainer(cfg, feature, self.seconds, self.ds.vocab, run, progress=False, data_info=info).fit(
            *data["train"], *data["validation"], resume=True)
        i = Checkpoint.load(path).info
        log(f"  {model} s{seed}: {i['epochs_run']} epochs, best {i['best_epoch']}, {i['cpu_seconds'] / 60:.1f} CPU-min, "
            f"{time.time() - t0:.0f} s wall, val mAP {i['validation']['map']:.3f}")
        return path

    def evaluate(self, model: str, seed: int) -> None:
        for split in self.tests:
            out = self.run_dir(model, seed) / f"eval-{split}"
            if (out / "predictions.npz").exists():
                continue
            predictor = Predictor.load(self.run_dir(model, seed) / "model.pt")
            real = split in REAL_TESTS
            r = evaluate_checkpoint(predictor, self.splits[split], out, protocol="hard" if real else None,
                                    cache_dir=self.cache, progress=False, long_clips="centre",
                                    title=f"{model} (seed {seed}) on {split if real else f'saz-bench v1 {split}'}")
            log(f"  {model} s{seed} {split}: macro F1 {r.macro.f1:.3f} mAP {r.map:.3f}")


@torch.no_grad()
def inference_ms(predictor: Predictor, n: int = 64, repeats: int = 3) -> float:
    """Milliseconds per 5-s clip for features + network, batches of ``n`` (best of ``repeats``)."""
    rng = np.random.default_rng(0)
    waves = (0.1 * rng.standard_normal((n, int(predictor.seconds * predictor.feature.sr)))).astype(np.float32)
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        predictor.probabilities(predictor.feature(waves))
        best = min(best, time.perf_counter() - t0)
    return 1000 * best / n


def top1(eval_dir: Path) -> float:
    """Share of single-instrument recordings whose most probable class is the one playing."""
    npz = np.load(eval_dir / "predictions.npz")
    return float(top1_hits(npz["y_true"], npz["y_prob"]).mean())


def write_results(zoo: Zoo, runs: dict[str, list[int]], out: Path, budget: float, wall: float) -> None:
    summary: dict = {"budget_cpu_minutes": budget, "max_epochs": zoo.epochs, "patience": zoo.patience,
                     "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}",
                     "wall_seconds_this_invocation": wall, "runs": {}, "tests": {}, "inference_ms_per_clip": {}}
    for model, seeds in runs.items():
        for seed in seeds:
            info = Checkpoint.load(zoo.run_dir(model, seed) / "model.pt").info
            summary["runs"][f"{model}-s{seed}"] = {k: info[k] for k in ("epochs_run", "best_epoch", "cpu_seconds", "parameters")}
        summary["inference_ms_per_clip"][model] = inference_ms(Predictor.load(zoo.run_dir(model, seeds[0]) / "model.pt"))
    for split in zoo.tests:
        folders = [zoo.run_dir(m, s) / f"eval-{split}" for m, seeds in runs.items() for s in seeds]
        cmp = compare.compare(folders)
        compare.write(cmp, out / "zoo" / split, split if split in REAL_TESTS else f"saz-bench v1 {split}")
        summary["tests"][split] = cmp
    if "real_single" in zoo.tests:
        summary["real_single_top1"] = {m: float(np.mean([top1(zoo.run_dir(m, s) / "eval-real_single") for s in seeds]))
                                       for m, seeds in runs.items()}
    io.write_json(out / "zoo.json", summary)
    io.write_text(out / "zoo.md", markdown(summary))


def markdown(s: dict) -> str:
    best_baseline = {}
    lines = ["# Model zoo on saz-bench v1", "",
             "Written by `python benchmarks/zoo.py --bench DIR` (see its docstring). Every model trains on the "
             "8,000 `train` clips (FluidR3_GM + MuseScore_General renderings), early-stops on the 1,500 `validation` "
             "clips, and tunes its per-class thresholds there. "
             f"**Budget: {s['budget_cpu_minutes']:g} CPU-minutes of training per run** (process CPU time; mid-epoch "
             f"stop), at most {s['max_epochs']} epochs, patience {s['patience']}. Machine: {s['machine']}.",
             "", "`test`: 2,000 clips rendered with a SoundFont never heard in training (TimGM6mb) from pieces never "
             "used in training. `test_mix`: 500 mixtures of real recorded samples (../shared/samples, held-out "
             "recordings). Numbers are mean ± standard deviation over seeds; p: paired bootstrap (2,000 resamples "
             "of clips) against the best model, first seed of each. `test_mix` lacks 18 of the 32 classes (the sample "
             "libraries have no such recordings); plain macro F1 counts each absent class as 0, so the "
             "present-classes column is the fair one there. ms per clip: log-mel/MFCC/statistics plus the network, "
             "batches of 64 five-second clips, best of 3.", "",
             "`real_single` and `real_poly`: the `real` set of `docs/datasets.md` (real recordings no training "
             "pool touches), as `benchmarks/generalisation.py` scores it: single-instrument recordings (top-1 over the "
             "32 classes as well) and 200 mixtures of held-out recordings plus real band excerpts; a recording longer than "
             "5 s is scored on its centre 5 s, as in the ablation table.", ""]
    for split, cmp in s["tests"].items():
        models = cmp["models"]
        order = sorted(models, key=lambda m: -models[m]["macro_f1"]["mean"])
        baselines = [m for m in order if m != OURS]
        best_baseline[split] = baselines[0] if baselines else None
        top = s.get("real_single_top1") if split == "real_single" else None
        lines += [f"## {split}", "", "| model | seeds | micro F1 | macro F1 | macro F1, present classes | mAP | "
                  + ("top-1 | " if top else "") + "p vs best (macro F1 / mAP) | ms per 5-s clip |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if top else "")]
        for m in order:
            e = models[m]
            vs = e.get("vs_best")
            p = f"{vs['macro_f1_p']:.4f} / {vs['map_p']:.4f}" if vs else "(best)"
            lines.append(f"| {m} | {len(e['seeds'])} | {e['micro_f1']['mean']:.3f} ± {e['micro_f1']['std']:.3f} | "
                         f"{e['macro_f1']['mean']:.3f} ± {e['macro_f1']['std']:.3f} | {e['macro_f1_present']['mean']:.3f} | "
                         f"{e['map']['mean']:.3f} ± {e['map']['std']:.3f} | " + (f"{100 * top[m]:.1f} % | " if top else "")
                         + f"{p} | {s['inference_ms_per_clip'][m]:.2f} |")
        if OURS in models and best_baseline[split]:
            b = models[best_baseline[split]]
            o = models[OURS]
            lines += ["", f"saznet minus the best baseline (`{best_baseline[split]}`): macro F1 "
                      f"{100 * (o['macro_f1']['mean'] - b['macro_f1']['mean']):+.1f} points, mAP "
                      f"{100 * (o['map']['mean'] - b['map']['mean']):+.1f} points."]
        lines += ["", f"Per-class F1, box plots and the full JSON: `zoo/{split}/`.", ""]
    lines += ["## Runs", "", "| run | epochs | best epoch | CPU-minutes | parameters |", "| --- | --- | --- | --- | --- |"]
    for name, r in s["runs"].items():
        lines.append(f"| {name} | {r['epochs_run']} | {r['best_epoch']} | {r['cpu_seconds'] / 60:.1f} | {r['parameters'] or '-'} |")
    lines += ["", "## Ranking against the documents", ""]
    for doc, ranking in DOCUMENT_RANKINGS.items():
        lines.append(f"- {doc}: " + " > ".join(f"`{m}` ({v})" for m, v in ranking))
    order = sorted(s["tests"]["test"]["models"], key=lambda m: -s["tests"]["test"]["models"][m]["macro_f1"]["mean"])
    lines += ["- saz-bench v1 `test`, by macro F1: " + " > ".join(f"`{m}`" for m in order), ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, required=True, help="saz-bench v1 folder (saz synth bench --spec benchmarks/saz-bench-v1.toml)")
    ap.add_argument("--work", type=Path, default=Path("zoo-work"), help="feature cache and runs")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--budget", type=float, default=16.0, help="CPU-minutes of training per run")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--models", nargs="*", default=None, help="subset of models (default: all)")
    ap.add_argument("--real", default=str(SHARED), help="../shared-like folder of the `real` set ('' to skip)")
    args = ap.parse_args()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    t0 = time.time()
    zoo = Zoo(args.bench, args.work, args.budget, args.epochs, args.patience, Path(args.real) if args.real else None)
    # ours first (the default model is its seed 0), then the baselines; the `stats` ones last (HPSS is slow)
    order = [OURS, "fc", "fc_t", "rnn", "attention", "bilstm", "hamnava_cnn", "medleydb_cnn", "han_cnn", "crnn",
             "rf", "xgb", "probe"]
    models = args.models or sorted(MODELS, key=lambda m: order.index(m) if m in order else len(order))
    runs: dict[str, list[int]] = {m: [0] for m in models}
    for m in models:
        zoo.train(m, 0)
        zoo.evaluate(m, 0)
    baselines = sorted((m for m in models if m != OURS),
                       key=lambda m: -Checkpoint.load(zoo.run_dir(m, 0) / "model.pt").info["validation"]["map"])[:2]
    log(f"strongest baselines on validation: {baselines}")
    for m in [*baselines, *([OURS] if OURS in models else [])]:
        for seed in (1, 2):
            zoo.train(m, seed)
            zoo.evaluate(m, seed)
            runs[m].append(seed)
    write_results(zoo, runs, args.out, args.budget, time.time() - t0)
    log(f"done in {time.time() - t0:.0f} s -> {args.out / 'zoo.md'}")


if __name__ == "__main__":
    main()
