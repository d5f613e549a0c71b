"""Invitations, signed session tokens kept in the database (so sessions survive a restart), and
the proficiency check that puts an annotator in the easy or hard pool, or excludes them."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from saz.annotate.db import Annotator, Invitation, Reference, Session, Setting
from saz.annotate.judging import Refused

RATINGS = ("low", "medium", "high")


def _secret(s: DbSession) -> bytes:
    row = s.get(Setting, "secret")
    if row is None:
        row = Setting(key="secret", value=secrets.token_hex(32))
        s.add(row)
        s.flush()
    return row.value.encode()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(s: DbSession, admin: bool = False) -> str:
    """A new one-use invitation code."""
    code = secrets.token_urlsafe(16)
    s.add(Invitation(code=code, admin=admin))
    return code


def join(s: DbSession, code: str, name: str) -> str:
    """Use invitation ``code`` to make the account ``name``; its session token."""
    inv = s.get(Invitation, code)
    name = name.strip()
    if inv is None or inv.used_by is not None:
        raise Refused(403, "unknown or already used invitation")
    if not 1 <= len(name) <= 64:
        raise Refused(422, "a name of 1 to 64 characters")
    if s.scalar(select(Annotator).where(Annotator.name == name)) is not None:
        raise Refused(409, f"the name '{name}' is taken")
    who = Annotator(name=name, admin=inv.admin, paused=False)
    s.add(who)
    s.flush()
    inv.used_by = who.id
    return new_session(s, who)


def new_session(s: DbSession, who: Annotator) -> str:
    """A token ``<random>.<HMAC of it>``, its digest stored for :func:`authenticate`."""
    nonce = secrets.token_urlsafe(24)
    token = f"{nonce}.{hmac.new(_secret(s), nonce.encode(), hashlib.sha256).hexdigest()}"
    s.add(Session(digest=_digest(token), annotator_id=who.id))
    return token


def authenticate(s: DbSession, token: str | None) -> Annotator:
    """The annotator of a valid token; 401 for a missing, forged or unknown one."""
    nonce, _, sig = (token or "").partition(".")
    good = hmac.new(_secret(s), nonce.encode(), hashlib.sha256).hexdigest()
    row = s.get(Session, _digest(token)) if token and hmac.compare_digest(sig, good) else None
    if row is None:
        raise Refused(401, "not signed in (missing or invalid token)")
    return s.get(Annotator, row.annotator_id)


def assess(s: DbSession, who: Annotator, rating: str, answers: dict[int, str]) -> str:
    """The proficiency check: self-rating and the listening test on the admin's reference sounds.
    Low self-rating or under half right: excluded; high and all right: hard pool; else easy."""
    if rating not in RATINGS:
        raise Refused(422, f"self-rating must be one of {', '.join(RATINGS)}")
    refs = list(s.scalars(select(Reference)))
    if {r.id for r in refs} != set(answers):
        raise Refused(422, "answer every reference sound once")
    right = sum(answers[r.id] == r.instrument for r in refs) / len(refs) if refs else 1.0
    who.self_rating = rating
    who.pool = ("excluded" if rating == "low" or right < 0.5 else
                "hard" if rating == "high" and right == 1.0 else "easy")
    return who.pool
