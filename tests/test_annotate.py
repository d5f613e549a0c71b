"""saz annotate on SQLite and on a real PostgreSQL: projects, the stopping rule under concurrent
submissions, the API's refusals over a real server (restarted: sessions survive), the export read
by saz's hamnava reader and trained on."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter

import pytest
import soundfile as sf
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from conftest import tone
from saz.annotate import db as adb
from saz.annotate.client import ApiError, Client
from saz.annotate.db import Judgment, Pair
from saz.annotate.judging import Answer, Refused, submit
from saz.annotate.project import create_project
from saz.annotate.results import raw_judgments, soft_labels
from saz.datasets.base import load
from saz.datasets.hamnava import CLASSES

from annotate_support import TRACKS, annotate_server, db_url, sources  # noqa: F401 (fixtures)

PAIRS = 2 * sum(len(i.split(";")) for _, _, i in TRACKS)  # two clips per 21-s track


def engine_of(url: str):
    e = adb.make_engine(url if "://" in url else adb.sqlite_url(url))
    adb.upgrade(e)
    return e


def test_init_cuts_every_other_5s_clip_and_refuses_a_bad_csv(cli, sources, tmp_path):
    full, csv = sources
    (full / "t3.wav").write_bytes(b"RIFF but not audio")  # a track that does not decode: named, the rest go on
    r = cli("annotate", "init", "--excerpts", full, "--tracks", csv, "--db", tmp_path / "p.db", "--cut", tmp_path / "c")
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("failed: ") and "t3.wav" in r.stderr and r.stderr.count("\n") == 1
    pairs = PAIRS - 2 * 2  # without t3: two clips of two pairs
    assert f"9 tracks, 18 excerpts, {pairs} open pairs" in r.stdout and "?invite=" in r.stdout
    clips = sorted((tmp_path / "c").glob("t0__*.wav"))
    assert [c.stem for c in clips] == ["t0__000", "t0__002"]  # 21 s: windows 0-5, 10-15 (never 5-10 next to 0-5)
    assert all(abs(sf.info(c).duration - 5.0) < 1e-6 for c in clips)
    again = cli("annotate", "init", "--excerpts", tmp_path / "c", "--tracks", csv, "--db", tmp_path / "p.db")
    assert "0 tracks, 0 excerpts, 0 open pairs" in again.stdout  # idempotent
    bad = tmp_path / "bad.csv"
    bad.write_text("track,difficulty,instruments\nt0,easy,tar;banjo\n")
    r = cli("annotate", "init", "--excerpts", full, "--tracks", bad, "--db", tmp_path / "q.db")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert f"{bad}:2: unknown instrument(s) banjo" in r.stderr


def test_stopping_rule_is_exact_under_concurrency(db_url, sources, tmp_path):
    """Twelve annotators submit for the same excerpt at once (one submission answers both of its
    pairs, refused whole once one is closed): a pair closes as soon as two agree, no judgment
    lands on a closed pair, the counts match the judgments."""
    full, csv = sources
    engine = engine_of(db_url)
    create_project(engine, full, csv, tmp_path / "clips")
    with Session(engine) as s, s.begin():
        s.add_all(adb.Annotator(name=f"a{k}", pool="easy", paused=False) for k in range(12))
    sample = "t0__000.wav"
    refused = Counter()

    def one(k: int) -> None:
        rng = random.Random(k)
        with Session(engine) as s:
            try:
                with s.begin():
                    who = s.get(adb.Annotator, k + 1)
                    submit(s, who, sample, [Answer("tar", rng.choice([0, 3])), Answer("tonbak", rng.choice([0, 1]))],
                           f"n{k}")
            except Refused as e:
                refused[e.status] += 1

    threads = [threading.Thread(target=one, args=(k,)) for k in range(12)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    closed = 0
    with Session(engine) as s:
        for p in s.scalars(select(Pair).join(adb.Excerpt).where(adb.Excerpt.sample_id == sample)):
            values = list(s.scalars(select(Judgment.value).where(Judgment.pair_id == p.id).order_by(Judgment.id)))
            hard = [v >= 0.5 for v in values]
            agree = max(hard.count(True), hard.count(False))
            assert (p.present, p.absent) == (hard.count(True), hard.count(False))
            assert p.closed == (agree == 2) and agree <= 2  # closed exactly when two agree, never judged after
            assert max(hard[:-1].count(True), hard[:-1].count(False)) < 2  # open until the last judgment
            closed += p.closed
        n = s.scalar(select(func.count(func.distinct(Judgment.nonce))))
    assert closed >= 1 and n + refused[409] == 12 and set(refused) <= {409}


def _setup(url: str, code: str, names: list[str]) -> tuple[Client, list[Client]]:
    admin = Client(url).join(code, "admin")
    people = [Client(url).join(admin.call("/api/invitations", {"admin": False})["code"], n) for n in names]
    return admin, people


def _answers(excerpt: dict, rng: random.Random) -> list[dict]:
    out = []
    for ins in excerpt["instruments"]:
        c = rng.choice([0, 2, 3]) if ins != "tonbak" else 3
        out.append({"instrument": ins, "confidence": c, "voice": "kalam" if ins == "singer" and c else None})
    return out


def _annotate_all(people: list[Client], rng: random.Random) -> int:
    sent, live = 0, list(people)
    while live:
        c = rng.choice(live)
        ex = c.call("/api/next")["excerpt"]
        if ex is None:
            live.remove(c)
            continue
        c.submit(ex["sample_id"], _answers(ex, rng))
        sent += 1
    return sent


def test_api_flow_refusals_restart_export_and_train(cli, db_url, sources, tmp_path):
    full, csv = sources
    r = cli("annotate", "init", "--excerpts", full, "--tracks", csv, "--db", db_url, "--cut", tmp_path / "clips")
    code = r.stdout.split("?invite=")[1].split()[0]
    ref = tmp_path / "ref.wav"
    sf.write(ref, tone(8000, 1.0, 330.0), 8000)
    assert cli("annotate", "reference", ref, "santur", "--db", db_url).returncode == 0
    with annotate_server(db_url, tmp_path) as url:
        admin, people = _setup(url, code, ["e1", "e2", "e3", "h1", "h2", "h3", "low"])
        refs = people[0].call("/api/check")["references"]
        for c, rating in zip(people, ["medium", "medium", "medium", "high", "high", "high", "low"]):
            c.call("/api/check", {"rating": rating, "answers": {str(refs[0]["id"]): "santour"}})
        pools = [c.call("/api/me")["pool"] for c in people]
        assert pools == ["easy", "easy", "easy", "hard", "hard", "hard", "excluded"]
        with pytest.raises(ApiError) as e:
            people[6].call("/api/next")
        assert e.value.status == 403
        ex = people[0].call("/api/next")["excerpt"]
        assert ex["difficulty"] == "easy" and ex["instruments"]
        answers = _answers(ex, random.Random(0))
        other = next(c for c in CLASSES if c not in ex["instruments"])  # not a candidate of its track
        people[0].submit(ex["sample_id"], answers, nonce="same")
        for bad, status in [(lambda: people[1].submit(ex["sample_id"], answers, nonce="same"), 409),  # replayed
                            (lambda: people[0].submit(ex["sample_id"], answers), 409),  # judged twice
                            (lambda: Client(url, "forged.token").call("/api/me"), 401),
                            (lambda: people[1].submit(ex["sample_id"], [{"instrument": other, "confidence": 2}]), 422),
                            (lambda: people[1].submit(ex["sample_id"], [{**answers[0], "confidence": 7}]), 422)]:
            with pytest.raises(ApiError) as e:
                bad()
            assert e.value.status == status, e.value.detail
        assert people[0].call("/api/me")["count"] == 1 and people[1].call("/api/me")["count"] == 0
        people[0].call("/api/pause", {"paused": True})
        with pytest.raises(ApiError):
            people[0].call("/api/next")
        people[0].call("/api/pause", {"paused": False})
    with annotate_server(db_url, tmp_path) as url:  # a restart: the same tokens still sign in
        for c in (admin, *people):
            c.url = url
        assert people[0].call("/api/me")["count"] == 1
        sent = _annotate_all(people[:6], random.Random(1))
        dash = admin.call("/api/dashboard")
        assert dash["progress"]["all"]["closed"] == dash["progress"]["all"]["pairs"] == PAIRS
        assert dash["by_instrument"]["tonbak"]["agreement"] == 1.0 and dash["by_instrument"]["tonbak"]["confidence"] == 1.0
        # a pair that closed refuses more judgments, changing nothing
        with pytest.raises(ApiError) as e:
            people[2].submit("t0__000.wav", [{"instrument": "tar", "confidence": 0}])
        assert e.value.status in (409,)
        (tmp_path / "clips" / "t1__000.wav").write_bytes(b"not audio")
        with pytest.raises(ApiError) as e:
            people[0].call("/api/audio/t1__000.wav?token=" + people[0].token)
        assert e.value.status == 422
        (tmp_path / "clips" / "t1__000.wav").unlink()
    assert sent >= 20
    sf.write(tmp_path / "clips" / "t1__000.wav", tone(8000, 5.0, 240.0), 8000)
    out = tmp_path / "export"
    r = cli("annotate", "export", out, "--db", db_url)
    assert r.returncode == 0, r.stderr
    ds = load("hamnava", out)
    assert not ds.problems and len(ds.clips) == 20
    assert {"train", "test"} <= set(ds.clips["split"]) <= {"train", "validation", "test"}  # 10 tracks: few groups
    for split in ("train", "validation", "test"):  # a track's excerpts stay in one split
        assert not set(ds.clips[ds.clips["split"] == split]["clip_id"].str[:2]) & set(
            ds.clips[ds.clips["split"] != split]["clip_id"].str[:2])
    expected = soft_labels(raw_judgments(engine_of(db_url))).set_index("sample_id")
    got = ds.labels.y
    for i, sid in enumerate(ds.clips["clip_id"]):
        assert got[i].tolist() == pytest.approx(expected.loc[sid, list(CLASSES)].astype(float).tolist(), abs=1e-6)
    if db_url.endswith(".db"):  # training once is enough: the export is the same format on both backends
        r = cli("train", "hamnava_cnn", "-d", "hamnava", "-r", out, "-o", tmp_path / "run", "--epochs", "1",
                env={"SAZ_CACHE": str(tmp_path / "cache")})
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "run" / "model.pt").exists()
    stats = cli("annotate", "stats", "--db", db_url)
    assert json.loads(stats.stdout)["judgments"] == len(raw_judgments(engine_of(db_url)))


def test_shipped_migrations_build_the_models_schema(db_url):
    """What Alembic's migrations create is what the SQLAlchemy models describe (no drift)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = engine_of(db_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), adb.Base.metadata) == []


def test_agreement_and_confidence_follow_eq_1_and_eq_2():
    """Worked by hand: pair A (1, 1, 0) agrees 1/3 (each 1 matches half the others, the 0 none),
    pair B (0.5, 0.75) fully; confidences 2|a - 0.5| average 1 and 0.25; a lone annotation
    counts for confidence only."""
    import pandas as pd

    from saz.annotate.results import quality

    rows = [("A", "tar", v) for v in (1.0, 1.0, 0.0)] + [("B", "tar", v) for v in (0.5, 0.75)] + [("C", "ney", 0.0)]
    j = pd.DataFrame(rows, columns=["sample_id", "instrument", "value"]).assign(difficulty="easy")
    by = quality(j, "instrument")
    assert by["tar"] == pytest.approx({"pairs": 2, "agreement": (1 / 3 + 1) / 2, "confidence": (1 + 0.25) / 2})
    assert by["ney"] == {"pairs": 1, "agreement": None, "confidence": 1.0}
    assert quality(j, "difficulty")["easy"]["pairs"] == 3
