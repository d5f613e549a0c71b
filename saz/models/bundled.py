"""Where the package's own model lives: the bundled default checkpoint and its card.

Low-level on purpose (it imports only the checkpoint's error type), so that training can start
from ``"default"`` and prediction can load it without either importing the other.
"""

from __future__ import annotations

import os
from pathlib import Path

from saz.models.checkpoint import CheckpointError

WEIGHTS = Path(__file__).parent / "weights"
DEFAULT_MODEL = WEIGHTS / "default.pt"
DEFAULT_CARD = WEIGHTS / "default.md"


def resolve_model(model: str | os.PathLike) -> Path:
    """``"default"`` -> the checkpoint inside the package; anything else is a path."""
    if str(model) == "default":
        if not DEFAULT_MODEL.exists():
            raise CheckpointError(f"{DEFAULT_MODEL}: the bundled default model is missing from this installation")
        return DEFAULT_MODEL
    return Path(model)
