"""Rank every k-network ensemble of some checkpoints by macro F1 on validation clips only.

    python benchmarks/pick_ensemble.py --checkpoints A.pt B.pt C.pt D.pt --validation DIR [DIR...]
        [--size 3] --work DIR

Each ensemble averages its members' probabilities and tunes its thresholds on the validation
clips of all ``--validation`` folders (saz-bench-format corpora: a ``train_default.py`` work
folder's ``corpus``, a ``saz synth bench --split validation`` build) exactly as
``train_default.py --ensemble-with`` does, and is scored on those same clips. No test set is read:
this is how an ensemble's members are chosen before its tests are run.
Prints the ranking and writes it to ``--work``/ranking.json.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from saz import io
from saz.datasets import load
from saz.evaluation.calibration import ensemble_of_files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoints", type=Path, nargs="+", required=True)
    ap.add_argument("--validation", type=Path, nargs="+", required=True)
    ap.add_argument("--size", type=int, default=3)
    ap.add_argument("--work", type=Path, required=True)
    args = ap.parse_args()
    validations = [load("saz-bench", d).subset("validation") for d in args.validation]
    ranking = []
    for combo in itertools.combinations(args.checkpoints, args.size):
        name = " + ".join(p.stem for p in combo)
        ckpt = ensemble_of_files(list(combo), validations, cache_dir=args.work / "features", progress=False)
        v = ckpt.info["validation"]
        ranking.append({"ensemble": name, "macro_f1": v["macro"]["f1"], "map": v["map"]})
        print(f"{name}: validation macro F1 {v['macro']['f1']:.4f}, mAP {v['map']:.4f}", flush=True)
    ranking.sort(key=lambda r: -r["macro_f1"])
    io.write_json(args.work / "ranking.json", {"validation": [str(d) for d in args.validation], "ranking": ranking})
    print(f"best: {ranking[0]['ensemble']}")


if __name__ == "__main__":
    main()
