"""``saz teach`` from k = 1, 5 and 10 recordings per instrument, on real cultural recordings.

    python benchmarks/teach.py --cultural ../shared/cultural --samples ../shared/samples --out benchmarks/results

For every instrument of ``--cultural`` (``<source>/<instrument>/<file>``) with more than k files,
k random files (seeded) teach the default, together with k of every other such instrument, and
the instrument's other files test it: solo (their windows) and in mixtures with windows of real
recordings of ``--samples`` (other instruments) at random levels (:func:`saz.teach.examples.mixed_items`).
Each file is one recording: the sources publish one-shot notes and short phrases, so no recording
is ever split between teaching and test. ``--samples`` also gives the negatives of teaching, as
``saz teach --negatives`` does; the test mixtures use other files of it (split by file, seeded).

Reported per instrument and k: AP solo and in mixtures of the taught model, and of the baseline
nearest prototype (cosine similarity to the mean embedding of the solo teaching windows, no
mixing, no calibration) and of the baseline logistic regression (one-vs-rest, fitted on those
same solo teaching windows' embeddings) on the same embeddings; F1 at the taught thresholds; and the no-forgetting
check of each run (the default's classes). Writes ``teach.md`` and ``teach.json`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from saz import audio, io
from saz.models.predictor import Predictor
from saz.progress import log
from saz.teach import teach
from saz.teach.examples import Items, join, mixed_items, negative_examples, solo_items

KS = (1, 5, 10)


def catalogue(cultural: Path) -> dict[str, list[Path]]:
    """Instrument -> its files under ``cultural`` (all sources together), sorted."""
    out: dict[str, list[Path]] = {}
    for d in sorted(p for p in cultural.glob("*/*") if p.is_dir()):
        out.setdefault(d.name, []).extend(audio.scan(d).files)
    return {k: sorted(v) for k, v in out.items()}


def split(files: dict[str, list[Path]], k: int, seed: int) -> tuple[dict[str, list[Path]], dict[str, list[Path]]]:
    """k teaching files and the rest for test, per instrument with more than k files."""
    rng = np.random.default_rng(seed)
    teach_, test = {}, {}
    for name, fs in files.items():
        if len(fs) > k:
            order = rng.permutation(len(fs))
            teach_[name], test[name] = [fs[i] for i in order[:k]], [fs[i] for i in order[k:]]
    return teach_, test


def link_folder(root: Path, files: dict[str, list[Path]]) -> Path:
    """A folder of ``<instrument>/<links to its files>``: the EXAMPLES of ``saz teach``."""
    for name, fs in files.items():
        (root / name).mkdir(parents=True)
        for i, f in enumerate(fs):
            (root / name / f"{i:03d}_{f.name}").symlink_to(f.resolve())
    return root


def test_items(test: dict[str, list[Path]], negatives: pd.DataFrame, pred: Predictor, seed: int) -> Items:
    """Solo windows of the test files and mixtures of each with other test instruments or negatives."""
    rows = pd.DataFrame([(str(f), n, str(f)) for n, fs in test.items() for f in fs], columns=["path", "instrument", "recording"])
    classes = list(test)
    solo = solo_items(pd.concat([rows, negatives], ignore_index=True), classes, pred.feature.sr, pred.seconds, log)
    return join(solo, mixed_items(solo, classes, seed + 1))


@torch.no_grad()
def embed(pred: Predictor, x: np.ndarray) -> np.ndarray:
    """The base model's L2-normalised clip embeddings of features ``x``: what both baselines see."""
    return torch.nn.functional.normalize(pred.model.embed(torch.from_numpy(x)), dim=1).numpy()


