"""Load test of ``saz annotate serve``: 50 simulated annotators posting concurrently for a bounded
time against a real server on loopback, on SQLite and on a throwaway PostgreSQL.

    python benchmarks/annotate_load.py [--annotators 50] [--seconds 30] [--tracks 400] [--backends sqlite postgresql]

Each annotator (a thread with its own session token) asks for the next open excerpt of its pool
and answers it; one submission in ten is sent twice with the same nonce (a replayed request,
which must be refused). Afterwards, from the database and from the clients' own records:

* no judgment lost or counted twice: the judgments stored are exactly the accepted submissions';
* the stopping rule exact: each pair's counters match its judgments, it is closed exactly when two
  agree, and no judgment came after it closed;
* the export (``saz annotate export``) is identical to the soft labels recomputed from the
  clients' records of what they sent and the server accepted.

Writes benchmarks/results/annotate_load.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
from sqlalchemy import select
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from annotate_support import annotate_server  # noqa: E402
from conftest import postgres_bin, throwaway_postgres, tone  # noqa: E402
from saz.annotate import db as adb  # noqa: E402
from saz.annotate.client import ApiError, Client  # noqa: E402
from saz.datasets.hamnava import CLASSES  # noqa: E402

POOL = ("easy", "hard")
NAMES = ["singer", "tar", "ney", "setar", "santour", "kamancheh", "tonbak", "oud", "daf"]


def make_sources(folder: Path, n_tracks: int, rng: random.Random) -> tuple[Path, Path]:
    """``n_tracks`` 31-s tone tracks (3 clips each once cut) and their tracks CSV, a third hard."""
    full = folder / "full"
    full.mkdir(parents=True)
    rows = ["track,difficulty,instruments"]
    for k in range(n_tracks):
        sf.write(full / f"tr{k:03d}.wav", tone(8000, 31.0, 150.0 + 7 * k), 8000)
        rows.append(f"tr{k:03d},{'hard' if k % 3 == 0 else 'easy'},{';'.join(rng.sample(NAMES, rng.randint(2, 4)))}")
    (folder / "tracks.csv").write_text("\n".join(rows) + "\n")
    return full, folder / "tracks.csv"


def annotator(client: Client, until: float, seed: int, log: list, tally: Counter) -> None:
    """Annotate until ``until``: each accepted submission appended to ``log`` (sample, answers)."""
    rng = random.Random(seed)
    while time.monotonic() < until:
        ex = client.call("/api/next")["excerpt"]
        if ex is None:
            return
        answers = [{"instrument": i, "confidence": rng.choice([0, 0, 1, 2, 3, 3]),
                    "voice": None} for i in ex["instruments"]]
        for a in answers:
            if a["instrument"] == "singer" and a["confidence"]:
                a["voice"] = rng.choice(["kalam", "chahchah", "both"])
        nonce = uuid.uuid4().hex
        try:
            client.submit(ex["sample_id"], answers, nonce)
        except ApiError as e:
            tally[f"refused {e.status}"] += 1  # closed meanwhile by another annotator
            continue
        log.append((ex["sample_id"], answers))
        tally["accepted"] += 1
        if rng.random() < 0.1:
            try:
                client.submit(ex["sample_id"], answers, nonce)
                tally["replay accepted"] += 1  # must stay 0
            except ApiError as e:
                tally[f"replay refused {e.status}"] += 1


def check_rule(engine) -> dict:
    """The stopping rule, from the database: counters, closing, nothing after closing."""
    bad = Counter()
    with Session(engine) as s:
        values = defaultdict(list)
        for pid, v in s.execute(select(adb.Judgment.pair_id, adb.Judgment.value).order_by(adb.Judgment.id)):
            values[pid].append(v >= 0.5)
        pairs = list(s.scalars(select(adb.Pair)))
    for p in pairs:
        hard = values.get(p.id, [])
        agree = max(hard.count(True), hard.count(False), 0)
        bad["counters"] += (p.present, p.absent) != (hard.count(True), hard.count(False))
        bad["closing"] += p.closed != (agree >= 2) or agree > 2
        bad["after closing"] += bool(hard) and max(hard[:-1].count(True), hard[:-1].count(False)) >= 2
    return {"pairs": len(pairs), "closed": sum(p.closed for p in pairs), "violations": dict(bad)}


def recomputed(logs: list[list], closed: set[tuple[str, str]]) -> pd.DataFrame:
    """Soft labels from the clients' records alone: the mean confidence per pair, 0 off the candidates."""
    mapping = {0: 0.0, 1: 0.5, 2: 0.75, 3: 1.0}
    values, candidates = defaultdict(list), defaultdict(set)
    for log in logs:
        for sample, answers in log:
            for a in answers:
                values[(sample, a["instrument"])].append(mapping[a["confidence"]])
                candidates[sample].add(a["instrument"])
    rows = []
    for sample, names in candidates.items():
        if all((sample, n) in closed for n in names):
            rows.append({"sample_id": sample, **{c: float(np.mean(values[(sample, c)])) if c in names else 0.0
                                                 for c in CLASSES}})
    return pd.DataFrame(rows).set_index("sample_id").sort_index()


