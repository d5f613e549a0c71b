"""A small client of the annotation API (standard library only): for scripts, the load test and
the tests, which drive a real server over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid


class ApiError(Exception):
    """A 4xx/5xx answer: ``status`` and the server's ``detail``."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail


class Client:
    def __init__(self, url: str, token: str | None = None, timeout: float = 60.0):
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def call(self, path: str, body: dict | None = None) -> dict:
        """GET ``path`` (or POST ``body`` as JSON) with the token; the JSON answer or :class:`ApiError`."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {self.token}"} if self.token else {})})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise ApiError(e.code, json.loads(e.read() or b"{}").get("detail", e.reason)) from None

    def join(self, code: str, name: str) -> "Client":
        self.token = self.call("/api/join", {"code": code, "name": name})["token"]
        return self

    def submit(self, sample_id: str, answers: list[dict], nonce: str | None = None) -> dict:
        return self.call("/api/judgments", {"sample_id": sample_id, "nonce": nonce or uuid.uuid4().hex,
                                            "answers": answers})
