"""FastAPI app: ``POST /api/predict``, ``GET /api/health``, ``GET /api/model``, the page at ``/``.

The model loads once when the app is created. A prediction runs in a worker thread so the
event loop keeps answering (health checks, other uploads). Uploads are streamed to a private
temporary file, counted as they arrive and refused with 413 beyond ``max_upload_mb``; the
temporary file is removed after every request, whether it succeeded, failed, or the client
went away mid-upload. Undecodable uploads get 415 (not an audio format) or 422 (audio that is
corrupt or unusable), with the problem in ``detail``.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from starlette.requests import ClientDisconnect

from saz._version import __version__
from saz.prediction import default_card, load_predictor, predict_many, resolve_model

STATIC = Path(__file__).parent / "static"
CHUNK = 1 << 16


class UploadTooLarge(Exception):
    pass


def _safe_suffix(filename: str | None) -> str:
    suffix = Path(filename or "").suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""


async def _receive_file(request: Request, limit: int, tmp_dir: str | None) -> tuple[Path, str]:
    """Stream the multipart ``file`` field to a temporary file; returns (path, original name)."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise UploadTooLarge
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise HTTPException(400, "send the recording as multipart/form-data with a 'file' field")
    state: dict = {"name": None, "field": None, "file": None, "path": None, "size": 0, "fields": {}, "header": b"", "headers": {}}

    def on_part_begin() -> None:
        state["headers"] = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["headers"][state["header"].lower()] = state["headers"].get(state["header"].lower(), b"") + data[start:end]

    def on_header_end() -> None:
        state["header"] = b""

    def on_headers_finished() -> None:
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        state["field"] = disp.get(b"name", b"").decode()
        if state["field"] == "file" and state["file"] is None:
            state["name"] = disp.get(b"filename", b"upload").decode(errors="replace")
            fd, path = tempfile.mkstemp(prefix="saz-upload-", suffix=_safe_suffix(state["name"]), dir=tmp_dir)
            state["file"], state["path"] = os.fdopen(fd, "wb"), Path(path)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["field"] == "file" and state["file"] is not None:
            state["size"] += end - start
            if state["size"] > limit:
                raise UploadTooLarge
            state["file"].write(data[start:end])

    parser = MultipartParser(params[b"boundary"], {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data})
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except BaseException:
        if state["file"] is not None:
            state["file"].close()
            state["path"].unlink(missing_ok=True)
        raise
    if state["file"] is None:
        raise HTTPException(400, "no 'file' field in the upload")
    state["file"].close()
    return state["path"], state["name"]


def create_app(model: str = "default", max_upload_mb: float = 100.0, tmp_dir: str | None = None) -> FastAPI:
    """The app, with ``model`` loaded now (a bad model fails here, not on the first request)."""
    predictor = load_predictor(model)
    limit = int(max_upload_mb * 1024 * 1024)
    app = FastAPI(title="saz", version=__version__,
                  description="Which instruments play in a recording, how sure, and when.")
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
    async def predict(request: Request, threshold: float | None = None, profile: str | None = None,
                      timeline: bool = True) -> JSONResponse:
        if threshold is not None and not 0 <= threshold <= 1:
            raise HTTPException(422, f"threshold must be in [0, 1], got {threshold}")
        if threshold is not None and profile is not None:
            raise HTTPException(422, "threshold and profile both set thresholds: give one")
        try:
            predictor.thresholds_for(profile)
        except ValueError as e:
            raise HTTPException(422, str(e).replace(predictor.source, "the model")) from None
        try:
            path, name = await _receive_file(request, limit, tmp_dir)
        except UploadTooLarge:
            return JSONResponse({"detail": f"upload larger than the limit of {max_upload_mb:g} MB"}, status_code=413)
        except ClientDisconnect:
            return JSONResponse({"detail": "client disconnected"}, status_code=400)
        try:
            result = await run_in_threadpool(lambda: next(predict_many([path], predictor, threshold=threshold, profile=profile)))
        finally:
            path.unlink(missing_ok=True)
        if not result.ok:
            cause = result.error.replace(str(path), name)
            code = 415 if ("not audio" in cause or "unsupported format" in cause) else 422
            return JSONResponse({"detail": cause}, status_code=code)
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
