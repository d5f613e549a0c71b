"""`saz serve`: the real server on a free loopback port, real HTTP, and the page in headless Chromium."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pytest
import soundfile as sf

from conftest import EXAMPLES, REAL_FILES, free_port, tone
from saz.audio import AudioError

httpx = pytest.importorskip("httpx")
SR = 22050


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`saz serve` in a subprocess with its own TMPDIR (to check that uploads leave nothing), taking
    recordings up to 20 s, two at a time with 18 more waiting (twenty concurrent requests all get a turn)."""
    tmp = tmp_path_factory.mktemp("server-tmp")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "saz.cli", "serve", "--port", str(port), "--max-upload-mb", "2",
                             "--max-seconds", "20", "--max-jobs", "2", "--max-queue", "18"],
                            env={**os.environ, "TMPDIR": str(tmp)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read())
    else:
        proc.kill()
        raise RuntimeError("server did not start")
    yield url, tmp
    proc.terminate()
    proc.wait(10)


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
    assert httpx.get(url + "/docs").status_code == 200
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


@pytest.fixture(scope="module")
def browser(chromium):
    """Headless Chromium (Debian's, :func:`conftest.chromium`), through Playwright."""
    playwright = pytest.importorskip("playwright.sync_api", reason="needs playwright: pip install -e '.[dev]'")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


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


def test_page_in_headless_chromium(server, browser, tmp_path):
    url, _ = server
    expected = post(url, EXAMPLES / "ensemble.ogg").json()
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(url + "/")
    page.keyboard.press("Tab")  # keyboard alone reaches the file chooser
    assert page.evaluate("document.activeElement.id") in ("file", "choose")
    page.wait_for_selector("#profile-row:not([hidden])", timeout=10_000)
    assert page.locator("#profile option").all_inner_texts() == ["tuned", "sensitive"]
    page.set_input_files("#file", str(EXAMPLES / "ensemble.ogg"))
    page.wait_for_selector("#results:not([hidden])", timeout=60_000)
    names = page.locator("#instruments li.instrument .name").all_inner_texts()
    assert names == [i["instrument"] for i in expected["instruments"]] and names
    page.select_option("#profile", "sensitive")  # the same file again, read with the sensitive profile
    assert "false alarms" in page.inner_text("#profile-about")
    page.set_input_files("#file", [])
    page.set_input_files("#file", str(EXAMPLES / "ensemble.ogg"))
    more = [i["instrument"] for i in post(url, EXAMPLES / "ensemble.ogg", profile="sensitive").json()["instruments"]]
    page.wait_for_function(f"document.querySelectorAll('#instruments li.instrument').length === {len(more)}", timeout=60_000)
    assert page.locator("#instruments li.instrument .name").all_inner_texts() == more
    assert int(page.get_attribute("#chart", "data-rendered")) >= len(names)
    page.evaluate("document.getElementById('player').currentTime = 7.5")
    page.wait_for_function("document.getElementById('chart').dataset.cursor === '7.50'", timeout=10_000)
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    page.close()
    assert (tmp_path / "page.png").stat().st_size > 10_000
