"""Teaching from the web: ``/api/teach`` on a real `saz serve` over loopback (the tiny base model,
generated instruments) and the page's Teach section in headless Chromium."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import saz_server
from test_teach import SR, instrument

httpx = pytest.importorskip("httpx")
from test_serve import screenshot  # noqa: E402


@pytest.fixture(scope="module")
def server(model: str, tmp_path_factory):
    """`saz serve --model` the tiny model, 1 MB per recording, 3 MB per teach request; its TMPDIR apart."""
    tmp = tmp_path_factory.mktemp("teach-server")
    with saz_server("--model", model, "--max-upload-mb", "1", "--max-teach-mb", "3", tmp=tmp) as url:
        yield url, tmp


def wav(kind: str, seed: int, seconds: float = 3.0) -> bytes:
    """A generated recording of ``kind`` (:func:`test_teach.instrument`) as WAV bytes."""
    out = io.BytesIO()
    sf.write(out, instrument(kind, seed, seconds), SR, format="WAV")
    return out.getvalue()


def uploads(spec: dict[str, list[tuple[str, bytes]]]) -> tuple[list, dict]:
    """The multipart fields of a teach request: ``{instrument: [(file name, bytes)]}``."""
    files = [("file", (name, data)) for recs in spec.values() for name, data in recs]
    return files, {"instrument": [inst for inst, recs in spec.items() for _ in recs]}


TWO = {"kamancheh": [(f"k{i}.wav", wav("kamancheh", i)) for i in range(3)],
       "reed": [(f"r{i}.wav", wav("reed", 10 + i)) for i in range(3)] + [("broken.wav", b"not audio")]}


def post(url: str, spec: dict, **params) -> httpx.Response:
    files, data = uploads(spec)
    return httpx.post(url + "/api/teach", files=files, data=data, params=params, timeout=60)


def finished(url: str, job: str, seconds: float = 60) -> dict:
    """The job's status once it is done or failed, and the stages it was seen in."""
    deadline, seen = time.monotonic() + seconds, []
    while time.monotonic() < deadline:
        status = httpx.get(f"{url}/api/teach/{job}").json()
        seen.append(status["stage"])
        if status["state"] in ("done", "failed"):
            return status | {"seen": seen}
        time.sleep(0.1)
    raise AssertionError(f"teach job {job} still {status['stage']} after {seconds} s")


def job_folders(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.glob("saz-teach-*"))


@pytest.fixture(scope="module")
def taught(server) -> dict:
    """Two generated instruments and one unreadable file taught through the API; a second request
    while it runs; the job's final status."""
    url, _ = server
    first = post(url, TWO)
    assert first.status_code == 202, first.text
    second = post(url, TWO)
    job = first.json()["job"]
    assert first.headers["location"] == f"/api/teach/{job}" and first.json()["state"] == "running"
    return {"job": job, "second": second, "status": finished(url, job)}


def test_teaching_reports_progress_scores_the_check_and_what_it_skipped(taught, server):
    _, tmp = server
    status = taught["status"]
    assert status["state"] == "done" and status["fraction"] == 1.0 and status["error"] is None, status
    rows = {c["class"]: c for c in status["classes"]}
    assert list(rows) == ["kamancheh", "reed"] and all(c["kind"] == "new" and c["recordings"] == 3 for c in rows.values())
    assert all(0 <= c["ap"] <= 1 and 0 <= c["f1"] <= 1 for c in rows.values())
    assert rows["kamancheh"]["line"].startswith("kamancheh        new       3 rec.  CV AP ")
    assert status["check"]["lines"][0].startswith(f"no forgetting ({status['check']['clips']} of your clips, ")
    assert status["check"]["max_change"] < 1e-4
    assert status["skipped"] == ["broken.wav: not audio or corrupt header (.wav file that libsndfile cannot parse)"]
    assert status["instruments"] == {"kamancheh": 3, "reed": 4}
    assert set(status["seen"]) <= {"reading", "embedding", "cross-validating", "checking", "done"}
    folder = next(p for p in tmp.glob("saz-teach-*"))  # the recordings are removed, the checkpoint kept
    assert sorted(p.name for p in folder.rglob("*")) == ["model.pt"]


def test_a_second_job_while_one_runs_gets_409(taught):
    second = taught["second"]
    assert second.status_code == 409
    assert second.json()["detail"].startswith(f"a teach job is running ({taught['job']}, ")


