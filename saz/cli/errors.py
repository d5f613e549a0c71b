"""How a command fails: one red line on standard error and an exit status, never a traceback."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, NoReturn

import typer

from saz.cli.output import labelled


def message(e: BaseException) -> str:
    """An error's text (a KeyError's own message, not its repr)."""
    return str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)


def fail(text: str, code: int = 1, label: str = "error") -> NoReturn:
    """Print ``label: text`` in red on standard error and exit with status ``code``."""
    labelled(label, "red", text)
    raise typer.Exit(code)


@contextmanager
def reported(*errors: type[BaseException], code: int = 1) -> Iterator[None]:
    """Turn any of ``errors`` raised inside into :func:`fail` with exit status ``code``
    (a context manager, or a decorator: ``@reported(DatasetError, KeyError)``)."""
    try:
        yield
    except errors as e:
        fail(message(e), code)
