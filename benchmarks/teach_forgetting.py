"""No forgetting at full size: the default and a taught default on saz-bench v1 validation and the real set.

    python benchmarks/teach_forgetting.py --shared ../shared --work /tmp/teach-forgetting --out benchmarks/results

Teaches the default k = 5 recordings of every instrument of ``../shared/cultural`` with more than
five (as ``benchmarks/teach.py`` does at k = 5: the same split and negatives, seed 0; sitar
refines the default's class, the others are new), then scores the default and the taught
model on 300 clips of saz-bench v1's ``validation`` split (``--scale 0.2``, the default trained
on none of them) and on every split of the ``real`` set, with the default's thresholds: macro F1
over the default's classes present, before and after, with a paired bootstrap interval of the
change. ``saz teach``'s own check set (96 clips) is a small sample of the same two sources.
Writes ``teach_forgetting.md`` and ``.json`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from saz import io
from saz.datasets import Dataset, load
from saz.evaluation.realset import load_real
from saz.evaluation.scoring import evaluate_checkpoint
from saz.metrics import evaluate
from saz.models.predictor import Predictor
from saz.prediction import load_predictor
from saz.progress import log
from saz.synth.bench import Spec, split_generator
from saz.synth.corpus import build_split
from saz.teach import teach
from saz.teach.examples import negative_examples
from teach import catalogue, link_folder, split

ROOT = Path(__file__).resolve().parents[1]
K, SEED, N_BOOT = 5, 0, 1000


def taught_default(cultural: Path, samples: Path, out: Path) -> Path:
    """The default taught k recordings per cultural instrument (benchmarks/teach.py's k = 5 run), saved to ``out``."""
    teach_files, _ = split(catalogue(cultural), K, SEED)
    negs = negative_examples(samples, SEED).iloc[::2]
    with tempfile.TemporaryDirectory() as tmp:
        neg_dir = link_folder(Path(tmp) / "negatives", {"negatives": [Path(p) for p in negs["path"]]})
        result = teach(link_folder(Path(tmp) / "examples", teach_files), negatives=neg_dir, seed=SEED, progress=False, on_skip=log)
    log(f"taught {', '.join(r['class'] + ' (' + r['kind'] + ')' for r in result.classes)}")
    return result.checkpoint.save(out)


def sets(shared: Path, work: Path, scale: float) -> dict[str, Dataset]:
    """saz-bench v1 validation at ``scale`` (rendered once under ``work``) and the real set's splits."""
    spec = Spec.load(ROOT / "benchmarks" / "saz-bench-v1.toml")
    gen, n = split_generator(spec, "validation", scale)
    names = list(load_predictor("default").vocab.names)
    build_split(gen, work / "v1-validation", "validation", n, names, spec.sr, spec.chunk_size)
    real = load_real(shared, mixes=200, cache=str(work / "real-mix"))
    out = {"saz-bench v1 validation": load("saz-bench", work / "v1-validation").subset("validation")}
    return out | {f"real: {s}": real.subset(s) for s in ("single", "mix", "band", "partial")}


def change(base: Path, taught: Path, n_base: int) -> dict:
    """Macro F1 (classes present, base classes, base thresholds) before and after, and a bootstrap interval of the change."""
    a, b = np.load(base), np.load(taught)
    t, names = a["y_true"], list(a["classes"])
    f1 = lambda p, idx: evaluate(t[idx], p[idx][:, :n_base], names, a["thresholds"]).macro_f1_present
    everyone = np.arange(len(t))
    rng = np.random.default_rng(SEED)
    boot = [f1(b["y_prob"], i) - f1(a["y_prob"], i) for i in (rng.integers(0, len(t), len(t)) for _ in range(N_BOOT))]
    return {"clips": len(t), "before": f1(a["y_prob"], everyone), "after": f1(b["y_prob"], everyone),
            "interval": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--scale", type=float, default=0.2)
    args = ap.parse_args()
    mine = taught_default(args.shared / "cultural", args.shared / "samples", args.work / "taught.pt")
    base, taught = load_predictor("default"), Predictor.load(mine)
    rows = {}
    for name, ds in sets(args.shared, args.work, args.scale).items():
        folder = args.work / name.replace(":", "").replace(" ", "-")
        for who, pred in (("base", base), ("taught", taught)):
            evaluate_checkpoint(pred, ds, folder / who, cache_dir=args.work / "cache", progress=False, figures=False)
        rows[name] = change(folder / "base" / "predictions.npz", folder / "taught" / "predictions.npz", len(base.vocab))
        log(f"{name}: {rows[name]}")
    io.write_text(args.out / "teach_forgetting.json", json.dumps(rows, indent=1))
    io.write_text(args.out / "teach_forgetting.md", report(rows, taught, args))


def report(rows: dict, taught: Predictor, args: argparse.Namespace) -> str:
    """The Markdown table of the results."""
    taught_classes = ", ".join(f"{r['class']} ({r['kind']})" for r in taught.info["taught"])
    lines = ["# saz teach: no forgetting on saz-bench v1 validation and the real set (benchmarks/teach_forgetting.py)", "",
             f"`python benchmarks/teach_forgetting.py --shared {args.shared} --work WORK --scale {args.scale}`. The default "
             f"taught {K} recordings each of {taught_classes}; macro F1 over the default's classes present in each set, "
             "at the default's thresholds, before and after teaching, and a 95 % paired bootstrap interval of the change.", "",
             "| set | clips | default | taught | change | 95 % interval |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {n} | {r['clips']} | {r['before']:.3f} | {r['after']:.3f} | {r['after'] - r['before']:+.3f} | "
              f"[{r['interval'][0]:+.3f}, {r['interval'][1]:+.3f}] |" for n, r in rows.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
