"""The annotation web app: one static page (no build step) and a JSON API over the database.

Every request is one transaction; a :class:`~saz.annotate.judging.Refused` answers its status
with ``{"detail": ...}`` and rolls the transaction back, so bad input changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, TypeVar

from fastapi import FastAPI, Header, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from saz import audio
from saz.annotate import accounts, judging, results
from saz.annotate.db import Annotator, Excerpt, Judgment, Reference, Track
from saz.annotate.judging import Refused

HERE = Path(__file__).parent
LANGUAGES = tuple(sorted(p.stem for p in (HERE / "i18n").glob("*.json")))
T = TypeVar("T")


class Join(BaseModel):
    code: str
    name: str


class Check(BaseModel):
    rating: str
    answers: dict[int, str] = {}


class Pause(BaseModel):
    paused: bool


class AnswerIn(BaseModel):
    instrument: str
    confidence: int
    voice: str | None = None


class Submit(BaseModel):
    sample_id: str
    nonce: str
    answers: list[AnswerIn]


class NewInvitation(BaseModel):
    admin: bool = False


def _token(authorization: str | None) -> str | None:
    return authorization[7:] if authorization and authorization.startswith("Bearer ") else None


def _me(s: Session, who: Annotator) -> dict:
    count = s.scalar(select(func.count(func.distinct(Judgment.nonce))).where(Judgment.annotator_id == who.id))
    return {"name": who.name, "admin": who.admin, "pool": who.pool, "paused": who.paused, "count": count}


def _decodable(path: str) -> Path:
    try:
        audio.info(path)
    except audio.AudioError as e:
        raise Refused(422, f"this sound does not decode ({e})") from e
    return Path(path)


def _excerpt(s: Session, who: Annotator) -> dict:
    """The next excerpt for ``who`` and its open pairs (chosen again where a concurrent submission
    closed the last of them between the two queries)."""
    pairs: list = []
    while not pairs:
        ex = judging.next_excerpt(s, who)
        if ex is None:
            return {"excerpt": None}
        pairs = judging.open_pairs(s, ex.id, who.id)
    track = s.get(Track, ex.track_id)
    return {"excerpt": {"sample_id": ex.sample_id, "audio": f"/api/audio/{ex.sample_id}", "difficulty": track.difficulty,
                        "instruments": [p.instrument for p in pairs]}}


def _routes_annotator(app: FastAPI, tx: Callable, user: Callable) -> None:
    @app.post("/api/join")
    def join(body: Join) -> dict:
        return tx(lambda s: {"token": accounts.join(s, body.code, body.name)})

    @app.get("/api/me")
    def me(authorization: str | None = Header(None)) -> dict:
        return tx(lambda s: _me(s, user(s, authorization)))

    @app.get("/api/check")
    def check_sounds(authorization: str | None = Header(None)) -> dict:
        def go(s: Session) -> dict:
            user(s, authorization)
            refs = [{"id": r.id, "audio": f"/api/reference/{r.id}"} for r in s.scalars(select(Reference))]
            return {"ratings": accounts.RATINGS, "choices": list(results.CLASSES), "references": refs}
        return tx(go)

    @app.post("/api/check")
    def check(body: Check, authorization: str | None = Header(None)) -> dict:
        return tx(lambda s: {"pool": accounts.assess(s, user(s, authorization), body.rating, body.answers)})

    @app.post("/api/pause")
    def pause(body: Pause, authorization: str | None = Header(None)) -> dict:
        def go(s: Session) -> dict:
            who = user(s, authorization)
            who.paused = body.paused
            return _me(s, who)
        return tx(go)

    @app.get("/api/next")
    def next_excerpt(authorization: str | None = Header(None)) -> dict:
        def go(s: Session) -> dict:
            who = user(s, authorization)
            if who.paused or who.pool not in ("easy", "hard"):
                raise Refused(403, "paused" if who.paused else "take the proficiency check first")
            return _excerpt(s, who)
        return tx(go)

    @app.post("/api/judgments")
    def submit(body: Submit, authorization: str | None = Header(None)) -> dict:
        def go(s: Session) -> dict:
            who = user(s, authorization)
            answers = [judging.Answer(a.instrument, a.confidence, a.voice) for a in body.answers]
            closed = judging.submit(s, who, body.sample_id, answers, body.nonce)
            return {"closed": [p.instrument for p in closed], **_me(s, who)}
        return tx(go)


def _routes_admin(app: FastAPI, tx: Callable, admin: Callable) -> None:
    @app.get("/api/dashboard")
    def dashboard(authorization: str | None = Header(None)) -> dict:
        tx(lambda s: admin(s, authorization))
        return results.dashboard(app.state.engine)

    @app.post("/api/invitations")
    def invitation(body: NewInvitation, request: Request, authorization: str | None = Header(None)) -> dict:
        def go(s: Session) -> dict:
            admin(s, authorization)
            code = accounts.invite(s, body.admin)
            return {"code": code, "link": f"{str(request.base_url).rstrip('/')}/?invite={code}"}
        return tx(go)


def _routes_files(app: FastAPI, tx: Callable, user: Callable) -> None:
    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(HERE / "static" / "index.html", media_type="text/html")

    @app.get("/api/health")
    def health() -> dict:
        return {"status": "ok", "languages": LANGUAGES}

    @app.get("/api/i18n/{lang}")
    def catalogue(lang: str) -> JSONResponse:
        if lang not in LANGUAGES:
            raise Refused(404, f"no language '{lang}' (have {', '.join(LANGUAGES)})")
        return JSONResponse(json.loads((HERE / "i18n" / f"{lang}.json").read_text(encoding="utf-8")))

    @app.get("/api/audio/{sample_id}")
    def excerpt_audio(sample_id: str, token: str | None = None) -> FileResponse:
        def go(s: Session) -> str:
            user(s, f"Bearer {token}" if token else None)
            ex = s.scalar(select(Excerpt).where(Excerpt.sample_id == sample_id))
            if ex is None:
                raise Refused(404, f"no excerpt '{sample_id}'")
            return ex.path
        return FileResponse(_decodable(tx(go)))

    @app.get("/api/reference/{ref}")
    def reference_audio(ref: int, token: str | None = None) -> FileResponse:
        def go(s: Session) -> str:
            user(s, f"Bearer {token}" if token else None)
            r = s.get(Reference, ref)
            if r is None:
                raise Refused(404, f"no reference sound {ref}")
            return r.path
        return FileResponse(_decodable(tx(go)))


def create_app(engine: Engine) -> FastAPI:
    """The app over ``engine`` (migrated already: :func:`saz.annotate.db.upgrade`)."""
    app = FastAPI(title="saz annotate")
    app.state.engine = engine

    def tx(fn: Callable[[Session], T]) -> T:
        with Session(engine, expire_on_commit=False) as s, s.begin():
            return fn(s)

    def user(s: Session, authorization: str | None) -> Annotator:
        return accounts.authenticate(s, _token(authorization))

    def admin(s: Session, authorization: str | None) -> Annotator:
        who = user(s, authorization)
        if not who.admin:
            raise Refused(403, "for the admin only")
        return who

    @app.exception_handler(Refused)
    def refused(_request: Request, e: Refused) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=e.status)

    _routes_annotator(app, tx, user)
    _routes_admin(app, tx, admin)
    _routes_files(app, tx, user)
    return app
