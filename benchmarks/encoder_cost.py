"""CPU (and, where there is one, GPU) seconds per audio-second of each pretrained encoder at its real size.

    python benchmarks/encoder_cost.py [--seconds 10] [--repeats 2] [--threads 1] [--device cpu]
        [--work /tmp/saz-encoder-cost] [--out benchmarks/results/encoder_cost]

Each model is written with random weights of its real configuration (tests/encoders.py: MERT-v1-95M,
MERT-v1-330M, HuBERT base as MusicHuBERT, Data2Vec-audio base as Music2vec, wav2vec 2.0 base, and
the full 72M-parameter VGGish) into ``--work`` in the on-disk layout of the downloaded checkpoint,
then loaded and run through the saz feature exactly as ``saz features --feature NAME --checkpoint``
does (every hidden layer, mean-pooled). Weights do not change the arithmetic, so the cost is that of
the real checkpoint. A clip of ``--seconds`` of music-like audio at the model's rate is embedded
once to warm up and ``--repeats`` times measured: process CPU seconds (all threads) and wall seconds
per audio-second, with ``--threads`` torch threads. Writes ``OUT.json`` and ``OUT.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import encoders  # noqa: E402

from saz import io  # noqa: E402
from saz.features import get_feature  # noqa: E402

MODELS = [  # (row, saz feature, writer, sizes, what the sizes are)
    ("MERT-v1-95M", "mert", encoders.write_mert, encoders.MERT_95M, "HuBERT base sizes, 24 kHz, 75 frames/s"),
    ("MERT-v1-330M", "mert", encoders.write_mert, encoders.MERT_330M, "HuBERT large sizes, 24 kHz, 75 frames/s"),
    ("MusicHuBERT (HuBERT base)", "musichubert", encoders.write_hubert, {}, "16 kHz, 50 frames/s"),
    ("Music2vec (data2vec-audio base)", "music2vec", encoders.write_data2vec, {}, "16 kHz, 50 frames/s"),
    ("wav2vec 2.0 base", "wav2vec2", encoders.write_wav2vec2, {}, "16 kHz, 50 frames/s"),
    ("VGGish", "vggish", encoders.write_vggish, encoders.VGGISH_FULL, "16 kHz, 0.96-s frames"),
]


def clip(seconds: float, sr: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in range(1, 9)) * 0.2 + 0.01 * rng.standard_normal(len(t))
    return y[None].astype(np.float32)


def measure(name: str, feature: str, writer, sizes: dict, args: argparse.Namespace) -> dict:
    where = args.work / feature
    shutil.rmtree(where, ignore_errors=True)
    path = writer(where / "vggish.pth", sizes=sizes) if feature == "vggish" else writer(where, sizes=sizes)
    feat = get_feature(feature, checkpoint=str(path), device=args.device)
    t0 = time.perf_counter()
    feat.check()
    load = time.perf_counter() - t0
    params = sum(p.numel() for p in (feat.model()[0] if feature == "vggish" else feat.model()).parameters())
    x = clip(args.seconds, feat.sr)
    feat(x[:, : feat.sr * 2])  # warm-up
    cpu, wall = [], []
    for _ in range(args.repeats):
        if args.device == "cuda":
            torch.cuda.synchronize()
        c0, w0 = time.process_time(), time.perf_counter()
        out = feat(x)
        if args.device == "cuda":
            torch.cuda.synchronize()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    shutil.rmtree(where, ignore_errors=True)
    return {"model": name, "feature": feature, "params_M": round(params / 1e6, 1), "output": list(out.shape[1:]),
            "load_s": round(load, 2), "cpu_s_per_audio_s": round(min(cpu) / args.seconds, 4),
            "wall_s_per_audio_s": round(min(wall) / args.seconds, 4)}


def table(rows: list[dict], meta: dict) -> str:
    lines = [f"# Encoder cost per audio-second ({meta['device']})", "",
             f"Command: `{meta['command']}`", "",
             f"Random weights of each real configuration, loaded from a checkpoint written in the real on-disk layout; "
             f"a {meta['seconds']:g}-s clip, every hidden layer mean-pooled, best of {meta['repeats']} after a warm-up, "
             f"{meta['machine']}. {meta['gpu_note']}", "",
             "| model | saz feature | parameters (M) | output per clip | load (s) | CPU s / audio s | wall s / audio s |",
             "|---|---|---:|---|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['model']} | `{r['feature']}` | {r['params_M']} | {'x'.join(map(str, r['output']))} | "
                     f"{r['load_s']} | {r['cpu_s_per_audio_s']} | {r['wall_s_per_audio_s']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--work", type=Path, default=Path("/tmp/saz-encoder-cost"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/encoder_cost"))
    ap.add_argument("--only", nargs="*", help="row names to run (default: all)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for spec in MODELS:
        if args.only and spec[0] not in args.only:
            continue
        rows.append(measure(*spec[:4], args))
        print(json.dumps(rows[-1]), flush=True)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    meta = {"command": "python " + shlex.join(sys.argv), "device": args.device if args.device != "cuda" else f"cuda: {gpu}",
            "seconds": args.seconds, "repeats": args.repeats, "threads": args.threads,
            "machine": f"{platform.machine()}, {torch.get_num_threads()} of {os.cpu_count()} CPU threads, torch {torch.__version__}",
            "gpu_note": f"GPU: {gpu}." if gpu else "No GPU was available for this run, so there are no GPU figures."}
    io.write_text(args.out.with_suffix(".json"), json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    io.write_text(args.out.with_suffix(".md"), table(rows, meta))
    print(table(rows, meta))


if __name__ == "__main__":
    main()
