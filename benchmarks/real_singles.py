"""How a model does on real recordings of single instruments (../shared/samples).

    python benchmarks/real_singles.py [--model default] [--samples ../shared/samples]

Every recording whose instrument maps to a class of the model's vocabulary (the mapping of
``saz/data/sample_names.toml``) is predicted whole, as ``saz predict`` would (5-s windows;
single notes are shorter and are padded). Scores: top-1 accuracy (the most probable class is
the instrument), detection rate (the instrument is above its threshold) and false alarms per
recording (other classes above threshold), per class and per source library. None of these
recordings is in saz-bench's training data, so this measures real-audio generalisation.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from saz import io
from saz.datasets.samples import load_samples
from saz.prediction import load_predictor, predict_many
from saz.synth.library import default_class_map

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--samples", type=Path, default=ROOT.parent / "shared" / "samples")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    pred = load_predictor(args.model)
    ds = load_samples(args.samples.resolve(), class_map=default_class_map(), vocab=pred.vocab)
    truth = ds.y.argmax(axis=1)
    rows = []
    for (i, clip), p in zip(ds.clips.iterrows(), predict_many(list(ds.clips["path"]), pred)):
        if not p.ok:
            print(p.error)
            continue
        j = int(truth[i])
        above = p.probabilities >= p.thresholds
        rows.append({"class": pred.vocab.names[j], "source": str(clip.get("category") or Path(clip["path"]).parts[-3]),
                     "top1": int(np.argmax(p.probabilities)) == j, "detected": bool(above[j]),
                     "false_alarms": int(above.sum() - above[j]), "predicted": pred.vocab.names[int(np.argmax(p.probabilities))]})
    summary = {"model": args.model, "recordings": len(rows), "top1": float(np.mean([r["top1"] for r in rows])),
               "detected": float(np.mean([r["detected"] for r in rows])),
               "false_alarms_per_recording": float(np.mean([r["false_alarms"] for r in rows])),
               "per_class": {}, "per_source": {}}
    for key, field in (("per_class", "class"), ("per_source", "source")):
        groups = defaultdict(list)
        for r in rows:
            groups[r[field]].append(r)
        for name, rs in sorted(groups.items()):
            summary[key][name] = {"n": len(rs), "top1": float(np.mean([r["top1"] for r in rs])),
                                  "detected": float(np.mean([r["detected"] for r in rs])),
                                  "most_predicted": Counter(r["predicted"] for r in rs).most_common(1)[0][0]}
    io.write_json(args.out / "real_singles.json", summary)
    io.write_text(args.out / "real_singles.md", markdown(summary))
    print(markdown(summary))


def markdown(s: dict) -> str:
    lines = ["# Real single-instrument recordings", "",
             f"Written by `python benchmarks/real_singles.py --model {s['model']}`: {s['recordings']} recordings from "
             "../shared/samples whose instrument is in the model's vocabulary (none of them in saz-bench's training data). "
             f"**Top-1 accuracy {100 * s['top1']:.1f} %**, instrument above its threshold in {100 * s['detected']:.1f} % "
             f"of recordings, {s['false_alarms_per_recording']:.2f} other classes above threshold per recording.", ""]
    for key, title in (("per_class", "class"), ("per_source", "source")):
        lines += [f"| {title} | recordings | top-1 | detected | most often predicted |", "| --- | --- | --- | --- | --- |"]
        for name, r in s[key].items():
            lines.append(f"| {name} | {r['n']} | {100 * r['top1']:.0f} % | {100 * r['detected']:.0f} % | {r['most_predicted']} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
