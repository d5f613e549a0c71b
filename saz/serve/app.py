"""FastAPI app: ``POST /api/predict``, ``GET /api/health``, ``GET /api/model``, the page at ``/``.

The model loads once when the app is created. A prediction runs in a worker thread so the
event loop keeps answering (health checks, other uploads). The recording arrives as FastAPI's
``UploadFile`` (Starlette spools it: in memory up to 1 MB, then in an anonymous temporary file);
the request body is counted as it arrives and refused with 413 once it passes ``max_upload_mb``
(and room for the multipart framing), without reading the rest. The upload is then copied in
chunks to a private temporary file named with its extension, which the model reads and which is
removed after every request, whether it succeeded or failed. A refused request's status follows
the error's type (:data:`STATUS`): 413 for an upload over the limit, 415 for a file in no audio
format (:class:`saz.audio.AudioFormatError`), 422 for audio that is corrupt or unusable (any other
:class:`saz.audio.AudioError`) and for parameters the model cannot use (:class:`BadParameter`),
with the problem in ``detail``.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from saz._version import __version__
from saz.audio import AudioError, AudioFormatError
from saz.prediction import default_card, load_predictor, predict_many, resolve_model

if TYPE_CHECKING:
    from saz.prediction import Predictor

STATIC = Path(__file__).parent / "static"
CHUNK = 1 << 16  # bytes copied at a time from the upload to the file the model reads
FRAMING = 64 * 1024  # room in a request body for the multipart boundaries and headers around the file


class UploadTooLarge(HTTPException):
    """An upload over the server's limit (413). An ``HTTPException``, so that FastAPI passes it on
    when it is raised while the body is being parsed."""

    def __init__(self, limit_mb: float):
        super().__init__(status_for(self), f"upload larger than the limit of {limit_mb:g} MB")


class BadParameter(ValueError):
    """A query parameter the model cannot use (422)."""


STATUS: dict[type[Exception], int] = {UploadTooLarge: 413, AudioFormatError: 415, AudioError: 422, BadParameter: 422}


def status_for(error: BaseException) -> int:
    """The HTTP status of a request refused with ``error``: that of the nearest of its classes in
    :data:`STATUS` (500 for none)."""
    return next((STATUS[c] for c in type(error).__mro__ if c in STATUS), 500)


class BodyLimit:
    """ASGI middleware refusing a request body over ``limit`` bytes with 413: at once when its
    Content-Length says so, else as soon as the bytes received pass it (the rest is not read)."""

    def __init__(self, app: ASGIApp, limit: int, limit_mb: float):
        self.app, self.limit, self.limit_mb = app, limit, limit_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            error = UploadTooLarge(self.limit_mb)
            return await JSONResponse({"detail": error.detail}, status_code=error.status_code)(scope, receive, send)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise UploadTooLarge(self.limit_mb)
            return message

        await self.app(scope, counted, send)


def _safe_suffix(filename: str | None) -> str:
    """The upload's extension when it is a plain one (decoding and its messages use it), else none."""
    suffix = Path(filename or "").suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""


async def _save(upload: UploadFile, limit: int, limit_mb: float, tmp_dir: str | None) -> Path:
    """Copy ``upload`` in chunks to a private temporary file named with its extension; past
    ``limit`` bytes the file is removed and :class:`UploadTooLarge` raised."""
    fd, name = tempfile.mkstemp(prefix="saz-upload-", suffix=_safe_suffix(upload.filename), dir=tmp_dir)
    path, size = Path(name), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(limit_mb)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


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


def create_app(model: str = "default", max_upload_mb: float = 100.0, tmp_dir: str | None = None,
               trust: bool = False) -> FastAPI:
    """The app, with ``model`` loaded now (a bad model fails here, not on the first request; a
    pickled estimator is refused unless ``trust``, :func:`saz.prediction.load_predictor`)."""
    predictor = load_predictor(model, trust)
    limit = int(max_upload_mb * 1024 * 1024)
    app = FastAPI(title="saz", version=__version__,
                  description="Which instruments play in a recording, how sure, and when.")
    app.add_middleware(BodyLimit, limit=limit + FRAMING, limit_mb=max_upload_mb)
    for error in (AudioError, BadParameter):
        app.add_exception_handler(error, _refused)
    card = default_card() if str(model) == "default" else f"Checkpoint {resolve_model(model)}"

    @app.get("/api/health")
    def health() -> dict:
        return {"status": "ok", "model": predictor.name}

    @app.get("/api/model")
    def model_info() -> dict:
        return {"name": predictor.name, "version": __version__, "classes": list(predictor.vocab.names),
                "thresholds": [float(t) for t in predictor.thresholds], "profiles": predictor.profiles,
                "window_seconds": predictor.seconds,
                "max_upload_mb": max_upload_mb, "card": card}

    @app.post("/api/predict")
    async def predict(request: Request, file: UploadFile | None = File(None, description="The recording."),
                      threshold: float | None = None, profile: str | None = None,
                      timeline: bool = True) -> JSONResponse:
        _check_parameters(predictor, threshold, profile)
        if file is None:
            raise _missing_file(request)
        name = file.filename or "upload"
        path = await _save(file, limit, max_upload_mb, tmp_dir)
        try:
            result = await run_in_threadpool(lambda: next(predict_many([path], predictor, threshold=threshold, profile=profile)))
        finally:
            path.unlink(missing_ok=True)
        if not result.ok:  # the same error, of the same type, naming the upload instead of the temporary file
            raise result.error.renamed(name)
        result.source = name
        return JSONResponse(result.to_dict(timeline))

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        p = STATIC / name
        if not re.fullmatch(r"[a-z0-9_.-]+", name) or not p.is_file():
            raise HTTPException(404, "not found")
        return FileResponse(p)

    return app
