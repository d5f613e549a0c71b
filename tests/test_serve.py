"""`saz serve`: the real server on a free loopback port, real HTTP, and the page in headless Chromium."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest
import soundfile as sf

from conftest import EXAMPLES, REAL_FILES, free_port, saz_server, tone
from saz.audio import AudioError

httpx = pytest.importorskip("httpx")
SR = 22050


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`saz serve` in a subprocess with its own TMPDIR (to check that uploads leave nothing), taking
    recordings up to 20 s, two at a time with 18 more waiting (twenty concurrent requests all get a turn)."""
    tmp = tmp_path_factory.mktemp("server-tmp")
    with saz_server("--max-upload-mb", "2", "--max-seconds", "20", "--max-jobs", "2", "--max-queue", "18", tmp=tmp) as url:
        yield url, tmp


def post(url: str, path: Path, headers: dict[str, str] | None = None, **params) -> httpx.Response:
    with open(path, "rb") as f:
        return httpx.post(url + "/api/predict", files={"file": (path.name, f)}, params=params, headers=headers, timeout=60)


@contextlib.contextmanager
def served(app) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port from a thread of this process: real HTTP,
    with what the app calls open to ``monkeypatch``. Yields its URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def wait_until(condition: Callable[[], bool], seconds: float = 20) -> None:
    """Poll ``condition`` until it holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def leftovers(tmp: Path) -> list[str]:
    """What the server left in its TMPDIR: its own copies (saz-upload-*) and Starlette's spooled parts alike."""
    return sorted(p.name for p in tmp.iterdir())


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("uploads")
    y = tone(SR, 3.0, 330.0) + 0.2 * tone(SR, 3.0, 990.0)
    out = {"ogg": EXAMPLES / "ensemble.ogg", "mp3": REAL_FILES["mp3"]}
    for ext in ("wav", "flac"):
        out[ext] = d / f"tone.{ext}"
        sf.write(out[ext], y, SR)
    out["text"] = d / "notes.txt"
    out["text"].write_text("not audio at all\n")
    whole = out["wav"].read_bytes()
    out["truncated"] = d / "cut.wav"
    out["truncated"].write_bytes(whole[: len(whole) // 3])
    out["big"] = d / "big.wav"
    sf.write(out["big"], np.zeros(SR * 60, np.float32), SR)  # 2.6 MB > the 2 MB limit
    return out


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    """The app in process (FastAPI's TestClient), with a 0.25 MB limit and its own temporary folder."""
    with warnings.catch_warnings():  # Starlette's note that its test client will want httpx2
        warnings.filterwarnings("ignore", message=".*httpx2")
        from fastapi.testclient import TestClient
    from saz.serve.app import create_app

    tmp = tmp_path_factory.mktemp("app-tmp")
    with TestClient(create_app(max_upload_mb=0.25, tmp_dir=str(tmp))) as client:
        yield client, tmp


def test_status_follows_the_error_type_not_its_text():
    from saz.audio import AudioError, AudioFormatError
    from saz.serve.app import BadParameter, UploadTooLarge, status_for

    assert status_for(AudioFormatError("a.bin", "no decoder")) == 415
    assert status_for(AudioError("a.wav", "unsupported format, not audio")) == 422  # its words do not decide
    assert status_for(UploadTooLarge(2)) == 413 and status_for(BadParameter("threshold")) == 422
    assert status_for(RuntimeError("unsupported format")) == 500


@pytest.mark.parametrize("kind, code", [("AudioFormatError", 415), ("AudioError", 422)])
def test_a_failed_prediction_answers_by_its_error_type(app_client, files, monkeypatch, kind, code):
    from saz import audio
    from saz.prediction import Prediction
    from saz.serve import app as web

    seen: list[Path] = []

    def failing(paths, *args, **kwargs):
        seen.append(Path(paths[0]))
        yield Prediction(str(paths[0]), [], np.zeros(0), error=getattr(audio, kind)(paths[0], f"not audio: {paths[0]}"))

    monkeypatch.setattr(web, "predict_many", failing)
    client, tmp = app_client
    r = client.post("/api/predict", files={"file": ("tone.wav", files["wav"].read_bytes())})
    assert r.status_code == code and r.json() == {"detail": "tone.wav: not audio: tone.wav"}  # the upload's name only
    assert seen[0].suffix == ".wav" and not seen[0].exists() and leftovers(tmp) == []


def test_nan_and_truncated_audio_are_refused_as_unusable(app_client, tmp_path):
    client, tmp = app_client
    y = tone(SR, 2.0)
    y[500] = np.nan
    sf.write(tmp_path / "nan.wav", y, SR, subtype="FLOAT")
    r = client.post("/api/predict", files={"file": ("nan.wav", (tmp_path / "nan.wav").read_bytes())})
    assert r.status_code == 422 and r.json() == {"detail": "nan.wav: contains NaN or infinite samples"}
    data = (EXAMPLES / "plucked-trio.ogg").read_bytes()
    r = client.post("/api/predict", files={"file": ("cut.ogg", data[: len(data) // 2])})
    assert r.status_code == 422 and r.json()["detail"].startswith("cut.ogg: truncated: the Ogg stream stops at")
    assert leftovers(tmp) == []


def test_upload_limits_and_parameters_in_process(app_client):
    client, tmp = app_client
    limit = int(0.25 * 1024 * 1024)
    too_big = {"detail": "upload larger than the limit of 0.25 MB"}
    r = client.post("/api/predict", files={"file": ("x.wav", b"\0" * (limit + 1))})  # the body is within the framing room
    assert r.status_code == 413 and r.json() == too_big
    r = client.post("/api/predict", files={"file": ("x.wav", b"\0" * limit)})  # at the limit: read, and no audio
    assert r.status_code == 415 and "x.wav: not audio" in r.json()["detail"]
    body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.wav\"\r\n\r\n" + b"\0" * 2 * limit
    r = client.post("/api/predict", content=iter([body]), headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and r.json() == too_big  # no Content-Length: counted as it arrives
    r = client.post("/api/predict", content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and r.json() == too_big  # declared: refused before reading
    r = client.post("/api/predict", files={"recording": ("x.wav", b"RIFF")})
    assert r.status_code == 400 and r.json() == {"detail": "no 'file' field in the upload"}
    for r in (client.post("/api/predict", data={"x": "1"}), client.post("/api/predict", json={})):
        assert r.status_code == 400 and r.json() == {"detail": "send the recording as multipart/form-data with a 'file' field"}
    for params, words in (({"threshold": 7}, "in [0, 1]"), ({"profile": "loud"}, "no threshold profile 'loud'"),
                          ({"profile": "sensitive", "threshold": 0.5}, "give one")):
        r = client.post("/api/predict", params=params, files={"file": ("x.wav", b"RIFF")})
        assert r.status_code == 422 and words in r.json()["detail"], params
    assert leftovers(tmp) == []


def test_health_model_docs_and_page(server):
    url, _ = server
    health = {"status": "ok", "model": "ensemble", "jobs": {"running": 0, "waiting": 0}}  # a model of two saznets
    assert httpx.get(url + "/api/health").json() == health
    m = httpx.get(url + "/api/model").json()
    assert m["name"] == "ensemble" and len(m["classes"]) == len(m["thresholds"]) > 10 and "# saz default model" in m["card"]
    assert (m["max_upload_mb"], m["max_seconds"], m["max_jobs"], m["max_queue"]) == (2, 20, 2, 18)
    assert list(m["profiles"]) == ["tuned", "sensitive"]
    docs = httpx.get(url + "/docs")
    assert docs.status_code == 200 and "/static/swagger-ui/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text
    assert httpx.get(url + "/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert httpx.get(url + "/static/swagger-ui/../../app.py").status_code == 404
    assert "/api/predict" in httpx.get(url + "/openapi.json").json()["paths"]
    page = httpx.get(url + "/")
    assert page.status_code == 200 and 'id="chart"' in page.text


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_every_format_gives_the_cli_json(server, files, fmt, cli):
    url, tmp = server
    r = post(url, files[fmt], timeline="true")
    assert r.status_code == 200, r.text
    body = r.json()
    expected = json.loads(cli("predict", files[fmt], "--format", "json", "--timeline").stdout)
    assert set(body) == set(expected) and body["source"] == files[fmt].name
    assert body["probabilities"] == pytest.approx(expected["probabilities"], abs=1e-4)
    assert [s["instrument"] for s in body["timeline"]["segments"]] == [s["instrument"] for s in expected["timeline"]["segments"]]
    assert leftovers(tmp) == []


def test_bad_uploads_get_clear_errors_and_leave_nothing(server, files):
    url, tmp = server
    r = post(url, files["text"])
    assert r.status_code == 415 and "notes.txt" in r.json()["detail"] and "unsupported format" in r.json()["detail"]
    r = post(url, files["truncated"])
    assert r.status_code == 422 and "cut.wav" in r.json()["detail"] and "truncated" in r.json()["detail"]
    r = post(url, files["big"])
    assert r.status_code == 413 and "2 MB" in r.json()["detail"]
    r = httpx.post(url + "/api/predict", data={"x": "1"}, timeout=10)
    assert r.status_code == 400
    r = post(url, files["wav"], threshold="7")
    assert r.status_code == 422
    assert leftovers(tmp) == []


def test_threshold_profile_parameter(server):
    url, _ = server
    tuned, sensitive = post(url, EXAMPLES / "ensemble.ogg"), post(url, EXAMPLES / "ensemble.ogg", profile="sensitive")
    assert tuned.status_code == sensitive.status_code == 200
    names = lambda r: {i["instrument"] for i in r.json()["instruments"]}  # noqa: E731
    assert names(tuned) < names(sensitive) and tuned.json()["probabilities"] == sensitive.json()["probabilities"]
    r = post(url, EXAMPLES / "ensemble.ogg", profile="loud")
    assert r.status_code == 422 and "no threshold profile 'loud'" in r.json()["detail"] and "/" not in r.json()["detail"]
    r = post(url, EXAMPLES / "ensemble.ogg", profile="sensitive", threshold=0.5)
    assert r.status_code == 422 and "give one" in r.json()["detail"]


def raw_upload(url: str, head: bytes, headers: str) -> socket.socket:
    """A socket with a multipart upload's request line, ``headers`` and ``head`` of its body sent."""
    host, port = url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall(f"POST /api/predict HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=sazboundary\r\n"
              f"{headers}\r\n".encode() + head)
    return s


PART_HEAD = (b'--sazboundary\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
             b"Content-Type: audio/wav\r\n\r\n")


def test_client_disconnecting_mid_upload_leaves_nothing(server):
    url, tmp = server
    with raw_upload(url, PART_HEAD + b"\0" * 1_500_000, "Content-Length: 1900000\r\n"):  # spooled past 1 MB, to disk
        time.sleep(0.5)
    for _ in range(50):  # the client has gone before the upload was whole: nothing stays
        if not leftovers(tmp):
            break
        time.sleep(0.1)
    assert leftovers(tmp) == []
    assert httpx.get(url + "/api/health").status_code == 200


def read_answer(s: socket.socket, answer: bytearray) -> None:
    """Append what the server sends on ``s`` to ``answer`` until its JSON error is whole or the line closes."""
    try:
        while not answer.endswith(b'MB"}') and (data := s.recv(65536)):
            answer += data
    except OSError:
        pass


def test_upload_without_length_is_cut_off_at_the_limit(server):
    """Chunked, with no Content-Length: the server counts what arrives and answers 413 once it
    passes the 2 MB limit, before the 64 MB the client would send have all arrived."""
    url, tmp = server
    total, answer, sent = 64 * 1024 * 1024, bytearray(), 0
    framed = lambda data: b"%x\r\n%s\r\n" % (len(data), data)  # noqa: E731
    with raw_upload(url, b"", "Transfer-Encoding: chunked\r\n") as s:
        s.settimeout(10)
        reader = threading.Thread(target=read_answer, args=(s, answer))
        reader.start()
        s.sendall(framed(PART_HEAD))
        try:
            while sent < total and not answer:
                s.sendall(framed(b"\0" * 65536))
                sent += 65536
        except OSError:  # the server has answered and closed the line
            pass
        reader.join(15)
    assert answer.startswith(b"HTTP/1.1 413") and answer.endswith(b'{"detail":"upload larger than the limit of 2 MB"}')
    assert sent < total  # answered before the body ended: the rest was never read
    assert leftovers(tmp) == []


def test_twenty_concurrent_requests(server, files):
    url, tmp = server
    want = post(url, files["flac"]).json()
    with ThreadPoolExecutor(20) as pool:
        got = list(pool.map(lambda _: post(url, files["flac"]), range(20)))
    assert all(r.status_code == 200 for r in got)
    assert all(r.json()["probabilities"] == want["probabilities"] for r in got)
    assert leftovers(tmp) == []


def silence(path: Path, seconds: int, sr: int = 8000) -> Path:
    """``seconds`` of digital silence as FLAC, written a minute at a time: hours in a few hundred kB."""
    with sf.SoundFile(path, "w", sr, 1, format="FLAC") as f:
        for start in range(0, seconds, 60):
            f.write(np.zeros(sr * min(60, seconds - start), np.int16))
    return path


def test_a_recording_over_the_duration_limit_is_refused_from_its_header(server, tmp_path):
    """An hour of silence is a small upload; its header says how long it is, and that is refused
    before a sample is decoded (the server takes recordings up to 20 s)."""
    url, tmp = server
    hour = silence(tmp_path / "hour.flac", 3600)
    assert hour.stat().st_size < 2 * 1024 * 1024  # within the upload limit
    r = post(url, hour)
    assert r.status_code == 413 and r.json() == {"detail": "hour.flac: 3600 s long, over the limit of 20 s"}
    assert r.elapsed.total_seconds() < 5  # the header only: decoding an hour takes far longer
    assert leftovers(tmp) == []


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The app served from this process (:func:`served`): recordings up to 10 s, one job at a time
    and one more waiting. Yields its URL."""
    from saz.serve.app import create_app

    app = create_app(max_seconds=10, max_jobs=1, max_queue=1, tmp_dir=str(tmp_path_factory.mktemp("live")))
    with served(app) as url:
        yield url


def test_decoding_stops_at_the_duration_limit_whatever_the_header_says(live, tmp_path, monkeypatch):
    from saz import audio
    from saz.serve import app as web

    blocks, stream = [], audio.stream

    def counted(*args, **kwargs):
        for block in stream(*args, **kwargs):
            blocks.append(len(block))
            yield block

    monkeypatch.setattr(web, "check_length", lambda path, limit: None, raising=False)  # as if the header said less
    monkeypatch.setattr(audio, "stream", counted)
    r = post(live, silence(tmp_path / "five-minutes.flac", 300))
    assert r.status_code == 413 and r.json() == {"detail": "five-minutes.flac: decodes to more than the limit of 10 s"}
    assert len(blocks) == 1  # one 30-s block decoded of ten


def test_requests_beyond_the_jobs_and_the_queue_get_503(live, files, monkeypatch):
    """One prediction runs and one waits; a third is turned away at once, told when to retry, and
    the two are served when the first is done."""
    from saz.prediction import Prediction
    from saz.serve import app as web

    done = threading.Event()

    def slow(paths, *args, **kwargs):
        done.wait(30)
        yield Prediction(str(paths[0]), [], np.zeros(0), error=AudioError(paths[0], "not audio after all"))

    monkeypatch.setattr(web, "predict_many", slow)
    load = lambda: httpx.get(live + "/api/health").json()["jobs"]  # noqa: E731
    with ThreadPoolExecutor(2) as pool:
        try:
            first = pool.submit(post, live, files["wav"])
            wait_until(lambda: load() == {"running": 1, "waiting": 0})
            second = pool.submit(post, live, files["wav"])
            wait_until(lambda: load() == {"running": 1, "waiting": 1})
            busy = post(live, files["wav"])
        finally:
            done.set()
        assert [first.result().status_code, second.result().status_code] == [422, 422]
    assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
    assert busy.json() == {"detail": "the server is busy (predictions running: 1, waiting: 1): try again in 5 s"}
    assert load() == {"running": 0, "waiting": 0}


CROSS_SITE = {"another site": {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
              "no Sec-Fetch-Site": {"Origin": "http://evil.example"},  # an older browser
              "another port": {"Origin": "http://127.0.0.1:3000", "Sec-Fetch-Site": "same-site"},
              "an opaque origin": {"Origin": "null"}}  # a sandboxed frame, a file:// page


@pytest.mark.parametrize("case", CROSS_SITE)
def test_a_post_from_another_sites_page_is_refused(server, files, case):
    url, tmp = server
    r = post(url, files["wav"], headers=CROSS_SITE[case])
    refusal = f"cross-site request refused: a page of {CROSS_SITE[case]['Origin']} cannot POST to this server"
    assert r.status_code == 403 and r.json() == {"detail": refusal}
    assert httpx.get(url + "/api/health", headers=CROSS_SITE[case]).status_code == 200  # reading is harmless
    assert leftovers(tmp) == []


def test_a_post_from_the_servers_own_page_or_no_browser_passes(server, files):
    url, _ = server
    for headers in ({"Origin": url, "Sec-Fetch-Site": "same-origin"}, {"Origin": url}, {}):
        assert post(url, files["wav"], headers=headers).status_code == 200, headers


MALFORMED = {
    "a 'file' field of text": ("multipart/form-data; boundary=b",
                               b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nhello\r\n--b--\r\n'),
    "no boundary": ("multipart/form-data", b"--b\r\n"),
    "not multipart inside": ("multipart/form-data; boundary=b", b"garbage, no boundary at all"),
    "a part without a name": ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n"),
    "a header line without a colon": ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition form-data\r\n\r\nx\r\n--b--\r\n"),
    "JSON that does not parse": ("application/json", b'{"file": '),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_body_gets_400_in_one_line(server, case):
    url, tmp = server
    content_type, body = MALFORMED[case]
    r = httpx.post(url + "/api/predict", content=body, headers={"content-type": content_type}, timeout=10)
    assert r.status_code == 400 and isinstance(r.json()["detail"], str) and "\n" not in r.json()["detail"], r.text
    assert leftovers(tmp) == []


def test_a_form_on_another_site_cannot_make_the_server_work(server, browser):
    """Cross-site request forgery as a browser does it: a page of another origin whose form posts
    a recording to the server (multipart/form-data needs no CORS preflight). The browser sends the
    request, and the server refuses it."""
    url, _ = server
    form = (f'<form method="post" enctype="multipart/form-data" action="{url}/api/predict?timeline=false">'
            '<input type="file" name="file"><button>send</button></form>')
    page = browser.new_page()
    page.route("http://evil.test/", lambda route: route.fulfill(content_type="text/html", body=form))
    page.goto("http://evil.test/")
    page.set_input_files("input[name=file]", str(EXAMPLES / "ensemble.ogg"))
    with page.expect_navigation():
        page.click("button")
    assert "cross-site request refused: a page of http://evil.test cannot POST to this server" in page.inner_text("body")
    page.close()


@pytest.fixture
def page(server, browser):
    """A desktop-sized page in Chromium on which every request for another host than the server is
    aborted; the test fails if the page made one (nothing it shows comes from elsewhere)."""
    url, _ = server
    page = browser.new_page(viewport={"width": 1000, "height": 900}, accept_downloads=True)
    outside: list[str] = []

    def loopback_only(route) -> None:
        if route.request.url.startswith(url + "/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", loopback_only)
    yield page
    page.close()
    assert outside == []


@pytest.fixture(scope="module")
def answers(server) -> dict[str, dict]:
    """The API's answers for examples/ensemble.ogg, by threshold profile."""
    url, _ = server
    return {profile: post(url, EXAMPLES / "ensemble.ogg", profile=profile).json() for profile in ("tuned", "sensitive")}


def opened(page, url: str) -> None:
    """The page at ``url``, once it has read the model (its profiles and vocabulary)."""
    page.goto(url + "/")
    page.wait_for_selector("#vocabulary:not([hidden])", timeout=10_000)


def shown(page, url: str, path: Path = EXAMPLES / "ensemble.ogg") -> None:
    """``path`` uploaded from the page and its answer shown."""
    opened(page, url)
    page.set_input_files("#file", str(path))
    page.wait_for_selector("#results:not([hidden])", timeout=60_000)


def posts_of(page) -> list[str]:
    """The URLs the page POSTs to from now on."""
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    return posts


def instruments(page) -> list[str]:
    return page.locator("#instruments li.instrument .name").all_inner_texts()


def downloaded(page, kind: str) -> tuple[str, str]:
    """The file name and text of the page's download ``kind``."""
    with page.expect_download() as download:
        page.click(f"[data-download={kind}]")
    return download.value.suggested_filename, Path(download.value.path()).read_text()


def same_reading(got: dict, want: dict) -> None:
    """The page's answer ``got`` is the API's ``want``, with segment confidences within rounding
    (the page averages probabilities given to 4 decimals)."""
    got, want = json.loads(json.dumps(got)), json.loads(json.dumps(want))
    confidences = lambda d: [s.pop("confidence") for s in d["timeline"]["segments"]]  # noqa: E731
    assert confidences(got) == pytest.approx(confidences(want), abs=2e-4)
    assert got == want


def screenshot(page, name: str, tmp_path: Path) -> None:
    """A full-page screenshot: into the folder $SAZ_SCREENSHOTS names (``docs/assets`` to renew the
    documentation's), else a temporary one."""
    path = Path(os.environ.get("SAZ_SCREENSHOTS", tmp_path)) / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_page_in_headless_chromium(server, page, answers):
    url, _ = server
    page.goto(url + "/")
    page.keyboard.press("Tab")  # keyboard alone reaches the file chooser
    assert page.evaluate("document.activeElement.id") in ("file", "choose")
    page.wait_for_selector("#profile-row:not([hidden])", timeout=10_000)
    assert page.locator("#profile option").all_inner_texts() == ["tuned", "sensitive"]
    page.set_input_files("#file", str(EXAMPLES / "ensemble.ogg"))
    page.wait_for_selector("#results:not([hidden])", timeout=60_000)
    names = instruments(page)
    assert names == [i["instrument"] for i in answers["tuned"]["instruments"]] and names
    page.select_option("#profile", "sensitive")  # the same file again, read with the sensitive profile
    assert "false alarms" in page.inner_text("#profile-about")
    page.set_input_files("#file", [])
    first = page.get_attribute("#player", "src")
    page.set_input_files("#file", str(EXAMPLES / "ensemble.ogg"))
    page.wait_for_function(f"(p => p.src !== '{first}' && p.readyState >= 1)(document.getElementById('player'))",
                           timeout=60_000)  # the second answer shown
    more = [i["instrument"] for i in answers["sensitive"]["instruments"]]
    assert instruments(page) == more
    assert int(page.get_attribute("#chart", "data-rendered")) >= len(names)
    page.evaluate("document.getElementById('player').currentTime = 7.5")
    page.wait_for_function("document.getElementById('chart').dataset.cursor === '7.50'", timeout=10_000)


def test_a_recording_from_the_microphone_is_identified_as_an_upload_is(server, page, answers):
    """Chromium's fake microphone plays examples/ensemble.ogg; three seconds of it are recorded,
    sent as WAV to /api/predict and answered on the page."""
    url, _ = server
    opened(page, url)
    posts = posts_of(page)
    page.click("#record")
    page.wait_for_function("document.getElementById('record').textContent.includes('(3 s)')", timeout=10_000)
    page.click("#record")
    page.wait_for_selector("#results:not([hidden])", timeout=60_000)
    assert page.inner_text("#filename") == "recording.wav" and posts == [url + "/api/predict?timeline=true"]
    assert page.get_attribute("#record", "aria-pressed") == "false"
    answer = json.loads(downloaded(page, "json")[1])
    assert 2.5 <= answer["duration"] <= 5 and max(answer["timeline"]["envelope"]["peaks"]) > 0.05
    assert set(instruments(page)) & {i["instrument"] for i in answers["tuned"]["instruments"]}  # what it heard
    page.wait_for_function("document.getElementById('player').duration > 2.5", timeout=10_000)


CANVAS_INK = """([x0, y0, y1]) => {
  const c = document.getElementById('chart'), r = devicePixelRatio;
  const d = c.getContext('2d').getImageData(x0 * r, y0 * r, c.width - x0 * r, (y1 - y0) * r).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) n += d[i] > 0;
  return n;
}"""


def test_the_player_the_chart_and_its_legend(server, page, answers, tmp_path):
    """Clicking the chart or a segment moves the player there, and the cursor follows playback;
    the waveform is drawn above the map, every detected instrument has a row, the legend says
    what colour and outline mean."""
    url, _ = server
    shown(page, url)
    page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=10_000)
    geometry = page.evaluate("geometry")  # where the chart's time axis lies
    page.locator("#chart").scroll_into_view_if_needed()
    box = page.locator("#chart").bounding_box()
    assert page.evaluate(CANVAS_INK, [geometry["left"], 0, 48]) > 500  # the waveform
    page.mouse.click(box["x"] + geometry["left"] + geometry["width"] / 2, box["y"] + 80)
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 7.5) < 0.05", timeout=10_000)
    segment = answers["tuned"]["timeline"]["segments"][-1]
    assert segment["start"] > 0
    page.locator("#segments button.seek").last.click()
    page.wait_for_function(f"document.getElementById('chart').dataset.cursor === '{segment['start']:.2f}'", timeout=10_000)
    page.evaluate("(p => { p.muted = true; p.play(); })(document.getElementById('player'))")
    page.wait_for_function(f"parseFloat(document.getElementById('chart').dataset.cursor) > {segment['start'] + 0.5}",
                           timeout=15_000)
    page.evaluate("document.getElementById('player').pause()")
    legend = page.inner_text("#legend")
    assert "colour: probability" in legend and "outline: above the instrument's threshold" in legend
    detected = len(answers["tuned"]["instruments"])
    assert int(page.get_attribute("#chart", "data-rendered")) >= detected
    assert page.inner_text("#chart-note").startswith(f"Drawn: every detected instrument ({detected})")
    page.evaluate("document.getElementById('player').currentTime = 7.5")
    page.wait_for_function("document.getElementById('chart').dataset.cursor === '7.50'", timeout=10_000)
    screenshot(page, "serve-desktop.png", tmp_path)


def test_the_chart_says_which_instruments_it_leaves_out(server, page):
    """With more instruments near their thresholds than rows, every detected one is drawn and the
    note names those left out."""
    url, _ = server
    shown(page, url)
    note = page.evaluate("""() => {
      const classes = Array.from({length: 20}, (_, i) => 'c' + i);
      const probabilities = Object.fromEntries(classes.map((c, i) => [c, 0.9 - 0.02 * i]));
      view = {...view, probabilities, instruments: classes.slice(0, 11).map((c) => ({instrument: c, probability: probabilities[c]})),
              timeline: {...view.timeline, windows: view.timeline.windows.map((w) => ({...w, probabilities})), segments: []}};
      draw();
      return [document.getElementById('chart').dataset.rendered, document.getElementById('chart-note').textContent];
    }""")
    assert note[0] == "12"
    assert note[1] == ("Drawn: every detected instrument (11), and the strongest 1 other(s) reaching 10 %. Left out, below "
                       "their thresholds: c12 (66 %), c13 (64 %), c14 (62 %), c15 (60 %), c16 (58 %), c17 (56 %), c18 (54 %), "
                       "c19 (52 %). The other 0 instruments stay below 10 % throughout.")


def test_downloads_are_made_from_the_answer_shown(server, page, answers):
    url, _ = server
    shown(page, url)
    name, text = downloaded(page, "json")
    assert name == "ensemble.json"
    same_reading(json.loads(text), answers["tuned"])
    shown_answer = json.loads(text)
    segments = shown_answer["timeline"]["segments"]
    name, text = downloaded(page, "csv")
    assert name == "ensemble.csv"
    assert text.splitlines() == ["source,instrument,start,end,confidence"] + [
        f'"ensemble.ogg",{s["instrument"]},{s["start"]:.3f},{s["end"]:.3f},{s["confidence"]:.4f}' for s in segments]
    name, text = downloaded(page, "labels")
    assert name == "ensemble-labels.txt" and text.endswith("\n")
    assert text.splitlines() == [f'{s["start"]:.6f}\t{s["end"]:.6f}\t{s["instrument"]}' for s in segments]


def test_the_page_merges_touching_runs_of_windows_as_the_server_does(server, page):
    """Windows at 0, 2.5, 5 and 7.5 s (5-s windows) above, below, above, above a threshold: two
    runs, the second starting where the first ends, so one segment from 0 to the end, with the
    mean of the four windows (saz.prediction.Prediction.segments)."""
    from saz.prediction import Prediction

    url, _ = server
    page.goto(url + "/")
    p = [0.9, 0.4, 0.9, 0.8]
    got = page.evaluate("""(p) => {
        model = {classes: ["tar"], profiles: {mine: {about: "", thresholds: [0.5]}}};
        const windows = [0, 2.5, 5, 7.5].map((start, k) => ({start, probabilities: {tar: p[k]}}));
        const body = {duration: 12.5, probabilities: {tar: 0.9}, timeline: {window: 5, hop: 2.5, windows}};
        return reread(body, "mine").timeline.segments;
    }""", p)
    server_side = Prediction("x", ["tar"], np.array([0.5]), 12.5, 5.0, 2.5, np.array([0.9]), np.array([0, 2.5, 5, 7.5]),
                             np.array(p)[:, None], np.zeros(1, np.float32))
    assert [(s.start, s.end) for s in server_side.segments] == [(0.0, 12.5)]
    assert got == [{"instrument": "tar", "start": 0, "end": 12.5, "confidence": pytest.approx(server_side.segments[0].confidence)}]


def test_a_threshold_profile_rereads_the_same_answer_without_uploading_again(server, page, answers):
    url, _ = server
    posts = posts_of(page)
    shown(page, url)
    tuned = [i["instrument"] for i in answers["tuned"]["instruments"]]
    sensitive = [i["instrument"] for i in answers["sensitive"]["instruments"]]
    assert instruments(page) == tuned != sensitive
    page.select_option("#profile", "sensitive")
    assert instruments(page) == sensitive and "sensitive thresholds" in page.inner_text("#status")
    same_reading(json.loads(downloaded(page, "json")[1]), answers["sensitive"])  # as the server reads them
    assert page.locator("#segments tbody tr").count() == len(answers["sensitive"]["timeline"]["segments"])
    page.select_option("#profile", "tuned")
    assert instruments(page) == tuned
    assert posts == [url + "/api/predict?timeline=true"]  # one upload, read three times


def test_the_vocabulary_is_one_click_away_and_beside_every_answer(server, page):
    url, _ = server
    model = httpx.get(url + "/api/model").json()
    assert model["not_in_vocabulary"] == ["tar", "setar", "kamancheh", "ney", "oud", "tonbak", "daf"]
    assert model["scored_as"] == {"santur": "dulcimer"}
    assert model["profiles"]["sensitive"]["thresholds"][0] < model["profiles"]["tuned"]["thresholds"][0]
    shown(page, url)
    note = page.inner_text("#known")
    assert note.startswith(f"The model only knows {len(model['classes'])} instruments")
    assert "tar, setar, kamancheh, ney, oud, tonbak, daf are not among them; santur is scored as dulcimer." in note
    assert note.endswith("To add yours, teach it from a few recordings: saz teach, or below.")
    assert not page.locator("#vocabulary").evaluate("d => d.open")
    page.click("#known-count")
    assert page.locator("#vocabulary").evaluate("d => d.open")
    assert page.inner_text("#vocab-classes").split(", ") == model["classes"]
    assert "Tar, setar, kamancheh, ney, oud, tonbak, daf are not among them" in page.inner_text("#vocabulary")


def test_a_phone_width_does_not_scroll_sideways(server, page, tmp_path):
    url, _ = server
    page.set_viewport_size({"width": 375, "height": 800})
    shown(page, url)
    page.select_option("#profile", "sensitive")  # more rows and segments
    page.click("#known-count")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "serve-phone.png", tmp_path)


def test_the_api_docs_work_offline(server, page):
    """/docs loads Swagger UI from the server itself: with every other host unreachable it shows
    the operations (the fixture checks that nothing was asked of another host)."""
    url, _ = server
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url))
    page.goto(url + "/docs")
    page.wait_for_selector(".opblock-summary-path[data-path='/api/predict']", timeout=20_000)
    assert "swagger-ui-bundle.js" in " ".join(loaded) and all(u.startswith(url + "/") for u in loaded)
    assert httpx.get(url + "/redoc").status_code == 404  # ReDoc loads from a CDN: not served
