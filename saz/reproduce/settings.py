"""A document's setting (``saz/data/reproduce/<document>.toml``) and its published numbers
(``saz/data/papers/<document>.toml``), both data a user can read, copy and change.

A setting names the dataset reader and its options, how the splits are made, the training
defaults (``[train]``) and the runs (``[[runs]]``: model, protocol, feature, anything
:class:`saz.models.train.TrainConfig` takes), which of the runs fill which published table
(``[tables.<id>]``), the analyses and figures it writes, ``differences`` (what of the
document this saz does not do yet, said in every report), and per budget (``[budget.tiny]``,
``[budget.paper]``) the values that replace the top-level ones (merged key by key).
"""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

DOCUMENTS = ("hamnava", "cultural", "medleydb", "openmic")
BUDGETS = ("tiny", "paper")


def _data(folder: str, name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("saz.data").joinpath(folder, f"{name}.toml").read_text(encoding="utf-8"))


def settings_text(document: str) -> str:
    """The shipped setting of ``document`` as its TOML text (what ``--settings`` files start from)."""
    if document not in DOCUMENTS:
        raise ValueError(f"unknown document '{document}' (choose from {', '.join(DOCUMENTS)})")
    return resources.files("saz.data").joinpath("reproduce", f"{document}.toml").read_text(encoding="utf-8")


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over``'s values in, tables merged key by key (a copy)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def load_settings(document: str, budget: str = "paper", path: str | Path | None = None) -> dict[str, Any]:
    """The setting of ``document`` (or the TOML file at ``path``) with ``budget``'s values merged
    in; ValueError naming the file and the problem when it cannot be used."""
    if budget not in BUDGETS:
        raise ValueError(f"unknown budget '{budget}' (choose from {', '.join(BUDGETS)})")
    source = str(path) if path is not None else f"saz/data/reproduce/{document}.toml"
    try:
        text = Path(path).read_text(encoding="utf-8") if path is not None else settings_text(document)
        raw = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"{source}: {e}") from None
    if raw.get("document", document) != document:
        raise ValueError(f"{source}: a setting of '{raw['document']}', not of '{document}'")
    for key in ("data", "runs"):
        if key not in raw:
            raise ValueError(f"{source}: no [{key}] in the setting")
    names = [r.get("name") for r in raw["runs"]]
    if None in names or len(set(names)) != len(names):
        raise ValueError(f"{source}: every [[runs]] needs a name of its own (got {names})")
    out = merged(raw, raw.get("budget", {}).get(budget, {}))
    out.pop("budget", None)
    out.update(document=document, budget=budget, source=source, text=text)
    return out


def published(document: str) -> dict[str, Any]:
    """The published tables (``{id: table}``) and single values of ``document``."""
    raw = _data("papers", document)
    return {"document": raw["document"], "title": raw["title"],
            "tables": {t["id"]: t for t in raw.get("tables", [])},
            "values": {v["id"]: v for v in raw.get("values", [])}}
