"""The malformed-input corpus (tests/fixtures/malformed.py) through every entry point.

Each of its 100-odd files goes through ``saz predict`` (JSON and table), ``saz features`` and the
HTTP API in one batch each, as a user's folder would. For every file: an answer, or exactly one
error line naming it; never a traceback, never a wrong answer, always valid JSON; the rest of
the batch answered; exit status 1 because some files failed. Crafted model files are refused
in one line each and run no code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import EXAMPLES, saz_server
from fixtures import malformed

httpx = pytest.importorskip("httpx")
API_HEADERS: dict[str, str] = {}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[malformed.Case]:
    return malformed.build(tmp_path_factory.mktemp("corpus"))


def wrong(cases: list[malformed.Case], outcomes: dict[Path, str]) -> str:
    """Every case whose outcome is not right, a line each with what happened."""
    return "\n".join(f"{c.name!r} ({c.what}): expected {c.expect}, got {outcomes[c.path]}"
                     for c in cases if malformed.verdict(c, outcomes[c.path]) != "right")


def test_the_corpus_covers_what_the_reliability_issue_lists(corpus):
    assert len(corpus) >= 100
    assert {c.expect for c in corpus} == {malformed.RESULT, malformed.ERROR, malformed.ANY}
    names = [str(c.path) for c in corpus]
    assert len(set(names)) == len(names)
    for needle in ("[/x]", "\n", "/-leading", "nan-sample", "channels-32", "rate-384000", "truncated-50pc", "garbage-"):
        assert any(needle in n for n in names), needle


def test_predict_json_answers_every_file_or_names_it_once(corpus, model):
    outcomes, r = malformed.predict_outcomes(corpus, model, "json")
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert not wrong(corpus, outcomes), wrong(corpus, outcomes)
    n_failed = sum(o == "error" for o in outcomes.values())
    assert r.returncode == 1 and f"{n_failed} of {len(corpus)} file(s) failed" in r.stderr


def test_predict_table_answers_the_same_files(corpus, model):
    """The table names each answered file on a line of its own; a name with a line break spans two
    lines there, so that one case is left to the JSON test."""
    cases = [c for c in corpus if "\n" not in str(c.path)]
    outcomes, r = malformed.predict_outcomes(cases, model, "table")
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert not wrong(cases, outcomes), wrong(cases, outcomes)
    assert r.returncode == 1


def test_features_computes_every_file_or_names_it_once(corpus, tmp_path):
    outcomes, r = malformed.features_outcomes(corpus, tmp_path / "out")
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert not wrong(corpus, outcomes), wrong(corpus, outcomes)


@pytest.fixture(scope="module")
def server(model, tmp_path_factory):
    """`saz serve` on a free loopback port with the small test model."""
    with saz_server("--model", model, tmp=tmp_path_factory.mktemp("server-tmp")) as url:
        yield url


def test_the_api_answers_every_uploadable_file_or_refuses_it_cleanly(corpus, server):
    """Files that cannot be opened (a folder, a broken link) cannot be uploaded: the others are."""
    cases = malformed.uploadable(corpus)
    assert len(cases) >= 95
    outcomes = malformed.api_outcomes(cases, server, API_HEADERS)
    assert not wrong(cases, outcomes), wrong(cases, outcomes)
    assert httpx.get(server + "/api/health", timeout=5).status_code == 200  # still serving


def test_crafted_model_files_are_refused_in_one_line_and_run_no_code(cli, model, tmp_path):
    marker = tmp_path / "code-ran"
    good = EXAMPLES / "plucked-trio.ogg"
    for c in malformed.checkpoints(tmp_path / "models", Path(model), marker):
        r = cli("predict", good, "-m", c.path)
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        assert r.returncode == 1 and "Traceback" not in r.stderr, (c.name, r.stderr[-2000:])
        assert len(lines) == 1 and str(c.path) in lines[0], (c.name, lines)
        assert not marker.exists(), f"{c.name}: loading it ran code"
    assert json.loads(cli("predict", good, "-m", model, "--format", "json").stdout)["source"] == str(good)
