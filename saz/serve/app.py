"""FastAPI app: ``POST /api/predict``, ``GET /api/health``, ``GET /api/model``, the page at ``/``,
and teaching from uploads (``/api/teach``, :mod:`saz.serve.teaching`).

The model loads once when the app is created (a taught one can replace it:
:class:`saz.serve.served.Served`). A prediction runs in a worker thread so the event loop keeps
answering (health checks, other uploads). The recording arrives as FastAPI's
``UploadFile`` (Starlette spools it: in memory up to 1 MB, then in an anonymous temporary file);
the request body is counted as it arrives and refused with 413 once it passes ``max_upload_mb``
(and room for the multipart framing), without reading the rest (:mod:`saz.serve.uploads`). The upload is then copied in
chunks to a private temporary file named with its extension, which the model reads and which is
removed after every request, whether it succeeded or failed.

What one request can cost is bounded: a recording whose header declares more than
``max_seconds`` is refused before anything is decoded, and decoding stops there whatever the
header said (:class:`saz.prediction.RecordingTooLong`); at most ``max_jobs`` predictions run at
once and ``max_queue`` more wait, beyond which the answer is 503 with ``Retry-After``
(:class:`Jobs`). A state-changing request that a browser sends from another site's page is
refused with 403 (:class:`SameOrigin`), so no web page can make the server work for it.

Nothing the page or ``/docs`` loads comes from another host: Swagger UI is served from the files
vendored in ``static/swagger-ui`` (:func:`_offline_docs`).

A refused request's status follows the error's type (:data:`STATUS`): 400 for a body that is no
upload of a file, 413 for an upload or a recording over the limits, 415 for a file in no audio
format (:class:`saz.audio.AudioFormatError`), 422 for audio that is corrupt or unusable (any other
:class:`saz.audio.AudioError`) and for parameters the model cannot use (:class:`BadParameter`),
503 when the server is busy, with the problem in ``detail``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TypeVar
from urllib.parse import urlsplit

import anyio
from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from saz._version import __version__
from saz.audio import AudioError, AudioFormatError
from saz.prediction import RecordingTooLong, check_length, default_card, load_predictor, predict_many, resolve_model
from saz.serve.served import Served
from saz.serve.teaching import TeachJobs, add_teach_routes
from saz.serve.uploads import BodyLimit, UploadTooLarge, save

if TYPE_CHECKING:
    from saz.prediction import Prediction, Predictor

T = TypeVar("T")
STATIC = Path(__file__).parent / "static"
STATIC_NAME = re.compile(r"(?:[a-z0-9_-][a-z0-9_.-]*/)?[a-z0-9_-][a-z0-9_.-]*")  # a file of static/ or of a folder in it
SWAGGER = "/static/swagger-ui/"
RETRY_AFTER = 5  # seconds a client turned away as the server is busy is asked to wait
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})  # the methods that make the server do something


class ServerBusy(HTTPException):
    """Every job running and the queue full (503, with ``Retry-After``)."""

    def __init__(self, running: int, waiting: int):
        super().__init__(status_for(self), f"the server is busy (predictions running: {running}, waiting: {waiting}): "
                         f"try again in {RETRY_AFTER} s", headers={"Retry-After": str(RETRY_AFTER)})


class BadParameter(ValueError):
    """A query parameter the model cannot use (422)."""


STATUS: dict[type[Exception], int] = {UploadTooLarge: 413, RecordingTooLong: 413, AudioFormatError: 415,
                                      AudioError: 422, BadParameter: 422, ServerBusy: 503}


def status_for(error: BaseException) -> int:
    """The HTTP status of a request refused with ``error``: that of the nearest of its classes in
    :data:`STATUS` (500 for none)."""
    return next((STATUS[c] for c in type(error).__mro__ if c in STATUS), 500)


def cross_site_origin(headers: Headers) -> str | None:
    """The other site a browser says a request comes from, or None for this server's own pages
    and for clients that are not browsers. ``Sec-Fetch-Site`` decides where the browser sends it
    (only ``same-origin`` and ``none``, the user's own action, pass: ``same-site`` is another port
    or subdomain); else ``Origin`` must name the host the request was sent to."""
    site, origin = headers.get("sec-fetch-site"), headers.get("origin")
    if site is not None:
        return None if site in ("same-origin", "none") else origin or site
    if origin is None or urlsplit(origin).netloc == headers.get("host"):
        return None
    return origin


class SameOrigin:
    """ASGI middleware refusing with 403 a state-changing request that a browser sent from another
    site's page. A cross-site HTML form, or ``fetch`` with a form body, posts multipart/form-data
    without asking the server first (no CORS preflight), so otherwise any page its user opens
    could make the server work; the bundled page is of the server's own origin."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            origin = cross_site_origin(Headers(scope=scope))
            if origin is not None:
                detail = f"cross-site request refused: a page of {origin} cannot {scope['method']} to this server"
                return await JSONResponse({"detail": detail}, status_code=403)(scope, receive, send)
        await self.app(scope, receive, send)


