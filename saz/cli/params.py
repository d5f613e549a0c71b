"""Options of the form KEY=VALUE (repeatable), read by the library's one parser."""

from __future__ import annotations

from typing import Any, Iterable

import typer

from saz.params import key_values


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``["n_mels=64", "fmax=8000"]`` -> ``{"n_mels": 64, "fmax": 8000}`` (Python literals, else
    text); an item without '=' is a usage error (exit status 2)."""
    try:
        return key_values(items)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
