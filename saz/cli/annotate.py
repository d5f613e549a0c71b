"""``saz annotate``: HamNava's crowd-annotation workflow (the ``saz[annotate]`` extra)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from saz.cli.errors import fail, reported
from saz.cli.output import console, err, failed

app = typer.Typer(help="Crowd annotation as in HamNava: a project, a web app, the stopping rule, the export.",
                  no_args_is_help=True)
DB_HELP = "The project's database: a SQLite file, or a postgresql://user@host/db URL."


def _engine(db: str, create: bool = False):
    """The migrated engine of ``db`` (a file must exist unless ``create``)."""
    try:
        from saz.annotate.db import make_engine, sqlite_url, upgrade
    except ImportError as e:
        fail(f"saz annotate needs its extra: pip install 'saz[annotate]' ({e})")
    from sqlalchemy.exc import OperationalError

    if "://" not in db and not create and not Path(db).is_file():
        fail(f"{db}: no such project database (create one with saz annotate init)", code=2)
    engine = make_engine(db if "://" in db else sqlite_url(db))
    with reported(OperationalError):
        upgrade(engine)
    return engine


def _invite(engine, admin: bool) -> str:
    """A new invitation token (an admin's with ``admin``), committed."""
    from sqlalchemy.orm import Session

    from saz.annotate.accounts import invite

    with Session(engine) as s, s.begin():
        return invite(s, admin)


@app.command()
def init(
    excerpts: Path = typer.Option(..., help="Folder of excerpts named <track>__<k>.<ext> (or full tracks, with --cut)."),
    tracks: Path = typer.Option(..., help="CSV with columns track,difficulty (easy/hard),instruments (';'-separated)."),
    db: str = typer.Option("annotate.db", help=DB_HELP),
    cut: Optional[Path] = typer.Option(None, help="Cut the full tracks of --excerpts into 5-s clips in this folder "
                                       "(non-overlapping, never two consecutive ones)."),
) -> None:
    """Create (or extend) a project: tracks, excerpts and one open pair per candidate instrument."""
    from saz.annotate.project import ProjectError, create_project

    engine = _engine(db, create=True)
    with reported(ProjectError, code=2):
        made = create_project(engine, excerpts, tracks, cut)
    for line in made.skipped:
        failed(line)
    console.print(f"{made.tracks} tracks, {made.excerpts} excerpts, {made.pairs} open pairs added to {db}")
    console.print(f"admin invitation: http://127.0.0.1:8000/?invite={_invite(engine, True)}")


@app.command()
def invite(db: str = typer.Option("annotate.db", help=DB_HELP),
           admin: bool = typer.Option(False, help="The invitation makes an admin.")) -> None:
    """Print a new one-use invitation code."""
    console.print(_invite(_engine(db), admin))


@app.command()
def reference(sound: Path = typer.Argument(..., help="A reference sound of the listening test."),
              instrument: str = typer.Argument(..., help="The instrument it is (HamNava's names)."),
              db: str = typer.Option("annotate.db", help=DB_HELP)) -> None:
    """Add a reference sound to the proficiency check's listening test."""
    from sqlalchemy.orm import Session

    from saz import audio
    from saz.annotate.db import Reference
    from saz.datasets.hamnava import vocabulary

    name = vocabulary().resolve(instrument, strict=False)
    if name is None:
        fail(f"unknown instrument '{instrument}' (known: {', '.join(vocabulary().names)})", code=2)
    with reported(audio.AudioError, code=2):
        audio.info(sound)
    with Session(_engine(db)) as s, s.begin():
        s.add(Reference(path=str(sound.resolve()), instrument=name))
    console.print(f"reference sound {sound} ({name}) added")


@app.command()
def serve(db: str = typer.Option("annotate.db", help=DB_HELP),
          host: str = typer.Option("127.0.0.1", help="Interface to bind (loopback by default)."),
          port: int = typer.Option(8000)) -> None:
    """Run the annotation web app."""
    try:
        import uvicorn

        from saz.annotate.app import create_app
    except ImportError as e:
        fail(f"saz annotate needs its extra: pip install 'saz[annotate]' ({e})")

    application = create_app(_engine(db))
    err.print(f"saz annotate serving {db} on http://{host}:{port}/")
    uvicorn.run(application, host=host, port=port, log_level="warning")


@app.command()
def export(out: Path = typer.Argument(..., help="Folder to write annotations/ and audio/ into."),
           db: str = typer.Option("annotate.db", help=DB_HELP), seed: int = typer.Option(0)) -> None:
    """Export the closed excerpts' soft labels as a HamNava dataset (70/15/15 split)."""
    from saz.annotate.results import export as run_export

    with reported(ValueError):
        counts = run_export(_engine(db), out, seed=seed)
    console.print(", ".join(f"{k} {v}" for k, v in counts.items()) + f" excerpts written to {out} "
                  f"(read it with: saz datasets info hamnava {out})")


@app.command()
def stats(db: str = typer.Option("annotate.db", help=DB_HELP)) -> None:
    """The dashboard's numbers as JSON: progress, agreement (Eq. 1), confidence (Eq. 2), co-occurrence."""
    from saz.annotate.results import dashboard

    console.print(json.dumps(dashboard(_engine(db)), indent=1))
