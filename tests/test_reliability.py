"""The malformed-input corpus (tests/fixtures/malformed.py) through every entry point.

Each of its 100-odd files goes through ``saz predict`` (JSON and table), ``saz features`` and the
HTTP API in one batch each, as a user's folder would. For every file: an answer, or exactly one
error line naming it; never a traceback, never a wrong answer, always valid JSON; the rest of
the batch answered; exit status 1 because some files failed. Crafted model files are refused
in one line each and run no code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, free_port, run_saz
from fixtures import malformed

httpx = pytest.importorskip("httpx")
API_HEADERS: dict[str, str] = {}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[malformed.Case]:
    return malformed.build(tmp_path_factory.mktemp("corpus"))


def wrong(cases: list[malformed.Case], outcomes: dict[Path, str]) -> list[str]:
    """Every case whose outcome is not right, with what happened."""
    return [f"{c.name!r} ({c.what}): expected {c.expect}, got {outcomes[c.path]}"
            for c in cases if malformed.verdict(c, outcomes[c.path]) != "right"]


def test_the_corpus_covers_what_the_reliability_issue_lists(corpus):
    assert len(corpus) >= 100
    expected = {c.expect for c in corpus}
    assert expected == {malformed.RESULT, malformed.ERROR, malformed.ANY}
    names = [str(c.path) for c in corpus]
    assert len(set(names)) == len(names)
    for needle in ("[/x]", "\n", "/-leading", "nan-sample", "channels-32", "rate-384000", "truncated-50pc", "garbage-"):
        assert any(needle in n for n in names), needle


def test_predict_json_answers_every_file_or_names_it_once(corpus, model):
    r = run_saz("predict", *(c.path for c in corpus), "-m", model, "--format", "json")
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    answers, invalid = malformed.json_answers(r.stdout)
    outcomes = malformed.outcomes(corpus, answers, r.stderr, invalid)
    assert not wrong(corpus, outcomes), "\n".join(wrong(corpus, outcomes))
    n_failed = sum(o == "error" for o in outcomes.values())
    assert r.returncode == 1 and f"{n_failed} of {len(corpus)} file(s) failed" in r.stderr


def test_predict_table_answers_the_same_files(corpus, model):
    """The table names each answered file on a line of its own; a name with a line break spans two
    lines there, so that one case is left to the JSON test."""
    cases = [c for c in corpus if "\n" not in str(c.path)]
    r = run_saz("predict", *(c.path for c in cases), "-m", model)
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    outcomes = malformed.outcomes(cases, malformed.table_answers(r.stdout), r.stderr)
    assert not wrong(cases, outcomes), "\n".join(wrong(cases, outcomes))
    assert r.returncode == 1


def test_features_computes_every_file_or_names_it_once(corpus, tmp_path):
    r = run_saz("features", *(c.path for c in corpus), "-o", tmp_path / "out", "--no-cache")
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    index = (tmp_path / "out" / "index.csv").read_text()
    outcomes = malformed.outcomes(corpus, malformed.index_answers(index), r.stderr)
    assert not wrong(corpus, outcomes), "\n".join(wrong(corpus, outcomes))


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    """`saz serve` on a free loopback port with the small test model."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "saz.cli", "serve", "--port", str(port), "--model", model],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp_path_factory.mktemp("server-tmp"))})
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read())
    yield url
    proc.terminate()
    proc.wait(10)


def api_outcome(response: httpx.Response) -> str:
    """``result`` for 200 with an answer, ``error`` for a 4xx whose JSON body says why, else what it was."""
    try:
        body = malformed.strict_json(response.text)
    except ValueError:
        return "invalid JSON"
    if response.status_code == 200 and "probabilities" in body:
        return "result"
    if 400 <= response.status_code < 500 and isinstance(body.get("detail"), str) and body["detail"]:
        return "error"
    return f"status {response.status_code}"


def test_the_api_answers_every_uploadable_file_or_refuses_it_cleanly(corpus, server):
    """Files that cannot be opened (a folder, a broken link) cannot be uploaded: the others can."""
    cases = [c for c in corpus if c.path.is_file() and os.access(c.path, os.R_OK)]
    assert len(cases) >= 95
    outcomes = {}
    for c in cases:
        r = httpx.post(server + "/api/predict", files={"file": (c.path.name, c.path.read_bytes())},
                       headers=API_HEADERS, timeout=60)
        outcomes[c.path] = api_outcome(r)
    assert not wrong(cases, outcomes), "\n".join(wrong(cases, outcomes))
    assert httpx.get(server + "/api/health", timeout=5).status_code == 200  # still serving


def test_crafted_model_files_are_refused_in_one_line_and_run_no_code(model, tmp_path):
    marker = tmp_path / "code-ran"
    cases = malformed.checkpoints(tmp_path / "models", Path(model), marker)
    good = EXAMPLES / "plucked-trio.ogg"
    for c in cases:
        r = run_saz("predict", good, "-m", c.path)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert r.returncode == 1 and "Traceback" not in r.stderr, (c.name, r.stderr[-2000:])
        assert len(lines) == 1 and str(c.path) in lines[0], (c.name, lines)
        assert not marker.exists(), f"{c.name}: loading it ran code"
    assert json.loads(run_saz("predict", good, "-m", model, "--format", "json").stdout)["source"] == str(good)
