"""End-to-end speed and memory of ``saz predict`` against a reference pipeline, in one run.

    python benchmarks/predict_speed.py [--model default] [--out benchmarks/results]

Inputs are generated from the bundled example recording (44.1 kHz stereo FLAC, the kind of
file users have): one 10-minute recording, a folder of 200 five-second clips, and a 60-minute
recording for peak memory.

* saz: :func:`saz.prediction.predict_many` (blockwise decoding with soxr, batched torch
  log-mel, batched network), 5-s windows with 50 % overlap.
* reference: the usual research-script pipeline on the same windows and the same network:
  ``librosa.load`` of the whole file, ``librosa.feature.melspectrogram`` + ``power_to_db``
  per window, the network on one window at a time, one file at a time.

Speed is audio seconds per wall-clock second (x real time), best of ``--repeats``. Peak
memory is the maximum resident set size of a fresh process that predicts the 60-minute file
(and, for comparison, of one that only imports saz and loads the model).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import torch

from saz import io
from saz.prediction import load_predictor, predict_many, window_starts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ensemble.ogg"
SR_FILE = 44100


def make_recording(path: Path, seconds: float, seed: int) -> Path:
    """Tile the example (resampled to 44.1 kHz stereo, random gains) to ``seconds``; FLAC."""
    y, sr = sf.read(EXAMPLE, dtype="float32")
    y = soxr.resample(y, sr, SR_FILE)
    rng = np.random.default_rng(seed)
    with sf.SoundFile(path, "w", SR_FILE, 2, format="FLAC") as f:
        left = int(seconds * SR_FILE)
        while left > 0:
            part = y[: min(len(y), left)] * rng.uniform(0.3, 1.0)
            f.write(np.stack([part, part * rng.uniform(0.7, 1.0)], axis=1))
            left -= len(part)
    return path


def run_saz(files: list[Path], model: str) -> float:
    t0 = time.perf_counter()
    for pred in predict_many(files, model):
        assert pred.ok, pred.error
    return time.perf_counter() - t0


@torch.no_grad()
def run_reference(files: list[Path], model: str) -> float:
    """librosa log-mel + the same network, one window at a time, one file at a time."""
    import librosa

    pred = load_predictor(model)
    f = pred.feature
    w, h = int(pred.seconds * f.sr), int(pred.seconds * f.sr / 2)
    t0 = time.perf_counter()
    for path in files:
        y, _ = librosa.load(path, sr=f.sr, mono=True)
        for s in window_starts(len(y), w, h):
            win = np.pad(y[s:s + w], (0, max(0, s + w - len(y))))
            mel = librosa.feature.melspectrogram(y=win, sr=f.sr, n_fft=f.n_fft, hop_length=f.hop, n_mels=f.n_mels,
                                                 fmin=f.fmin, fmax=f.fmax, power=2.0)
            x = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=f.top_db)[None].astype(np.float32)
            pred.probabilities(x, batch=1)
    return time.perf_counter() - t0


def peak_rss_mb(code: str) -> float:
    """Peak resident memory (MB) of a fresh Python process running ``code``: VmHWM of its own
    address space (``ru_maxrss`` would carry over the parent's peak through fork and exec)."""
    script = code + "\nprint([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def best(fn, repeats: int) -> float:
    return min(fn() for _ in range(repeats))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    pred = load_predictor(args.model)
    res: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}",
                 "model": pred.name, "window_s": pred.seconds, "hop_s": pred.seconds / 2}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        long10 = make_recording(tmp / "ten-minutes.flac", 600, 0)
        (tmp / "clips").mkdir()
        clips = [make_recording(tmp / "clips" / f"{i:03d}.flac", 5.0, i) for i in range(200)]
        long60 = make_recording(tmp / "sixty-minutes.flac", 3600, 1)
        run_saz([clips[0]], args.model)  # warm-up: model load, first-call allocations
        for name, files, seconds in (("10-minute file", [long10], 600.0), ("200 five-second clips", clips, 1000.0)):
            t_saz = best(lambda: run_saz(files, args.model), args.repeats)
            t_ref = best(lambda: run_reference(files, args.model), args.repeats)
            res[name] = {"audio_seconds": seconds, "saz_seconds": t_saz, "reference_seconds": t_ref,
                         "saz_x_realtime": seconds / t_saz, "reference_x_realtime": seconds / t_ref,
                         "speedup": t_ref / t_saz}
            print(f"{name}: saz {seconds / t_saz:.0f}x real time, reference {seconds / t_ref:.0f}x, ratio {t_ref / t_saz:.1f}", flush=True)
        load = f"from saz.prediction import load_predictor; load_predictor({args.model!r})"
        res["peak_rss_mb_model_loaded"] = peak_rss_mb(load)
        res["peak_rss_mb_60_minute_file"] = peak_rss_mb(
            f"{load}\nfrom saz.prediction import predict_many\nfor p in predict_many([{str(long60)!r}], {args.model!r}): assert p.ok")
        print(f"peak RSS: {res['peak_rss_mb_60_minute_file']:.0f} MB for the 60-minute file "
              f"({res['peak_rss_mb_model_loaded']:.0f} MB with the model loaded only)", flush=True)
    io.write_json(args.out / "predict_speed.json", res)
    io.write_text(args.out / "predict_speed.md", markdown(res))


def markdown(r: dict) -> str:
    a, b = r["10-minute file"], r["200 five-second clips"]
    lines = ["# saz predict: speed and memory", "",
             f"Written by `python benchmarks/predict_speed.py` on {r['machine']}; model `{r['model']}`, "
             f"{r['window_s']:g}-s windows, {r['hop_s']:g}-s hop. Inputs: 44.1 kHz stereo FLAC made from "
             "`examples/ensemble.ogg`. Reference: librosa load + librosa log-mel per window + the same network "
             "one window at a time, one file at a time. Best of the runs; wall-clock time, decode to probabilities.", "",
             "| input | audio | saz | reference | saz / reference |", "| --- | --- | --- | --- | --- |"]
    for name, x in (("10-minute file", a), ("200 five-second clips", b)):
        lines.append(f"| {name} | {x['audio_seconds']:.0f} s | {x['saz_seconds']:.2f} s ({x['saz_x_realtime']:.0f}x real time) | "
                     f"{x['reference_seconds']:.2f} s ({x['reference_x_realtime']:.0f}x) | {x['speedup']:.1f}x |")
    lines += ["", f"Peak resident memory predicting a 60-minute file: **{r['peak_rss_mb_60_minute_file']:.0f} MB** "
              f"(a process that only loads the model: {r['peak_rss_mb_model_loaded']:.0f} MB).", "",
              "Targets (issue 6): >= 200x real time for the 10-minute file, >= 3x the reference, < 1 GB for 60 minutes: "
              + ", ".join(["met" if a["saz_x_realtime"] >= 200 else "NOT met", "met" if a["speedup"] >= 3 else "NOT met",
                           "met" if r["peak_rss_mb_60_minute_file"] < 1024 else "NOT met"]) + ".", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
