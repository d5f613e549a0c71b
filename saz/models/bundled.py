"""Where the package's own model lives: the bundled default checkpoint, its card and its checksum.

Low-level on purpose (it imports only the checkpoint's error type), so that training can start
from ``"default"`` and prediction can load it without either importing the other.

The default is the checkpoint saz loads when none is named, so it is checked each time it is
resolved against the SHA-256 recorded beside it (``default.sha256``, in ``sha256sum`` format): a
file changed after installation is refused. Whatever ships a new default records its checksum
(:func:`record_default_checksum`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from saz import io
from saz.models.checkpoint import CheckpointError

WEIGHTS = Path(__file__).parent / "weights"
DEFAULT_MODEL = WEIGHTS / "default.pt"
DEFAULT_CARD = WEIGHTS / "default.md"
DEFAULT_SHA256 = WEIGHTS / "default.sha256"


def sha256(path: Path) -> str:
    """The SHA-256 of the file ``path``, in hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_default() -> None:
    """:class:`CheckpointError` unless the default checkpoint is there and is the file shipped
    (its SHA-256 is the one recorded in :data:`DEFAULT_SHA256`)."""
    if not DEFAULT_MODEL.exists():
        raise CheckpointError(f"{DEFAULT_MODEL}: the bundled default model is missing from this installation")
    if not DEFAULT_SHA256.is_file():
        raise CheckpointError(f"{DEFAULT_SHA256}: the bundled default model's checksum is missing from this installation")
    recorded = (DEFAULT_SHA256.read_text().split() or [""])[0]
    if sha256(DEFAULT_MODEL) != recorded:
        raise CheckpointError(f"{DEFAULT_MODEL}: not the default model saz shipped (its SHA-256 differs from the one "
                              f"in {DEFAULT_SHA256.name}); reinstall saz")


def record_default_checksum() -> Path:
    """Record the SHA-256 of the default checkpoint as it is now (for whatever ships a new one)."""
    return io.write_text(DEFAULT_SHA256, f"{sha256(DEFAULT_MODEL)}  {DEFAULT_MODEL.name}\n")


def resolve_model(model: str | os.PathLike) -> Path:
    """``"default"`` -> the checkpoint inside the package, checked (:func:`check_default`);
    anything else is a path."""
    if str(model) == "default":
        check_default()
        return DEFAULT_MODEL
    return Path(model)