def test_the_downloaded_model_predicts_the_new_classes(taught, server, tmp_path):
    from saz.features import feature_from_config
    from saz.models.checkpoint import Checkpoint
    from saz.models.predictor import Predictor

    url, _ = server
    r = httpx.get(f"{url}/api/teach/{taught['job']}/model.pt")
    assert r.status_code == 200 and r.headers["content-disposition"] == f'attachment; filename="saz-taught-{taught["job"]}.pt"'
    (tmp_path / "mine.pt").write_bytes(r.content)
    loaded = Checkpoint.load(tmp_path / "mine.pt")
    assert loaded.vocabulary.names == ("tar", "ney", "daf", "kamancheh", "reed")
    assert [row["class"] for row in loaded.info["taught"]] == ["kamancheh", "reed"]
    x = feature_from_config(loaded.feature)(np.stack([instrument("kamancheh", 50, 2.0), instrument("reed", 60, 2.0)]))
    p = Predictor(loaded).probabilities(x)
    assert p[0, 3] > p[0, 4] and p[1, 4] > p[1, 3]  # each new recording scores higher for its own class


def test_use_makes_the_served_model_the_taught_one(taught, server):
    url, _ = server
    job = taught["job"]
    before = httpx.get(url + "/api/model").json()
    assert before["classes"] == ["tar", "ney", "daf"] and before["taught_by"] is None
    r = httpx.post(f"{url}/api/teach/{job}/use")
    assert r.status_code == 200 and r.json()["classes"] == ["tar", "ney", "daf", "kamancheh", "reed"]
    about = httpx.get(url + "/api/model").json()
    assert about == r.json() and about["taught_by"] == job and about["name"] == "taught"
    assert about["card"].startswith(f"Taught on this server by teach job {job}, on top of ")
    assert httpx.get(f"{url}/api/teach/{job}").json()["in_use"] is True
    answer = httpx.post(url + "/api/predict", files={"file": ("k.wav", wav("kamancheh", 77))}, timeout=60).json()
    assert set(answer["probabilities"]) == {"tar", "ney", "daf", "kamancheh", "reed"}
    assert answer["probabilities"]["kamancheh"] > answer["probabilities"]["reed"]