def prototype_scores(Zt: np.ndarray, y_teach: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Cosine similarity of each clip's embedding to each class's mean solo teaching embedding."""
    protos = np.stack([Zt[y_teach[:, j] > 0].mean(0) for j in range(y_teach.shape[1])])
    return Z @ (protos / np.linalg.norm(protos, axis=1, keepdims=True)).T


def logreg_scores(Zt: np.ndarray, y_teach: np.ndarray, Z: np.ndarray, seed: int) -> np.ndarray:
    """Per class, the probability of a one-vs-rest logistic regression (sklearn defaults, balanced
    class weights) fitted on the solo teaching windows' embeddings: that class against the others."""
    fit = lambda j: LogisticRegression(class_weight="balanced", max_iter=2000, random_state=seed).fit(Zt, y_teach[:, j] > 0)
    return np.stack([fit(j).predict_proba(Z)[:, 1] for j in range(y_teach.shape[1])], axis=1)


def one_k(k: int, files: dict[str, list[Path]], samples: Path, seed: int) -> list[dict]:
    """Teach from k files per instrument and score on the rest; one row per instrument."""
    teach_files, test_files = split(files, k, seed)
    negs = negative_examples(samples, seed)
    teach_negs, test_negs = negs.iloc[::2].reset_index(drop=True), negs.iloc[1::2].reset_index(drop=True)
    with tempfile.TemporaryDirectory() as tmp:
        neg_dir = link_folder(Path(tmp) / "negatives", {"negatives": [Path(p) for p in teach_negs["path"]]})
        result = teach(link_folder(Path(tmp) / "examples", teach_files), negatives=neg_dir, seed=seed, progress=False, on_skip=log)
    pred = Predictor(result.checkpoint)
    names = list(pred.vocab.names)
    items = test_items(test_files, test_negs.iloc[:60], pred, seed)
    X = pred.feature(items.waves)
    p = pred.probabilities(X)
    teach_solo = solo_items(pd.DataFrame([(str(f), n, str(f)) for n, fs in teach_files.items() for f in fs],
                                         columns=["path", "instrument", "recording"]), list(teach_files), pred.feature.sr, pred.seconds, log)
    Zt, Z = embed(pred, pred.feature(teach_solo.waves)), embed(pred, X)
    proto, logreg = prototype_scores(Zt, teach_solo.labels, Z), logreg_scores(Zt, teach_solo.labels, Z, seed)
    rows = []
    for j, name in enumerate(test_files):
        c = names.index(next(r["class"] for r in result.classes if name in r["given_as"]))
        t = items.labels[:, j]
        row = {"k": k, "instrument": name, "test_files": len(test_files[name]), "class": names[c]}
        for part, mask in (("solo", ~items.mixed), ("mixed", items.mixed)):
            row[f"ap_{part}"] = _ap(t[mask], p[mask, c])
            row[f"proto_ap_{part}"] = _ap(t[mask], proto[mask, j])
            row[f"logreg_ap_{part}"] = _ap(t[mask], logreg[mask, j])
            row[f"f1_{part}"] = _f1(t[mask], p[mask, c] >= pred.thresholds[c])
        rows.append(row)
    log(f"k={k}: {len(rows)} instruments, forgetting check {result.check}")
    return [dict(r, forgetting_macro_f1_change=result.check["macro_f1_change"]) for r in rows]


def _ap(t: np.ndarray, s: np.ndarray) -> float | None:
    return float(average_precision_score(t > 0, s)) if (t > 0).any() and not (t > 0).all() else None


def _f1(t: np.ndarray, pred: np.ndarray) -> float:
    tp = float((pred & (t > 0)).sum())
    return 2 * tp / max(1.0, float(pred.sum() + (t > 0).sum()))


def table(rows: list[dict]) -> str:
    """The results as markdown: one row per k and instrument, then the means per k."""
    fmt = lambda x: "n/a" if x is None else f"{x:.2f}"
    cols = ["ap_solo", "ap_mixed", "f1_solo", "f1_mixed", "proto_ap_solo", "proto_ap_mixed", "logreg_ap_solo", "logreg_ap_mixed"]
    lines = ["| k | instrument | test files | " + " | ".join(cols) + " |", "|" + " --- |" * (3 + len(cols))]
    lines += [f"| {r['k']} | {r['instrument']} | {r['test_files']} | " + " | ".join(fmt(r[c]) for c in cols) + " |" for r in rows]
    lines += ["", "| k | instruments | " + " | ".join(f"mean {c}" for c in cols) + " | default classes' macro F1 change |",
              "|" + " --- |" * (3 + len(cols))]
    for k in sorted({r["k"] for r in rows}):
        rk = [r for r in rows if r["k"] == k]
        means = [np.mean([r[c] for r in rk if r[c] is not None]) for c in cols]
        lines.append(f"| {k} | {len(rk)} | " + " | ".join(f"{m:.2f}" for m in means) + f" | {rk[0]['forgetting_macro_f1_change']:+.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cultural", type=Path, default=Path("../shared/cultural"))
    ap.add_argument("--samples", type=Path, default=Path("../shared/samples"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    files = catalogue(args.cultural)
    rows = [r for k in KS for r in one_k(k, files, args.samples, args.seed)]
    io.write_text(args.out / "teach.json", json.dumps(rows, indent=1))
    head = ("# saz teach: k recordings per instrument (benchmarks/teach.py)\n\n"
            f"`python benchmarks/teach.py --cultural {args.cultural} --samples {args.samples}` (seed {args.seed}). "
            "Each file is one recording (never split); test: the instrument's other files, solo and mixed with other "
            "instruments' test files or real sample-library recordings. proto: the nearest-prototype baseline on the "
            "same embeddings (solo teaching windows, no mixing, no calibration); logreg: one-vs-rest logistic regression "
            "on those same embeddings and windows (sklearn, balanced class weights, no mixing).\n\n")
    io.write_text(args.out / "teach.md", head + table(rows))


if __name__ == "__main__":
    main()
