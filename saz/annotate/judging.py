"""Judgments under the dynamic stopping rule: an (excerpt, instrument) pair stays open until
``AGREEING`` annotators agree on presence or on absence (confidence binarised at 0.5).

One submission (an annotator's answers for one excerpt) is one transaction: the pairs it
touches are locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` write
lock), checked open, counted and closed together, so concurrent annotators never push a pair past
the rule or count a judgment twice. Anything wrong refuses the whole submission, changing nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from saz.annotate.db import AGREEING, CONFIDENCE, VOICE_CLASS, VOICES, Annotator, Excerpt, Judgment, Pair, \
    Submission, Track


class Refused(Exception):
    """A submission the rule or the input refuses; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.status = status


@dataclass
class Answer:
    instrument: str
    confidence: int
    voice: str | None = None


def _check(answers: list[Answer]) -> None:
    if not answers:
        raise Refused(422, "no answers")
    if len({a.instrument for a in answers}) != len(answers):
        raise Refused(422, "an instrument answered twice")
    for a in answers:
        if a.confidence not in CONFIDENCE:
            raise Refused(422, f"confidence for {a.instrument} must be 0, 1, 2 or 3, got {a.confidence}")
        heard = CONFIDENCE[a.confidence] >= 0.5
        if a.instrument == VOICE_CLASS and heard and a.voice not in VOICES:
            raise Refused(422, f"the voice heard must be one of {', '.join(VOICES)}")
        if a.voice is not None and (a.instrument != VOICE_CLASS or not heard):
            raise Refused(422, f"a voice type belongs only to a heard {VOICE_CLASS}")


def _locked_pairs(s: Session, excerpt_id: int, instruments: list[str]) -> dict[str, Pair]:
    query = (select(Pair).where(Pair.excerpt_id == excerpt_id, Pair.instrument.in_(instruments))
             .order_by(Pair.id).with_for_update())
    return {p.instrument: p for p in s.scalars(query)}


def submit(s: Session, annotator: Annotator, sample_id: str, answers: list[Answer], nonce: str) -> list[Pair]:
    """Record ``answers`` for excerpt ``sample_id`` in the session's transaction; the pairs they
    closed are returned. :class:`Refused` (nothing changed) for a paused or unassigned annotator,
    an unknown excerpt, a non-candidate or closed pair, a pair already judged, a replayed nonce."""
    _check(answers)
    if annotator.paused or annotator.pool not in ("easy", "hard"):
        raise Refused(403, "paused" if annotator.paused else "take the proficiency check first")
    if not nonce or len(nonce) > 64:
        raise Refused(422, "every submission needs a nonce of 1 to 64 characters")
    if s.get(Submission, nonce) is not None:
        raise Refused(409, "this request was already received (replayed nonce)")
    ex = s.scalar(select(Excerpt).where(Excerpt.sample_id == sample_id))
    if ex is None:
        raise Refused(404, f"no excerpt '{sample_id}'")
    pairs = _locked_pairs(s, ex.id, [a.instrument for a in answers])
    for a in answers:
        p = pairs.get(a.instrument)
        if p is None:
            raise Refused(422, f"'{a.instrument}' is not a candidate instrument of {sample_id}")
        if p.closed:
            raise Refused(409, f"({sample_id}, {a.instrument}) is closed: two annotators already agree")
    done = s.scalar(select(func.count()).select_from(Judgment).where(
        Judgment.annotator_id == annotator.id, Judgment.pair_id.in_([p.id for p in pairs.values()])))
    if done:
        raise Refused(409, f"you already judged {sample_id}")
    s.add(Submission(nonce=nonce, annotator_id=annotator.id))
    s.flush()
    closed = []
    for a in answers:
        p, value = pairs[a.instrument], CONFIDENCE[a.confidence]
        s.add(Judgment(pair_id=p.id, annotator_id=annotator.id, nonce=nonce, confidence=a.confidence, value=value,
                       voice=a.voice))
        if value >= 0.5:
            p.present += 1
        else:
            p.absent += 1
        if max(p.present, p.absent) >= AGREEING:
            p.closed = True
            closed.append(p)
    try:
        s.flush()
    except IntegrityError as e:  # a concurrent twin of this request (same nonce or same annotator)
        raise Refused(409, "this request was already received") from e
    return closed


def open_pairs(s: Session, excerpt_id: int, annotator_id: int) -> list[Pair]:
    """The pairs of an excerpt still open and not yet judged by the annotator."""
    judged = exists().where(and_(Judgment.pair_id == Pair.id, Judgment.annotator_id == annotator_id))
    return list(s.scalars(select(Pair).where(Pair.excerpt_id == excerpt_id, ~Pair.closed, ~judged)
                          .order_by(Pair.instrument)))


def next_excerpt(s: Session, annotator: Annotator, rng: random.Random | None = None) -> Excerpt | None:
    """A random excerpt of the annotator's pool with a pair still open that they have not judged
    (the annotator judges an excerpt once: no pair of it judged by them before)."""
    mine = exists().where(and_(Judgment.pair_id == Pair.id, Judgment.annotator_id == annotator.id))
    any_open = exists().where(and_(Pair.excerpt_id == Excerpt.id, ~Pair.closed))
    judged = exists().where(and_(Pair.excerpt_id == Excerpt.id, mine))
    ids = list(s.scalars(select(Excerpt.id).join(Track).where(Track.difficulty == annotator.pool, any_open, ~judged)))
    if not ids:
        return None
    return s.get(Excerpt, (rng or random).choice(ids))