REC = [("a.wav", wav("reed", 1, 1.0))]
BIG = [("big.wav", wav("daf", 2, 30.0))]  # 1.3 MB > 1 MB per recording
REFUSED = {
    "no files": ({}, {}, 400, ("no recordings: send each recording as a 'file' field and, in the same order, "
                               "one 'instrument' field per file naming its instrument")),
    "an instrument with no files": ({"reed": REC, "ney": [("", b"")]}, {}, 400,
                                    "instrument 'ney': no recordings (choose at least one file for it)"),
    "a recording without a name": ({"": REC}, {}, 400, "a.wav: no instrument name given for it"),
    "a name clash": ({"santur": REC, "dulcimer": [("b.wav", wav("reed", 3, 1.0))]}, {"base": "default"}, 400,
                     "instrument names 'santur' and 'dulcimer' both mean the class 'dulcimer': use one name"),
    "another base": ({"reed": REC}, {"base": "/etc/passwd"}, 400, "base must be one of server, default, got '/etc/passwd'"),
    "a recording over the limit": ({"daf": BIG}, {}, 413, "big.wav: a recording larger than the limit of 1 MB"),
    "a request over the limit": ({"daf": BIG * 3}, {}, 413, "upload larger than the limit of 3 MB"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_bad_input_is_refused_in_one_line_and_leaves_nothing(server, taught, case):
    url, tmp = server
    spec, params, code, detail = REFUSED[case]
    before = job_folders(tmp)
    r = post(url, spec, **params)
    assert (r.status_code, r.json()) == (code, {"detail": detail})
    assert job_folders(tmp) == before and not list(tmp.glob("saz-upload-*"))


def test_names_that_do_not_pair_with_the_files_are_refused(server, taught):
    url, _ = server
    r = httpx.post(url + "/api/teach", files=[("file", REC[0]), ("file", REC[0])], data={"instrument": ["reed"]})
    assert (r.status_code, r.json()["detail"]) == (400, ("2 recordings and 1 instrument names: send one 'instrument' "
                                                         "field per 'file' field, in the same order"))


def test_a_job_of_unreadable_files_fails_saying_why(server, taught):
    url, _ = server
    r = post(url, {"reed": [("x.wav", b"junk"), ("y.flac", b"more junk")]})
    status = finished(url, r.json()["job"])
    assert status["state"] == "failed" and status["error"] == "none of the example recordings could be read"
    assert [s.split(":")[0] for s in status["skipped"]] == ["x.wav", "y.flac"]
    download = httpx.get(f"{url}/api/teach/{status['job']}/model.pt")
    assert (download.status_code, download.json()["detail"]) == (
        409, f"teach job {status['job']} is failed: none of the example recordings could be read")
    assert httpx.get(url + "/api/teach/0123456789abcdef").status_code == 404
    assert httpx.get(url + "/api/teach/..%2F..%2Fetc").status_code == 404


def test_a_teach_request_from_another_site_is_refused(server):
    url, _ = server
    files, data = uploads({"reed": REC})
    r = httpx.post(url + "/api/teach", files=files, data=data, headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403


def test_teach_tells_each_stage_in_order(model, tmp_path):
    from saz.teach import teach
    from test_teach import examples

    stages: list[tuple[str, float]] = []
    teach(examples(tmp_path, {"kamancheh": "kamancheh", "reed": "reed"}, recordings=2), base=model, progress=False,
          on_stage=lambda stage, done: stages.append((stage, done)))
    order = list(dict.fromkeys(s for s, _ in stages))
    assert order == ["reading", "embedding", "cross-validating", "checking"]
    embedding = [d for s, d in stages if s == "embedding"]
    assert embedding[0] == 0.0 and embedding[-1] == 1.0 and embedding == sorted(embedding)


def test_the_page_teaches_two_instruments_and_offers_the_model(server, taught, browser, tmp_path):
    """Through the page's Teach section: two names, each with its recordings, Teach, the progress,
    the result table, the download link (which downloads the checkpoint) and Use this model."""
    url, _ = server
    for name, recs in TWO.items():
        for file, data in recs[:3]:
            (tmp_path / file).write_bytes(data)
    page = browser.new_page(viewport={"width": 1000, "height": 900}, accept_downloads=True)
    page.goto(url + "/")
    page.click("#teach-start")  # nothing filled in yet
    assert page.inner_text("#teach-status") == "Give an instrument name and choose a few of its recordings."
    rows = page.locator("#teach-rows .teach-row")
    for k, name in enumerate(["wind", "bow"]):
        rows.nth(k).locator(".teach-name").fill(name)
        prefix = "r" if name == "wind" else "k"
        rows.nth(k).locator(".teach-files").set_input_files([str(tmp_path / f"{prefix}{i}.wav") for i in range(3)])
    page.evaluate("""() => { window.said = [];
        new MutationObserver(() => said.push(document.getElementById('teach-status').textContent))
          .observe(document.getElementById('teach-status'), {childList: true, characterData: true, subtree: true}); }""")
    page.click("#teach-start")
    page.wait_for_selector("#teach-result:not([hidden]), #teach-status.error", timeout=60_000)
    assert page.locator("#teach-result").is_visible(), page.inner_text("#teach-status")
    cells = [r.locator("td").all_inner_texts() for r in page.locator("#teach-table tbody tr").all()]
    assert [c[:3] for c in cells] == [["wind", "new", "3"], ["bow", "new", "3"]]
    assert all(0 <= float(c[3]) <= 1 and 0 <= float(c[4]) <= 1 for c in cells)
    assert page.inner_text("#teach-check").startswith("no forgetting (")
    assert page.inner_text("#teach-status") == "Taught wind, bow."
    said = page.evaluate("window.said")
    assert said[0] == "Uploading the recordings…" and any(s.startswith("Teaching: ") for s in said), said
    with page.expect_download() as download:
        page.click("#teach-download")
    from saz.models.checkpoint import Checkpoint

    assert Checkpoint.load(download.value.path()).vocabulary.names[-2:] == ("wind", "bow")
    screenshot(page, "serve-teach.png", tmp_path)
    page.click("#teach-use")
    page.wait_for_function("document.getElementById('teach-status').textContent.startsWith('The page now uses')")
    assert page.text_content("#vocab-classes").split(", ")[-2:] == ["wind", "bow"]
    page.close()


def test_only_the_last_jobs_and_the_one_in_use_are_kept(tmp_path):
    from saz.serve.teaching import KEEP, TeachJobs

    jobs, made = TeachJobs(str(tmp_path)), []
    for _ in range(KEEP + 3):
        job = jobs.reserve(in_use=made[0].id if made else None)  # the first job's model is served throughout
        (job.folder / "model.pt").write_bytes(b"weights")
        jobs.running = None  # as when it has finished
        made.append(job)
    kept = [j for j in made if j.folder.exists()]
    assert kept == [made[0], *made[-KEEP:]] and list(jobs.jobs) == [j.id for j in kept]