class Jobs:
    """At most ``running`` predictions at once, each in a worker thread, and at most ``waiting``
    more waiting their turn (first come, first served); beyond, :class:`ServerBusy` at once. An
    anyio ``CapacityLimiter``: it bounds the CPU and memory that concurrent requests take."""

    def __init__(self, running: int, waiting: int):
        self.limiter = anyio.CapacityLimiter(running)
        self.waiting = waiting

    def load(self) -> dict[str, int]:
        """How many predictions run and wait now."""
        stats = self.limiter.statistics()
        return {"running": stats.borrowed_tokens, "waiting": stats.tasks_waiting}

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` in a worker thread once a job is free; :class:`ServerBusy` when none is and the queue is full."""
        load = self.load()
        if load["running"] >= self.limiter.total_tokens and load["waiting"] >= self.waiting:
            raise ServerBusy(load["running"], load["waiting"])
        return await anyio.to_thread.run_sync(work, limiter=self.limiter)


def _check_parameters(predictor: Predictor, threshold: float | None, profile: str | None) -> None:
    """Raise :class:`BadParameter` for a threshold outside [0, 1], a threshold and a profile both, or a
    profile the model does not have."""
    if threshold is not None and not 0 <= threshold <= 1:
        raise BadParameter(f"threshold must be in [0, 1], got {threshold}")
    if threshold is not None and profile is not None:
        raise BadParameter("threshold and profile both set thresholds: give one")
    try:
        predictor.thresholds_for(profile)
    except ValueError as e:
        raise BadParameter(str(e).replace(predictor.source, "the model")) from None


def _missing_file(request: Request) -> HTTPException:
    """The 400 for a request without a ``file`` upload, saying what to send."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        return HTTPException(400, "send the recording as multipart/form-data with a 'file' field")
    return HTTPException(400, "no 'file' field in the upload")


async def _refused(request: Request, error: Exception) -> JSONResponse:
    """A typed error's answer: its text as ``detail``, with the status of its type."""
    return JSONResponse({"detail": str(error)}, status_code=status_for(error))


async def _unreadable_body(request: Request, error: RequestValidationError) -> JSONResponse:
    """400, in one line, for a body that is no upload of a file (a 'file' field of text, JSON that
    does not parse); invalid query parameters keep FastAPI's 422."""
    body = [e["loc"] for e in error.errors() if e["loc"][:1] == ("body",)]
    if not body:
        return await request_validation_exception_handler(request, error)
    if body[0][1:] == ("file",):
        return JSONResponse({"detail": "the 'file' field holds text, not a file: upload the recording as a file"},
                            status_code=400)
    return JSONResponse({"detail": _missing_file(request).detail}, status_code=400)


async def _predict_upload(path: Path, name: str, predictor: Predictor, jobs: Jobs, max_seconds: float,
                          threshold: float | None, profile: str | None) -> Prediction:
    """The prediction for the upload ``name`` saved at ``path``: its header checked first against
    ``max_seconds`` (a recording refused so takes no job), then decoded and predicted in a job,
    never past ``max_seconds``."""
    try:
        await anyio.to_thread.run_sync(check_length, path, max_seconds)
    except AudioError as e:
        raise e.renamed(name) from None
    result = await jobs.run(lambda: next(predict_many([path], predictor, threshold=threshold, profile=profile,
                                                      max_seconds=max_seconds)))
    if not result.ok:
        raise result.error.renamed(name)
    result.source = name
    return result


def _offline_docs(app: FastAPI) -> None:
    """``GET /docs``: Swagger UI from the files vendored in ``static/swagger-ui`` (FastAPI's own
    page loads them from a CDN, and so is blank without a network)."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title}: API",
                                   swagger_js_url=SWAGGER + "swagger-ui-bundle.js",
                                   swagger_css_url=SWAGGER + "swagger-ui.css",
                                   swagger_favicon_url=SWAGGER + "favicon-32x32.png")


def create_app(model: str = "default", max_upload_mb: float = 100.0, tmp_dir: str | None = None,
               max_seconds: float = 600.0, max_jobs: int = 2, max_queue: int = 8, trust: bool = False,
               max_teach_mb: float = 500.0) -> FastAPI:
    """The app, with ``model`` loaded now (a bad model fails here, not on the first request; a
    pickled estimator is refused unless ``trust``, :func:`saz.prediction.load_predictor`).
    Uploads over ``max_upload_mb`` (a teach request's recordings together: ``max_teach_mb``) and
    recordings over ``max_seconds`` get 413; ``max_jobs`` predictions run at once and ``max_queue``
    more wait, beyond which requests get 503. A teach job's files go under ``tmp_dir``."""
    predictor = load_predictor(model, trust)
    app = FastAPI(title="saz", version=__version__, docs_url=None, redoc_url=None,
                  description="Which instruments play in a recording, how sure, and when; teach it yours.")
    app.add_middleware(BodyLimit, limit_mb=max_upload_mb, wider={"/api/teach": max_teach_mb})
    app.add_middleware(SameOrigin)
    for error in (AudioError, BadParameter):
        app.add_exception_handler(error, _refused)
    app.add_exception_handler(RequestValidationError, _unreadable_body)
    app.state.jobs = jobs = Jobs(max_jobs, max_queue)
    card = default_card() if str(model) == "default" else f"Checkpoint {resolve_model(model)}"
    limits = {"max_upload_mb": max_upload_mb, "max_seconds": max_seconds, "max_jobs": max_jobs, "max_queue": max_queue,
              "max_teach_mb": max_teach_mb}
    app.state.served = Served(predictor, str(model) if str(model) == "default" else str(resolve_model(model)), card, limits)
    _offline_docs(app)

    @app.get("/api/health")
    def health() -> dict:
        return {"status": "ok", "model": app.state.served.predictor.name, "jobs": jobs.load()}

    @app.get("/api/model")
    def model_info() -> dict:
        return app.state.served.about

    @app.post("/api/predict")
    async def predict(request: Request, file: UploadFile | None = File(None, description="The recording."),
                      threshold: float | None = None, profile: str | None = None,
                      timeline: bool = True) -> JSONResponse:
        predictor = app.state.served.predictor  # this request's model, should a taught one replace it meanwhile
        _check_parameters(predictor, threshold, profile)
        if file is None:
            raise _missing_file(request)
        path = await save(file, max_upload_mb, tmp_dir)
        try:
            result = await _predict_upload(path, file.filename or "upload", predictor, jobs, max_seconds, threshold, profile)
        finally:
            path.unlink(missing_ok=True)
        return JSONResponse(result.to_dict(timeline))

    add_teach_routes(app, TeachJobs(tmp_dir), max_upload_mb)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/{name:path}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        p = STATIC / name
        if not STATIC_NAME.fullmatch(name) or not p.is_file():
            raise HTTPException(404, "not found")
        return FileResponse(p)

    return app
