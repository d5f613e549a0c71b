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
import os
import tempfile
import time
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
    """The base model's L2-normalised clip embeddings of features ``x`` (frame features only, the
    stronger choice for the prototype): what both baselines see."""
    return torch.nn.functional.normalize(pred.model.embed(torch.from_numpy(x), features_only=True), dim=1).numpy()


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


COLS = ["ap_solo", "ap_mixed", "f1_solo", "f1_mixed", "proto_ap_solo", "proto_ap_mixed", "logreg_ap_solo", "logreg_ap_mixed"]
TIMED = {"erhu": 10, "sheng": 10, "tabla": 10, "darbuka": 10, "frame_drum": 10}  # 5 instruments x 10 recordings


def _mean(values: list) -> float:
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else float("nan")


def per_seed_means(rows: list[dict]) -> dict[int, dict[int, dict[str, float]]]:
    """k -> seed -> each column's mean over that run's instruments."""
    out: dict[int, dict[int, dict[str, float]]] = {}
    for r in rows:
        out.setdefault(r["k"], {}).setdefault(r["seed"], {})
    for k, seeds in out.items():
        for seed in seeds:
            rs = [r for r in rows if r["k"] == k and r["seed"] == seed]
            seeds[seed] = {c: _mean([r[c] for r in rs]) for c in COLS} | {
                "forgetting": rs[0]["forgetting_macro_f1_change"]}
    return out


def table(rows: list[dict]) -> str:
    """The results as markdown: per k and instrument the mean over seeds, then per k the mean over
    seeds of each run's mean over instruments, with the range over seeds for AP."""
    fmt = lambda x: "n/a" if x is None or np.isnan(x) else f"{x:.2f}"
    lines = ["| k | instrument | test files | seeds | " + " | ".join(COLS) + " |", "|" + " --- |" * (4 + len(COLS))]
    for k, name in dict.fromkeys((r["k"], r["instrument"]) for r in rows):
        rs = [r for r in rows if r["k"] == k and r["instrument"] == name]
        lines.append(f"| {k} | {name} | {rs[0]['test_files']} | {len(rs)} | " + " | ".join(fmt(_mean([r[c] for r in rs])) for c in COLS) + " |")
    lines += ["", "| k | instruments | " + " | ".join(f"mean {c}" for c in COLS) + " | default classes' macro F1 change (worst seed) |",
              "|" + " --- |" * (3 + len(COLS))]
    for k, seeds in sorted(per_seed_means(rows).items()):
        cells = []
        for c in COLS:
            v = [m[c] for m in seeds.values()]
            cells.append(f"{np.mean(v):.2f}" + (f" ({min(v):.2f}-{max(v):.2f})" if c.startswith(("ap_", "proto_ap", "logreg_ap")) and len(v) > 1 else ""))
        n = len({r["instrument"] for r in rows if r["k"] == k})
        lines.append(f"| {k} | {n} | " + " | ".join(cells) + f" | {min(m['forgetting'] for m in seeds.values()):+.3f} |")
    return "\n".join(lines) + "\n"


def verdict(rows: list[dict]) -> str:
    """The issue's targets against the means over seeds, in words."""
    m = {k: {c: float(np.mean([s[c] for s in seeds.values()])) for c in [*COLS, "forgetting"]} for k, seeds in per_seed_means(rows).items()}
    worst = min(min(s["forgetting"] for s in seeds.values()) for seeds in per_seed_means(rows).values())
    said = lambda ok: "met" if ok else "not met"
    five, one = m.get(5), m.get(1)
    parts = []
    if five:
        parts.append(f"at k = 5 mean AP {five['ap_solo']:.2f} solo (target 0.85: {said(five['ap_solo'] >= 0.85)}) and "
                     f"{five['ap_mixed']:.2f} in mixtures (target 0.65: {said(five['ap_mixed'] >= 0.65)})")
    if one:
        seeds = per_seed_means(rows)[1].values()
        ahead = {part: sum(s[f"ap_{part}"] > s[f"proto_ap_{part}"] for s in seeds) for part in ("solo", "mixed")}
        parts.append(f"at k = 1 the taught model against the prototype baseline {one['ap_solo']:.2f} vs {one['proto_ap_solo']:.2f} solo "
                     f"(ahead on {ahead['solo']} of {len(seeds)} seeds) and {one['ap_mixed']:.2f} vs {one['proto_ap_mixed']:.2f} "
                     f"mixed (ahead on {ahead['mixed']} of {len(seeds)}): "
                     f"{said(one['ap_solo'] > one['proto_ap_solo'] and one['ap_mixed'] > one['proto_ap_mixed'])} on the means")
    if five:
        each = ", ".join(f"{seed}: {v['ap_solo']:.2f} / {v['ap_mixed']:.2f}" for seed, v in sorted(per_seed_means(rows)[5].items()))
        parts.append(f"per seed at k = 5 (solo / mixed) {each}")
    parts.append(f"the default's classes (refined ones included) changed by {worst:+.4f} macro F1 at worst on the check set "
                 f"(target >= -0.01: {said(worst >= -0.01)})")
    return "Against the issue's targets (means over seeds): " + "; ".join(parts) + ".\n"


