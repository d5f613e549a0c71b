"""Uploads: the request body's size limit (:class:`BodyLimit`) and an upload copied to a private file (:func:`save`).

The request body is counted as it arrives and refused with 413 once it passes its path's limit
(and room for the multipart framing), without reading the rest; each upload is then copied in
chunks to a private temporary file named with its extension, which the model reads.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from fastapi import HTTPException, UploadFile
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CHUNK = 1 << 16  # bytes copied at a time from the upload to the file the model reads
FRAMING = 64 * 1024  # room in a request body for the multipart boundaries and headers around the files
MB = 1024 * 1024


class UploadTooLarge(HTTPException):
    """An upload over the server's limit (413). An ``HTTPException``, so that FastAPI passes it on
    when it is raised while the body is being parsed."""

    def __init__(self, limit_mb: float, what: str = "upload"):
        super().__init__(413, f"{what} larger than the limit of {limit_mb:g} MB")


class BodyLimit:
    """ASGI middleware refusing a request body over ``limit_mb`` (or, for a path that starts with a
    key of ``wider``, its limit) with 413: at once when its Content-Length says so, else as soon as
    the bytes received pass it (the rest is not read)."""

    def __init__(self, app: ASGIApp, limit_mb: float, wider: dict[str, float] | None = None):
        self.app, self.limit_mb, self.wider = app, limit_mb, wider or {}

    def _limit_mb(self, path: str) -> float:
        return next((mb for prefix, mb in self.wider.items() if path.startswith(prefix)), self.limit_mb)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit_mb = self._limit_mb(scope["path"])
        limit = int(limit_mb * MB) + FRAMING
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            error = UploadTooLarge(limit_mb)
            return await JSONResponse({"detail": error.detail}, status_code=error.status_code)(scope, receive, send)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise UploadTooLarge(limit_mb)
            return message

        await self.app(scope, counted, send)


def safe_suffix(filename: str | None) -> str:
    """The upload's extension when it is a plain one (decoding and its messages use it), else none."""
    suffix = Path(filename or "").suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""


async def save(upload: UploadFile, limit_mb: float, tmp_dir: str | os.PathLike | None, what: str = "upload") -> Path:
    """Copy ``upload`` in chunks to a private temporary file in ``tmp_dir`` named with its
    extension; past ``limit_mb`` the file is removed and :class:`UploadTooLarge` raised."""
    fd, name = tempfile.mkstemp(prefix="saz-upload-", suffix=safe_suffix(upload.filename), dir=tmp_dir)
    path, size, limit = Path(name), 0, int(limit_mb * MB)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(limit_mb, what)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
