"""Rebuild the bundled default model from saz-bench v1 with one command.

    python benchmarks/train_default.py --bench DIR [--work zoo-work]

It is the zoo's ``saznet`` run with seed 0 (same recipe, budget and run folder as
``benchmarks/zoo.py``, so a finished zoo run is reused rather than trained again): trained on
the 8,000 ``train`` clips, early-stopped and threshold-tuned on the 1,500 ``validation``
clips, scored on ``test`` and ``test_mix``. The checkpoint is copied to
``saz/models/weights/default.pt`` and its model card to ``saz/models/weights/default.md``
(also printed by ``saz models info default``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from zoo import OURS, RESULTS, TESTS, Zoo  # noqa: E402

from saz import io  # noqa: E402
from saz.models.checkpoint import load_dict  # noqa: E402
from saz.prediction import DEFAULT_CARD, DEFAULT_MODEL  # noqa: E402


def card(ckpt: dict, reports: dict[str, dict]) -> str:
    info = ckpt["info"]
    names = ckpt["vocabulary"]["names"]
    cfg = info["config"]
    lines = ["# saz default model", "",
             f"`{ckpt['model']['name']}` ({info['parameters']:,} parameters), saz {ckpt['saz_version']}. "
             "Rebuilt by `python benchmarks/train_default.py --bench DIR` from saz-bench v1 "
             "(`saz synth bench --spec benchmarks/saz-bench-v1.toml`).", "",
             "## Training", "",
             f"- Data: saz-bench v1 `train` ({info['data']['train_clips']} clips, FluidR3_GM and MuseScore_General "
             f"renderings of music21 and procedural parts), early stopping and per-class thresholds on `validation` "
             f"({info['data']['validation_clips']} clips).",
             f"- Input: {ckpt['seconds']:g}-s windows, " + ", ".join(f"{k}={v}" for k, v in ckpt["feature"].items()) + ".",
             f"- Recipe: protocol {info['protocol']}, seed {cfg['seed']}, budget {cfg['budget_cpu_minutes']} CPU-minutes, "
             f"at most {cfg['epochs']} epochs, patience {cfg['patience']}; best epoch {info['best_epoch']} of "
             f"{info['epochs_run']} ({info['cpu_seconds'] / 60:.1f} CPU-minutes). Augmentation: mixup with label union, "
             "gain, pitch/time warping, SpecAugment; class-balanced BCE.",
             f"- Validation: macro F1 {info['validation']['macro']['f1']:.3f}, mAP {info['validation']['map']:.3f}.", "",
             "## What it knows and what it does not", "",
             "It has heard only General MIDI SoundFont timbres: on real recordings (the `test_mix` column, mixtures "
             "of real recorded samples) it is much weaker than on unseen SoundFont renderings (`test`). Iranian "
             "instruments (tar, setar, santur, kamancheh, ney, tonbak, daf) are not in its vocabulary: General MIDI "
             "has no such presets, and saz-bench does not fake them.", "",
             "## Scores per class", "",
             "| class | threshold | " + " | ".join(f"{t} F1 | {t} AP | {t} support" for t in reports) + " |",
             "| --- | --- |" + " --- | --- | --- |" * len(reports)]
    for j, name in enumerate(names):
        cells = []
        for r in reports.values():
            c = r["per_class"][j]
            ap = "n/a" if c["ap"] is None else f"{c['ap']:.3f}"
            cells.append(f"{c['f1']:.3f} | {ap} | {c['support']}")
        lines.append(f"| {name} | {ckpt['thresholds'][j]:.2f} | " + " | ".join(cells) + " |")
    lines += ["", "| test part | clips | micro F1 | macro F1 | mAP |", "| --- | --- | --- | --- | --- |"]
    for t, r in reports.items():
        lines.append(f"| {t} | {r['n_clips']} | {r['micro']['f1']:.3f} | {r['macro']['f1']:.3f} | {r['map']:.3f} |")
    real = RESULTS / "real_singles.json"
    if real.exists():
        r = json.loads(real.read_text())
        lines += ["", "## Real recordings", "",
                  f"On {r['recordings']} real single-instrument recordings (../shared/samples, `benchmarks/real_singles.py`): "
                  f"top-1 accuracy {100 * r['top1']:.1f} %, the instrument above its threshold in {100 * r['detected']:.1f} % "
                  "of them. Treat its answers on real recordings as hints, not facts."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("zoo-work"))
    ap.add_argument("--budget", type=float, default=16.0)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--patience", type=int, default=5)
    args = ap.parse_args()
    zoo = Zoo(args.bench, args.work, args.budget, args.epochs, args.patience)
    path = zoo.train(OURS, 0)
    zoo.evaluate(OURS, 0)
    reports = {t: json.loads((zoo.run_dir(OURS, 0) / f"eval-{t}" / "report.json").read_text()) for t in TESTS}
    DEFAULT_MODEL.parent.mkdir(parents=True, exist_ok=True)
    io.write_bytes(DEFAULT_MODEL, path.read_bytes())
    io.write_text(DEFAULT_CARD, card(load_dict(path), reports))
    print(f"default model -> {DEFAULT_MODEL} ({DEFAULT_MODEL.stat().st_size / 1e6:.2f} MB), card -> {DEFAULT_CARD}")


if __name__ == "__main__":
    main()