def sign_up(url: str, code: str, n: int) -> list[Client]:
    """``n`` annotators from the admin's invitations, 60% in the easy pool, 40% in the hard one."""
    admin = Client(url).join(code, "admin")
    people = []
    for k in range(n):
        c = Client(url).join(admin.call("/api/invitations", {"admin": False})["code"], f"annotator{k:02d}")
        c.call("/api/check", {"rating": "high" if k % 5 < 2 else "medium", "answers": {}})
        people.append(c)
    return people


def run_backend(db: str, work: Path, n: int, seconds: float, tracks: int) -> dict:
    """Create the project, load it for ``seconds`` with ``n`` annotators, and check everything."""
    full, csv = make_sources(work, tracks, random.Random(0))
    init = subprocess.run([sys.executable, "-m", "saz.cli", "annotate", "init", "--excerpts", full, "--tracks", csv,
                           "--db", db, "--cut", work / "clips"], capture_output=True, text=True, check=True)
    code = init.stdout.split("?invite=")[1].split()[0]
    logs, tallies = [[] for _ in range(n)], [Counter() for _ in range(n)]
    with annotate_server(db, work) as url:
        people = sign_up(url, code, n)
        until = time.monotonic() + seconds
        threads = [threading.Thread(target=annotator, args=(c, until, k, logs[k], tallies[k]))
                   for k, c in enumerate(people)]
        started = time.monotonic()
        [t.start() for t in threads]
        [t.join() for t in threads]
        elapsed = time.monotonic() - started
    engine = adb.make_engine(db if "://" in db else adb.sqlite_url(db))
    with Session(engine) as s:
        stored = Counter((ex, ins) for ex, ins in s.execute(
            select(adb.Excerpt.sample_id, adb.Pair.instrument).join(adb.Pair).join(adb.Judgment)))
        closed = {(ex, ins) for ex, ins in s.execute(select(adb.Excerpt.sample_id, adb.Pair.instrument)
                                                     .join(adb.Pair).where(adb.Pair.closed))}
    sent = Counter((ex, a["instrument"]) for log in logs for ex, answers in log for a in answers)
    subprocess.run([sys.executable, "-m", "saz.cli", "annotate", "export", work / "export", "--db", db],
                   capture_output=True, text=True, check=True)
    exported = pd.concat([pd.read_csv(work / "export" / "annotations" / f"{s}.csv")
                          for s in ("train", "validation", "test")]).set_index("sample_id").sort_index()
    expected = recomputed(logs, closed)
    tally = sum(tallies, Counter())
    same = (list(exported.index) == list(expected.index)
            and np.allclose(exported[list(CLASSES)].to_numpy(), expected[list(CLASSES)].to_numpy(), atol=1e-6))
    return {"annotators": n, "seconds": round(elapsed, 1), "submissions": dict(tally),
            "submissions_per_s": round(tally["accepted"] / elapsed, 1), "judgments_stored": sum(stored.values()),
            "judgments_sent": sum(sent.values()), "lost_or_duplicated": sum(((stored - sent) + (sent - stored)).values()),
            "rule": check_rule(engine), "exported_excerpts": len(exported), "export_matches_recomputed": bool(same)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--annotators", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--tracks", type=int, default=400, help="31-s tracks, 3 excerpts each")
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "annotate_load")
    args = ap.parse_args()
    results = {}
    for backend in args.backends:
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "sqlite":
                results[backend] = run_backend(str(Path(tmp) / "load.db"), Path(tmp), args.annotators, args.seconds, args.tracks)
            else:
                with throwaway_postgres(postgres_bin()) as url:
                    results[backend] = run_backend(url, Path(tmp), args.annotators, args.seconds, args.tracks)
        print(backend, json.dumps(results[backend]), flush=True)
    command = "python benchmarks/annotate_load.py " + " ".join(sys.argv[1:])
    args.out.with_suffix(".json").write_text(json.dumps({"command": command.strip(), "results": results}, indent=1))
    args.out.with_suffix(".md").write_text(report(command.strip(), results))


def report(command: str, results: dict) -> str:
    lines = ["# saz annotate under load", "", f"Command: `{command}` (one machine, 2 shared cores; server and the "
             "simulated annotators on it together, over loopback).", "",
             "| backend | annotators | s | accepted | refused (closed meanwhile) | replays refused | per s | "
             "judgments stored / sent | lost or duplicated | pairs closed | rule violations | export = recomputed |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        sub = r["submissions"]
        refused = sum(v for k, v in sub.items() if k.startswith("refused"))
        replays = sum(v for k, v in sub.items() if k.startswith("replay refused"))
        lines.append(f"| {name} | {r['annotators']} | {r['seconds']} | {sub.get('accepted', 0)} | {refused} | {replays} "
                     f"(accepted: {sub.get('replay accepted', 0)}) | {r['submissions_per_s']} | {r['judgments_stored']}"
                     f" / {r['judgments_sent']} | {r['lost_or_duplicated']} | {r['rule']['closed']} of "
                     f"{r['rule']['pairs']} | {sum(r['rule']['violations'].values())} | "
                     f"{r['export_matches_recomputed']} ({r['exported_excerpts']} excerpts) |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
