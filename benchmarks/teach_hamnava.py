"""``saz teach`` on HamNava's sample, leaving one clip out: a tiny test of the Persian classes.

    python benchmarks/teach_hamnava.py --hamnava tests/fixtures/hamnava --out benchmarks/results

The sample's 11 labelled clips (five seconds each, real ensemble recordings, read by saz's HamNava
reader with the hard ``*_bin`` labels; of its 12 audio files one has no label row) teach the
default its nine classes (singer refines voice, santour refines dulcimer, the other seven are
new), ten clips at a time; the left-out clip is scored by
the taught model (the highest window probability per class against the taught threshold). saz
teach takes one instrument per recording, so an ensemble clip is given once per instrument it holds
(a CSV row each, one ``recording``): each copy says nothing of the clip's other instruments, a
handicap HamNava's multi-label clips make visible. Beside it, on the same frozen embeddings, a
one-vs-rest logistic regression fitted on the ten teaching clips' full multi-label targets (no mixing).
AP per class pools the eleven left-out scores (eleven different models), only for classes with
at least two clips (setar and daf have one each: when it is left out, nothing teaches them).
Writes ``teach_hamnava.md`` and ``teach_hamnava.json`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from teach import _ap, embed, logreg_scores

from saz import io
from saz.datasets.hamnava import load_hamnava
from saz.models.predictor import Predictor
from saz.progress import log
from saz.teach import teach
from saz.teach.examples import NEGATIVE, solo_items


def fold(clips: pd.DataFrame, y: np.ndarray, names: list[str], out: int, seed: int) -> dict:
    """Teach from every clip but ``out`` and score ``out``: per class its score, threshold and decision."""
    rows = [(str(Path(p).resolve()), names[j], p) for i, p in enumerate(clips["path"]) if i != out for j in np.flatnonzero(y[i])]
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "examples.csv"
        pd.DataFrame(rows, columns=["path", "instrument", "recording"]).to_csv(csv, index=False)
        result = teach(csv, seed=seed, progress=False, on_skip=log)
    pred = Predictor(result.checkpoint)
    taught = {g: r["class"] for r in result.classes for g in r["given_as"]}
    waves = _waves(clips["path"].tolist(), pred)
    p = pred.probabilities(pred.feature(waves[out:out + 1]))[0]
    train = [i for i in range(len(clips)) if i != out]
    Z = embed(pred, pred.feature(waves))
    lr = logreg_scores(Z[train], y[train][:, _fitable(y[train])], Z[out:out + 1], seed)[0]
    lr_full = np.zeros(len(names))
    lr_full[_fitable(y[train])] = lr
    score = {n: float(p[pred.vocab.names.index(taught[n])]) if n in taught else None for n in names}
    thr = {n: float(pred.thresholds[pred.vocab.names.index(taught[n])]) if n in taught else None for n in names}
    return {"clip": clips["clip_id"].iloc[out], "true": [n for n, t in zip(names, y[out]) if t],
            "predicted": [n for n in names if score[n] is not None and score[n] >= thr[n]],
            "score": score, "threshold": thr, "logreg": dict(zip(names, lr_full.tolist())),
            "not_taught": [n for n in names if n not in taught]}


def _fitable(y: np.ndarray) -> np.ndarray:
    """Classes with both positive and negative teaching clips (a regression needs both)."""
    return (y > 0).any(0) & ~(y > 0).all(0)


def _waves(paths: list[str], pred: Predictor) -> np.ndarray:
    """One window per clip, the first (the clips are as long as the model's window)."""
    rows = pd.DataFrame([(p, NEGATIVE, p) for p in paths], columns=["path", "instrument", "recording"])
    items = solo_items(rows, [], pred.feature.sr, pred.seconds, log)
    return items.waves[[items.primary.index(p) for p in paths]]


def report(folds: list[dict], y: np.ndarray, names: list[str]) -> tuple[str, dict]:
    """Markdown: per clip true vs predicted, then AP per class (taught and logreg) where defined."""
    lines = ["| left-out clip | true | predicted by saz teach | not taught in this fold |", "| --- | --- | --- | --- |"]
    lines += [f"| {f['clip']} | {', '.join(f['true'])} | {', '.join(f['predicted']) or '(none)'} | {', '.join(f['not_taught']) or '-'} |"
              for f in folds]
    aps = {}
    lines += ["", "| class | clips | AP saz teach | AP logreg |", "| --- | --- | --- | --- |"]
    for j, n in enumerate(names):
        t = y[:, j]
        s = np.array([f["score"][n] if f["score"][n] is not None else 0.0 for f in folds])
        lr = np.array([f["logreg"][n] for f in folds])
        ap = (_ap(t, s), _ap(t, lr)) if t.sum() >= 2 else (None, None)
        aps[n] = {"clips": int(t.sum()), "ap": ap[0], "logreg_ap": ap[1]}
        fmt = lambda x: "n/a" if x is None else f"{x:.2f}"
        lines.append(f"| {n} | {int(t.sum())} | {fmt(ap[0])} | {fmt(ap[1])} |")
    defined = [a for a in aps.values() if a["ap"] is not None]
    mean = {k: float(np.mean([a[k] for a in defined])) for k in ("ap", "logreg_ap")}
    lines.append(f"| mean ({len(defined)} classes) | | {mean['ap']:.2f} | {mean['logreg_ap']:.2f} |")
    tp = sum(len(set(f["true"]) & set(f["predicted"])) for f in folds)
    npred, ntrue = sum(len(f["predicted"]) for f in folds), sum(len(f["true"]) for f in folds)
    lines.append(f"\nsaz teach decisions over all clips: {tp} of {ntrue} true labels found, {npred - tp} false alarms "
                 f"(micro F1 {2 * tp / max(1, npred + ntrue):.2f}).")
    return "\n".join(lines) + "\n", {"per_class": aps, "mean": mean, "micro_f1": 2 * tp / max(1, npred + ntrue)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hamnava", type=Path, default=Path("tests/fixtures/hamnava"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    data = load_hamnava(args.hamnava, labels="hard")
    names = list(data.labels.vocab.names)
    y = np.nan_to_num(data.labels.y) > 0.5
    folds = [fold(data.clips, y, names, i, args.seed) for i in range(len(data.clips))]
    table_md, summary = report(folds, y.astype(float), names)
    io.write_text(args.out / "teach_hamnava.json", json.dumps({"folds": folds, **summary}, indent=1))
    head = ("# saz teach on HamNava's sample, leave one clip out (benchmarks/teach_hamnava.py)\n\n"
            f"`python benchmarks/teach_hamnava.py --hamnava {args.hamnava}` (seed {args.seed}). "
            f"{len(folds)} real five-second ensemble clips, hard labels; each fold teaches the default from the other "
            f"{len(folds) - 1} and scores the left-out one. A tiny test: one clip per fold, "
            f"{int(((y.sum(0)) == 1).sum())} classes with a single clip.\n\n")
    io.write_text(args.out / "teach_hamnava.md", head + table_md)


if __name__ == "__main__":
    main()