def timing(cultural: Path, samples: Path) -> tuple[list[dict], str]:
    """``teach`` of the first 10 files of 5 instruments, without and with ``samples`` as negatives:
    wall and CPU seconds (this process's, every thread), as the issue's 5-CPU-minute bound asks."""
    files = catalogue(cultural)
    five = {n: files[n][:c] for n, c in TIMED.items() if n in files}
    seconds = sum(audio.info(f).duration for fs in five.values() for f in fs)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = link_folder(Path(tmp) / "five", five)
        for negatives in (None, samples):
            wall, cpu = time.perf_counter(), time.process_time()
            result = teach(folder, negatives=negatives, progress=False, on_skip=log)
            out.append({"negatives": None if negatives is None else str(negatives), "wall_s": time.perf_counter() - wall,
                        "cpu_s": time.process_time() - cpu, "cv_ap": {r["class"]: r.get("ap") for r in result.classes}})
    lines = [f"## Timing: {len(five)} new instruments from 10 recordings each", "",
             f"The first 10 files (sorted by name) of {', '.join(five)} from `{cultural}` ({sum(map(len, five.values()))} "
             f"recordings, {seconds / 60:.1f} minutes of audio), taught in this run on this machine "
             f"({os.cpu_count()} cores); CPU is this process's time over all its threads.", "",
             "| command | wall | CPU | cross-validated AP per class |", "| --- | --- | --- | --- |"]
    for r in out:
        cmd = "saz teach five --out five.pt" + ("" if r["negatives"] is None else f" --negatives {r['negatives']}")
        ap = ", ".join(f"{c} {v:.2f}" for c, v in r["cv_ap"].items() if v is not None)
        lines.append(f"| `{cmd}` | {r['wall_s']:.1f} s | {r['cpu_s']:.1f} s | {ap} |")
    worst = max(r["cpu_s"] for r in out)
    lines += ["", f"The issue's bound is 5 CPU-minutes: {'met' if worst < 300 else 'not met'} ({worst / 60:.1f} CPU-minutes at most).", ""]
    return out, "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    """Mean AP against k, solo and mixed, for saz teach and both baselines (range over seeds shaded)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    means = per_seed_means(rows)
    ks = sorted(means)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, part in zip(axes, ("solo", "mixed")):
        for prefix, label in (("", "saz teach"), ("proto_", "nearest prototype"), ("logreg_", "logistic regression")):
            v = np.array([[s[f"{prefix}ap_{part}"] for s in means[k].values()] for k in ks])
            ax.plot(ks, v.mean(1), marker="o", label=label)
            ax.fill_between(ks, v.min(1), v.max(1), alpha=0.15)
        ax.axhline(0.85 if part == "solo" else 0.65, color="grey", ls=":", lw=1, label="target at k = 5")
        ax.set(title=f"{part} test clips", xlabel="recordings per instrument (k)", xticks=ks)
    axes[0].set_ylabel("mean AP over instruments")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    io.save_figure(path, fig)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cultural", type=Path, default=Path("../shared/cultural"))
    ap.add_argument("--samples", type=Path, default=Path("../shared/samples"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    ap.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds: each draws its own teaching files")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    files = catalogue(args.cultural)
    rows = [dict(r, seed=seed) for seed in seeds for k in KS for r in one_k(k, files, args.samples, seed)]
    timed, timing_md = timing(args.cultural, args.samples)
    io.write_json(args.out / "teach.json", {"rows": rows, "timing": timed})
    plot(rows, args.out / "teach.png")
    head = ("# saz teach: k recordings per instrument (benchmarks/teach.py)\n\n"
            f"`python benchmarks/teach.py --cultural {args.cultural} --samples {args.samples} --seeds {args.seeds}`. "
            "For each seed and k, every instrument with more than k files is taught from k random files (all together, "
            f"half of a random 200 files of `{args.samples}` as negatives) and tested on its other files. Each file is one "
            "recording (never split). Test: solo windows, and mixtures with other instruments' test files or the other half "
            "of the sample-library files at random levels. proto: nearest prototype (cosine to the mean solo teaching "
            "embedding, the base's frame features, no mixing, no calibration); logreg: one-vs-rest logistic regression on "
            "those same embeddings and windows (sklearn, balanced class weights, no mixing). Instrument rows are means over "
            "seeds; the summary is the mean over seeds of each run's mean over instruments (range over seeds in brackets). "
            "Classes the default already has (sitar, taiko) are refined, not new. The forgetting column is the worst seed's "
            "change of the macro F1 of all the default's classes, refined ones included, on saz teach's own check set "
            "(96 clips, printed by every run); the classes not taught keep their probabilities exactly. "
            "saz teach's mixing and weighting constants (`saz.teach.teacher`) were chosen on seeds 0-2 at k = 5, its "
            "speed variations on seeds 0-2 at k = 1 and checked on seeds 0-4 at k = 5: these figures are not a "
            "held-out test of those choices.\n\n")
    body = table(rows) + "\n" + verdict(rows) + "\n![mean AP against k](teach.png)\n\n" + timing_md
    io.write_text(args.out / "teach.md", head + body)


if __name__ == "__main__":
    main()
