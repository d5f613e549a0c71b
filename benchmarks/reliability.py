"""How saz answers malformed and unusual input, and what its server withstands.

    python benchmarks/reliability.py [--work DIR] [--model default]

1. writes the corpus of ``tests/fixtures/malformed.py`` (100-odd files: empty, truncated,
   lying headers, non-audio, NaN/Inf, every sample format, 1 Hz to 384 kHz, 1 to 32 channels,
   names with markup, unicode, line breaks...) and its crafted model files;
2. sends every file through ``saz predict`` (JSON and table), ``saz features`` and the HTTP
   API of ``saz serve`` with ``--model``, one batch each, and every model file through
   ``saz predict --model``;
3. loads the server: concurrent uploads (same answers? memory before and after), an upload over
   the size cap, a recording over the duration cap, more jobs than it runs at once, a cross-site
   form post and a malformed multipart body.

Each file's outcome is right when it is an answer for audio, exactly one error line naming it
for what is not audio (the corpus says which), and either for the few inputs where both are
honest. Results: ``benchmarks/results/reliability.md`` (counts and a row per file) and
``reliability.json``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Iterator

import httpx
import numpy as np
import soundfile as sf

from saz import io
from saz.progress import log

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
EXAMPLE = ROOT / "examples" / "ensemble.ogg"
ENTRY_POINTS = ("predict json", "predict table", "features", "API")
UPLOAD_MB = 2  # the server's byte cap in these checks


def corpus_module() -> ModuleType:
    """tests/fixtures/malformed.py, the corpus the reliability test runs, loaded by its path."""
    spec = importlib.util.spec_from_file_location("malformed", ROOT / "tests" / "fixtures" / "malformed.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def file_outcomes(m: ModuleType, cases: list, model: str, work: Path, url: str) -> tuple[dict[str, dict], int]:
    """Each entry point's outcome per case (by file name; ``-`` where a case cannot be sent), and
    how many tracebacks the command-line runs printed."""
    log("saz predict (JSON, table)")
    as_json, r_json = m.predict_outcomes(cases, model, "json")
    # the table prints a name as it is: one with a line break spans two lines there (JSON escapes it)
    as_table, r_table = m.predict_outcomes([c for c in cases if "\n" not in str(c.path)], model, "table")
    log("saz features")
    features, r_features = m.features_outcomes(cases, work / "features")
    log("the API")
    runs = {"predict json": as_json, "predict table": as_table, "features": features,
            "API": m.api_outcomes(m.uploadable(cases), url)}
    tracebacks = sum(r.stderr.count("Traceback") for r in (r_json, r_table, r_features))
    return {c.name: {k: runs[k].get(c.path, "-") for k in ENTRY_POINTS} for c in cases}, tracebacks


@contextlib.contextmanager
def serving(model: str, tmp: Path, log_file: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """``saz serve`` with ``model`` on a free loopback port, its temporary files in ``tmp`` and
    what it prints in ``log_file`` (a file: a pipe nobody reads would fill and stall it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp.mkdir(parents=True, exist_ok=True)
    log_handle = open(log_file, "w")
    proc = subprocess.Popen([sys.executable, "-m", "saz.cli", "serve", "--port", str(port), "--model", model,
                             "--max-upload-mb", str(UPLOAD_MB)],
                            env={**os.environ, "TMPDIR": str(tmp)}, stdout=log_handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None:
                raise SystemExit(f"saz serve did not start: {log_file.read_text()}")
            time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(20)
        log_handle.close()


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def upload(url: str, name: str, data: bytes, **kw) -> httpx.Response:
    return httpx.post(url + "/api/predict", files={"file": (name, data)}, timeout=600, **kw)


def concurrent_uploads(url: str, pid: int, n: int = 20) -> str:
    """``n`` uploads of the example at once: do they answer alike, and what happens to memory."""
    data = EXAMPLE.read_bytes()
    before = rss_mb(pid)
    with ThreadPoolExecutor(n) as pool:
        answers = list(pool.map(lambda _: upload(url, EXAMPLE.name, data), range(n)))
    statuses = collections.Counter(r.status_code for r in answers)
    ok = [r.json()["probabilities"] for r in answers if r.status_code == 200]
    same = all(a == ok[0] for a in ok)
    return (f"statuses {dict(statuses)}; the {len(ok)} answers {'identical' if same else 'DIFFER'}; "
            f"server memory {before:.0f} MB before, {rss_mb(pid):.0f} MB after")


def timed(check: str, send) -> dict:
    """Run ``send()`` (an HTTP call) and say what it answered and how long it took."""
    start = time.perf_counter()
    r = send()
    detail = r.json().get("detail", "") if r.headers.get("content-type", "").startswith("application/json") else r.text[:80]
    retry = f", Retry-After {r.headers['retry-after']}" if "retry-after" in r.headers else ""
    return {"check": check, "outcome": f"{r.status_code}{retry} in {time.perf_counter() - start:.1f} s: {str(detail)[:160]}"}


def server_checks(url: str, proc: subprocess.Popen, work: Path) -> list[dict]:
    """The server under load and at its limits."""
    log("server checks")
    long_silence = work / "five-hours-of-silence.flac"
    sf.write(long_silence, np.zeros(5 * 3600 * 8000, np.int16), 8000, subtype="PCM_16")
    big = np.random.default_rng(0).integers(-20000, 20000, (UPLOAD_MB + 1) * 2**20 // 2, dtype=np.int16)
    sf.write(work / "big.wav", big, 22050)
    rows = [{"check": "20 concurrent uploads of the 15-s example (the defaults: 2 jobs at once, 8 waiting)",
             "outcome": concurrent_uploads(url, proc.pid)}]
    rows.append(timed(f"a {(work / 'big.wav').stat().st_size / 2**20:.1f}-MB upload (cap {UPLOAD_MB} MB)",
                      lambda: upload(url, "big.wav", (work / "big.wav").read_bytes())))
    rows.append(timed(f"5 h of silence as a {long_silence.stat().st_size / 2**10:.0f}-kB FLAC",
                      lambda: upload(url, long_silence.name, long_silence.read_bytes())))
    rows.append(timed("a malformed multipart body", lambda: httpx.post(
        url + "/api/predict", content=b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc",
        headers={"content-type": "multipart/form-data; boundary=x"}, timeout=60)))
    rows.append(timed("a cross-site HTML form post (Origin elsewhere, no token)", lambda: upload(
        url, EXAMPLE.name, EXAMPLE.read_bytes(), headers={"origin": "http://elsewhere.example", "sec-fetch-site": "cross-site"})))
    leftovers = sorted(p.name for p in (work / "server-tmp").iterdir())
    rows.append({"check": "files the server left in its TMPDIR", "outcome": ", ".join(leftovers) or "none"})
    return rows


def model_outcomes(m: ModuleType, model: str, work: Path) -> list[dict]:
    """Each crafted model file through ``saz predict --model``: its error line, and whether it ran code."""
    marker = work / "code-ran"
    rows = []
    for c in m.checkpoints(work / "models", Path(model), marker):
        r = m.saz("predict", EXAMPLE, "-m", c.path)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        rows.append({"file": c.name, "what": c.what, "exit": r.returncode, "lines": len(lines),
                     "traceback": "Traceback" in r.stderr, "ran_code": marker.exists(),
                     "message": lines[-1].replace(str(c.path), c.name) if lines else ""})
        marker.unlink(missing_ok=True)
    return rows


def counts(m: ModuleType, cases: list, outcomes: dict[str, dict]) -> dict[str, dict[str, int]]:
    """Per entry point: answers, clean errors, and each kind of wrong outcome."""
    out = {}
    for k in ENTRY_POINTS:
        sent = [c for c in cases if outcomes[c.name][k] != "-"]
        verdicts = collections.Counter(m.verdict(c, outcomes[c.name][k]) for c in sent)
        got = collections.Counter(outcomes[c.name][k] for c in sent)
        out[k] = {"files": len(sent), "results": got["result"], "clean errors": got["error"],
                  "wrong results": verdicts["wrong result"], "refused audio": verdicts["refused"],
                  "broken": verdicts["broken"]}
    return out


def markdown(cases: list, outcomes: dict[str, dict], totals: dict, models: list[dict], server: list[dict],
             tracebacks: int) -> str:
    """The results page."""
    lines = ["# Reliability: malformed input and server limits", "",
             "Written by `python benchmarks/reliability.py` with the bundled default model. The corpus is "
             "generated by `tests/fixtures/malformed.py` (the same files `tests/test_reliability.py` checks); "
             "each entry point gets it in one batch. *right* = an answer for audio, exactly one error line "
             "naming the file for what is not audio, either where the corpus allows both.", "",
             f"Tracebacks in all runs: {tracebacks}.", "",
             "| entry point | files | results | clean errors | wrong results | refused audio | broken |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {k} | " + " | ".join(str(v) for v in t.values()) + " |" for k, t in totals.items()]
    lines += ["", "## Model files (`saz predict --model FILE`)", "",
              "| file | what it is | exit | stderr lines | traceback | ran code | message |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| `{r['file']}` | {r['what']} | {r['exit']} | {r['lines']} | {r['traceback']} | {r['ran_code']} | "
              f"{r['message'].replace('|', '/')} |" for r in models]
    lines += ["", "## Server", "", "| check | outcome |", "| --- | --- |"]
    lines += [f"| {r['check']} | {r['outcome']} |" for r in server]
    lines += ["", "## Every file", "", "| file | what it is | expected | " + " | ".join(ENTRY_POINTS) + " |",
              "| --- | --- | --- | " + "--- | " * len(ENTRY_POINTS)]
    for c in cases:
        name = repr(c.name)[1:-1].replace("|", "\\|")
        lines.append(f"| `{name}` | {c.what} | {c.expect} | " + " | ".join(outcomes[c.name][k] for k in ENTRY_POINTS) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=None, help="Working folder (default: a temporary one).")
    ap.add_argument("--model", default="default")
    args = ap.parse_args()
    from saz.models.bundled import resolve_model

    model = str(resolve_model(args.model))
    with tempfile.TemporaryDirectory() as tmp:
        work = (args.work or Path(tmp)).resolve()
        m = corpus_module()
        for old in ("corpus", "models", "features"):  # a rerun starts from a fresh corpus
            shutil.rmtree(work / old, ignore_errors=True)
        cases = m.build(work / "corpus")
        log(f"{len(cases)} files")
        with serving(model, work / "server-tmp", work / "server.log") as (url, proc):
            outcomes, tracebacks = file_outcomes(m, cases, model, work, url)
            server = server_checks(url, proc, work)
        tracebacks += (work / "server.log").read_text().count("Traceback")
        models = model_outcomes(m, model, work)
    totals = counts(m, cases, outcomes)
    tracebacks += sum(r["traceback"] for r in models)
    io.write_json(RESULTS / "reliability.json", {"counts": totals, "tracebacks": tracebacks, "models": models,
                                                  "server": server, "files": outcomes})
    io.write_text(RESULTS / "reliability.md", markdown(cases, outcomes, totals, models, server, tracebacks))
    log(f"{RESULTS / 'reliability.md'}: {totals}")


if __name__ == "__main__":
    main()
