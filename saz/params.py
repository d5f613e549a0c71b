"""``KEY=VALUE`` settings, as the command line and the benchmark scripts take them."""

from __future__ import annotations

import ast
from typing import Any, Collection, Iterable


def key_values(items: Iterable[str], keys: Collection[str] | None = None, text: bool = True) -> dict[str, Any]:
    """``["n_mels=64", "fmax=8000"]`` -> ``{"n_mels": 64, "fmax": 8000}``.

    Each value is read as a Python literal; one that is none is kept as a string when ``text``,
    else it is a ValueError. With ``keys``, a key outside them is a ValueError naming them.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = (part.strip() for part in item.partition("="))
        if keys is not None and (not sep or key not in keys):
            raise ValueError(f"{item}: expected KEY=VALUE with KEY one of {', '.join(sorted(keys))}")
        if not sep:
            raise ValueError(f"expected KEY=VALUE, got '{item}'")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            if not text:
                raise ValueError(f"{item}: {value!r} is not a number, string, boolean or tuple") from None
            out[key] = value
    return out
