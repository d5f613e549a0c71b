"""What do a few labelled recordings of one's own collection buy? (`saz models profile`)

    python benchmarks/own_labels.py --work DIR [--sizes 25,50,100] [--repeats 10]

Takes the real polyphonic clips of the `real` set (200 mixtures of held-out recordings and the
real band excerpts), scores them once with the bundled default as `saz predict` hears them, then,
for each size n and repeat, draws n clips as "your labelled recordings", fits threshold profiles on
them (:func:`saz.evaluation.calibration.fit_thresholds`, rules ``f1`` and ``fpr`` at 5 %) and scores the other
clips: macro F1 over the classes present there, beside the default's tuned thresholds and its
shipped ``sensitive`` profile on the same clips. The labelled and the scored clips come from one
collection (the held-out recordings recur across the mixtures), as a user's own archive would:
these numbers say what fitting to a collection buys on the rest of it. They are not the
default model's targets, which no threshold fitted to the test clips may claim.

Results: ``benchmarks/results/own_labels.{md,json,png}``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from saz import io, plots
from saz.evaluation.calibration import fit_thresholds
from saz.evaluation.compare import macro_f1_present
from saz.evaluation.realset import load_real
from saz.evaluation.scoring import whole_clip_probabilities
from saz.evaluation.suite import REAL_MIXES
from saz.features.dataset import dataset_features
from saz.labels import binarize
from saz.metrics import evaluate
from saz.prediction import load_predictor
from saz.progress import log

SEED = 20261202
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results"


def scored(truth: np.ndarray, prob: np.ndarray, thresholds: np.ndarray, vocab) -> float:
    return macro_f1_present(evaluate(truth, prob, vocab, thresholds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True, help="the real set's mixtures and features")
    ap.add_argument("--sizes", default="25,50,100", help="numbers of labelled clips to fit on")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--shared", type=Path, default=SHARED, help="the folder the real set is read from (samples/, fixtures/)")
    args = ap.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    pred = load_predictor("default")
    real = load_real(args.shared, mixes=REAL_MIXES, cache=str(args.work / "real-mix"))
    poly = real.subset(np.flatnonzero(real.clips["split"].isin(["mix", "band"]).to_numpy()))
    log(f"scoring {len(poly.clips)} real polyphonic clips")
    X, y, ok, _ = dataset_features(poly, pred.feature, pred.seconds, args.work / "features", progress=False)
    prob = pred.probabilities(X)
    whole_clip_probabilities(pred, poly.clips[ok], prob)
    truth = binarize(y, 0.5)
    sensitive = pred.thresholds_for("sensitive")
    rows: dict[int, dict] = {}
    gains: dict[int, dict] = {}  # paired: minus the tuned thresholds on the same scored clips
    for n in sizes:
        runs = {"tuned": [], "sensitive": [], "fitted f1": [], "fitted fpr 5 %": []}
        for r in range(args.repeats):
            order = np.random.default_rng([SEED, n, r]).permutation(len(truth))
            fit, rest = order[:n], order[n:]
            runs["tuned"].append(scored(truth[rest], prob[rest], pred.thresholds, pred.vocab))
            runs["sensitive"].append(scored(truth[rest], prob[rest], sensitive, pred.vocab))
            for rule, key in (("f1", "fitted f1"), ("fpr", "fitted fpr 5 %")):
                t, _ = fit_thresholds(truth[fit], prob[fit], pred.thresholds, rule, 0.05)
                runs[key].append(scored(truth[rest], prob[rest], t, pred.vocab))
        rows[n] = {k: [float(np.mean(v)), float(np.std(v))] for k, v in runs.items()}
        gains[n] = {k: [float(np.mean(np.subtract(v, runs["tuned"]))), float(np.std(np.subtract(v, runs["tuned"])))]
                    for k, v in runs.items() if k != "tuned"}
        log(f"{n} labelled: " + ", ".join(f"{k} {m:.3f}" for k, (m, _) in rows[n].items()))
    out = {"clips": int(len(truth)), "repeats": args.repeats, "sizes": rows, "gains_over_tuned": gains}
    io.write_json(RESULTS / "own_labels.json", out)
    lines = ["# Thresholds fitted to one's own labelled recordings", "",
             f"Written by `python benchmarks/own_labels.py --work DIR --sizes {args.sizes} --repeats {args.repeats}` "
             "(see its docstring). The bundled default scores the "
             f"{len(truth)} real polyphonic clips of the `real` set once; each repeat draws n of them as the "
             "labelled recordings, fits a threshold profile on them (`saz models profile`: `f1`, the best F1 per "
             "class; `fpr`, the tuned thresholds lowered to a 5 % false-positive share of their negatives) and "
             "scores the other clips. Macro F1 over the classes present in the scored clips, mean ± standard "
             f"deviation over {args.repeats} draws; `tuned` and `sensitive` are the default's own thresholds and "
             "its shipped profile on the same clips. The labelled and scored clips share recordings (one "
             "collection), so this measures calibration to a collection, not the generalisation targets.", "",
             "| labelled clips | scored clips | tuned | sensitive | fitted f1 | fitted fpr 5 % |",
             "| --- | --- | --- | --- | --- | --- |"]
    for n, r in rows.items():
        lines.append(f"| {n} | {len(truth) - n} | " + " | ".join(f"{m:.3f} ± {s:.3f}" for m, s in r.values()) + " |")
    lines += ["", "Gain over the tuned thresholds on the same scored clips (paired, mean ± standard deviation over draws; "
              "the scored clips change with n, and with them which classes are present, so read the gains rather "
              "than compare the absolute rows across n):", "",
              "| labelled clips | sensitive | fitted f1 | fitted fpr 5 % |", "| --- | --- | --- | --- |"]
    for n, g in gains.items():
        lines.append(f"| {n} | " + " | ".join(f"{m:+.3f} ± {s:.3f}" for m, s in g.values()) + " |")
    io.write_text(RESULTS / "own_labels.md", "\n".join(lines) + "\n")
    fig = plots.plt.figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for key in next(iter(gains.values())):
        m = [gains[n][key][0] for n in sizes]
        s = [gains[n][key][1] for n in sizes]
        ax.errorbar(sizes, m, yerr=s, marker="o", capsize=3, label=key)
    ax.axhline(0, color="grey", lw=1)
    ax.set_xlabel("labelled clips the profile is fitted on")
    ax.set_ylabel("macro F1 gain over the tuned thresholds")
    ax.set_title("Real polyphonic clips: thresholds fitted to the collection")
    ax.legend()
    io.save_figure(RESULTS / "own_labels.png", fig)
    plots.close(fig)
    log(f"-> {RESULTS / 'own_labels.md'}")


if __name__ == "__main__":
    main()
