"""``saz predict`` over one folder with the local engine, Ray with 1 worker and Ray with 2 workers.

    python benchmarks/scale.py [--files 40] [--seconds 15 120] [--repeats 3] [--out benchmarks/results]

A folder for each ``--seconds``: ``--files`` recordings of that length, 44.1 kHz stereo FLAC
tiled from the bundled example (:func:`predict_speed.make_recording`; generated in a temporary
folder, not kept). Each configuration runs the real command line in a fresh process,
``python -m saz.cli predict DIR --format json --out FILE`` (with ``--engine ray --workers N`` for
Ray, which then starts a local Ray of N CPUs), once over the whole folder and once over its
first file, each the best of ``--repeats`` runs. Wall time over the folder gives the throughput
(files and audio seconds per second); the run over one file is the fixed cost (start-up, model
load, for Ray the cluster's start), and ``(T_folder - T_one) / (files - 1)`` the marginal cost per
file. Every configuration's JSON lines are checked equal to the local engine's (as sets: Ray
writes them as they finish).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from predict_speed import make_recording

from saz import io

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = {"local": [], "ray, 1 worker": ["--engine", "ray", "--workers", "1"],
           "ray, 2 workers": ["--engine", "ray", "--workers", "2"]}


def run(inputs: list[Path], extra: list[str], out: Path) -> tuple[float, list[str]]:
    """Wall seconds of one ``saz predict`` process over ``inputs``, and its JSON lines, sorted."""
    out.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "saz.cli", "predict", *map(str, inputs), "-f", "json", "--out", str(out),
                    *extra], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0, sorted(out.read_text().splitlines())


def measure(folder: Path, files: list[Path], seconds: float, work: Path, repeats: int) -> dict:
    """Each configuration's times (the best of ``repeats``: other jobs only ever slow a run down)
    and the figures derived from them."""
    results, reference = {}, None
    for name, extra in CONFIGS.items():
        t_all, lines = min(run([folder], extra, work / "all.jsonl") for _ in range(repeats))
        t_one = min(run(files[:1], extra, work / "one.jsonl")[0] for _ in range(repeats))
        reference = reference or lines
        per_file = (t_all - t_one) / (len(files) - 1)
        results[name] = {"wall_s": round(t_all, 2), "one_file_wall_s": round(t_one, 2),
                         "files_per_s": round(len(files) / t_all, 3),
                         "x_real_time": round(len(files) * seconds / t_all, 1),
                         "marginal_s_per_file": round(per_file, 3),
                         "marginal_x_real_time": round(seconds / per_file, 1) if per_file > 0 else None,
                         "fixed_s": round(t_one - per_file, 2), "same_lines_as_local": lines == reference,
                         "load_average_after": round(os.getloadavg()[0], 2)}
        print(name, results[name], flush=True)
    return results


def markdown(summary: dict) -> str:
    """The results page."""
    lines = ["# saz predict on the local engine and on Ray", "", f"Command: `{summary['command']}`", "",
             f"Model `default`, on {summary['machine']}. **The machine was shared with other saz helpers' jobs "
             f"while this ran** (load average {summary['load_average_before']} before the run): absolute times are "
             "pessimistic and the 2-worker figures cannot show a clean 2x on 2 cores that the driver and other "
             "jobs share; the overhead figures are what to read.", ""]
    for seconds, results in summary["runs"].items():
        lines += [f"## {summary['files']} recordings of {seconds} s", "", *_table(results)]
    lines += ["", "Fixed cost: the run over one file less one file's marginal cost (process start, imports, model "
              "load; for Ray also starting the local cluster and its workers). Marginal: (folder - one file) / "
              f"({summary['files']} - 1)."]
    return "\n".join(lines) + "\n"


def _table(results: dict) -> list[str]:
    """One run's table."""
    lines = ["| engine | wall (s), folder | files/s | x real time | wall (s), 1 file | fixed cost (s) | "
             "marginal s/file | same JSON lines as local | load average after |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['wall_s']} | {r['files_per_s']} | {r['x_real_time']} | {r['one_file_wall_s']} | "
                     f"{r['fixed_s']} | {r['marginal_s_per_file']} | {'yes' if r['same_lines_as_local'] else 'NO'} | {r['load_average_after']} |")
    return [*lines, ""]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--seconds", type=float, nargs="+", default=[15.0, 120.0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    before = round(os.getloadavg()[0], 2)
    runs = {}
    for seconds in args.seconds:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "in"
            folder.mkdir()
            files = [make_recording(folder / f"rec{k:03d}.flac", seconds, k) for k in range(args.files)]
            runs[f"{seconds:g}"] = measure(folder, files, seconds, Path(tmp), args.repeats)
    summary = {"command": "python " + " ".join(["benchmarks/scale.py", *sys.argv[1:]]), "files": args.files,
               "runs": runs, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
               f"{platform.python_version()}", "load_average_before": before}
    io.write_json(args.out / "scale.json", summary)
    io.write_text(args.out / "scale.md", markdown(summary))


if __name__ == "__main__":
    main()
