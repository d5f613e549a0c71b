"""The annotation database: SQLAlchemy 2 tables, an engine for a URL, and the shipped migrations.

SQLite (one file) by default, PostgreSQL for a team. On SQLite every transaction starts with
``BEGIN IMMEDIATE`` so that two writers never interleave (the stopping rule's counts stay exact);
on PostgreSQL the judging code locks the pairs it changes with ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, create_engine,
                        event)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MIGRATIONS = Path(__file__).parent / "_migrations"  # private: Alembic scripts, not API
CONFIDENCE = {0: 0.0, 1: 0.5, 2: 0.75, 3: 1.0}
VOICES = ("kalam", "chahchah", "both")
VOICE_CLASS = "singer"
DIFFICULTIES = ("easy", "hard")
AGREEING = 2  # annotators who must agree on presence or absence before a pair closes


def now() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """Key/value pairs of the project (its name, the token-signing secret)."""
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Track(Base):
    __tablename__ = "tracks"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    difficulty: Mapped[str] = mapped_column(String(8))
    candidates: Mapped[str] = mapped_column(Text)  # ';'-joined canonical class names


class Excerpt(Base):
    __tablename__ = "excerpts"
    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[str] = mapped_column(String(255), unique=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), index=True)
    path: Mapped[str] = mapped_column(Text)


class Pair(Base):
    """One (excerpt, candidate instrument): open until ``AGREEING`` annotators agree."""
    __tablename__ = "pairs"
    __table_args__ = (UniqueConstraint("excerpt_id", "instrument"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    excerpt_id: Mapped[int] = mapped_column(ForeignKey("excerpts.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(32))
    present: Mapped[int] = mapped_column(Integer, default=0)
    absent: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class Annotator(Base):
    __tablename__ = "annotators"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    self_rating: Mapped[str | None] = mapped_column(String(8), nullable=True)
    pool: Mapped[str | None] = mapped_column(String(8), nullable=True)  # easy, hard, excluded; None untested
    paused: Mapped[bool] = mapped_column(Boolean, default=False)


class Invitation(Base):
    __tablename__ = "invitations"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("annotators.id"), nullable=True)


class Session(Base):
    """A signed session token's digest: sessions survive a restart because they live here."""
    __tablename__ = "sessions"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), index=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Reference(Base):
    """A reference sound of the listening test, chosen by the admin, and the instrument it is."""
    __tablename__ = "references"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    instrument: Mapped[str] = mapped_column(String(32))


class Submission(Base):
    """One accepted request, by its client nonce: a replayed request is refused, not counted twice."""
    __tablename__ = "submissions"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Judgment(Base):
    __tablename__ = "judgments"
    __table_args__ = (UniqueConstraint("pair_id", "annotator_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id"), index=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"), index=True)
    nonce: Mapped[str] = mapped_column(ForeignKey("submissions.nonce"))
    confidence: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    voice: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def _sqlite_immediate(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, begin transactions, and begin them IMMEDIATE (a write lock)."""
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA busy_timeout = 60000")
        dbapi_conn.execute("PRAGMA journal_mode = WAL")
        dbapi_conn.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///file`` or ``postgresql://...``, through psycopg 3)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        _sqlite_immediate(engine)
        return engine
    return create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True)


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema with the migrations shipped in the package."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
