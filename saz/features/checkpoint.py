"""Local encoder checkpoints: what a folder (or file) must hold, checked before anything loads it.

Every problem is one :class:`CheckpointError` line that names the file that is missing or wrong and
the architecture that was expected, so a partial download or the wrong model's folder is reported
before transformers (or torch) gets a chance to print a traceback or try the network.
:func:`fingerprint` is the checkpoint's identity in the feature cache key: the bytes of its JSON
configuration and the name, size and modification time of every weight and code file (like
:func:`saz.features.cache.file_identity` for audio), so replaced weights are never served from
the cache of the old ones.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
EXTRA = "encoders"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message is one line for the user."""


def require_transformers(feature: str) -> Any:
    """The ``transformers`` module, imported offline; a clear line naming the extra when it is absent."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import transformers
    except ImportError:
        raise CheckpointError(f"feature '{feature}' needs the transformers package: pip install 'saz[{EXTRA}]'") from None
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return transformers


def require_device(device: str) -> None:
    """A one-line error for a CUDA device on a machine without one (torch's would be a traceback)."""
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise CheckpointError(f"--device {device}: no CUDA GPU is available here (use --device cpu)")


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: unreadable {what} ({type(e).__name__}: {e})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: {what} is not a JSON object")
    return data


def weight_files(folder: Path, expected: str) -> list[Path]:
    """The folder's weight files (one file, or every shard its index names); missing ones are an error."""
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return [folder / name]
    for name in INDEX_FILES:
        if (folder / name).is_file():
            index = _read_json(folder / name, "weight index")
            shards = sorted(set(index.get("weight_map", {}).values()))
            missing = [s for s in shards if not (folder / s).is_file()]
            if missing or not shards:
                raise CheckpointError(f"{folder / (missing[0] if missing else name)}: weight shard missing "
                                      f"(a partial download of the {expected} checkpoint?)")
            return [folder / s for s in shards]
    raise CheckpointError(f"{folder}: no model weights (expected {' or '.join(WEIGHT_FILES)} of a {expected} checkpoint)")


def check_folder(checkpoint: str | Path | None, expected: str, model_types: tuple[str, ...]) -> dict[str, Any]:
    """The ``config.json`` of a Hugging Face checkpoint folder holding a ``model_types`` model."""
    if checkpoint is None or str(checkpoint) == "":
        raise CheckpointError(f"feature needs a local {expected} checkpoint folder: --checkpoint DIR (or -p checkpoint=DIR)")
    folder = Path(checkpoint)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise CheckpointError(f"{folder}: {what} (expected a local {expected} checkpoint folder with config.json)")
    if not (folder / "config.json").is_file():
        raise CheckpointError(f"{folder / 'config.json'}: missing (expected a {expected} checkpoint folder)")
    config = _read_json(folder / "config.json", "config.json")
    kind = config.get("model_type")
    if kind not in model_types:
        raise CheckpointError(f"{folder / 'config.json'}: model_type {kind!r} is not a {expected} checkpoint "
                              f"(expected model_type {' or '.join(repr(t) for t in model_types)})")
    weight_files(folder, expected)
    return config


def remote_code_files(folder: Path, config: dict[str, Any], expected: str) -> list[Path]:
    """The modelling code files ``config.json``'s ``auto_map`` names (MERT's own code); missing ones are an error."""
    auto_map = config.get("auto_map") or {}
    if "AutoModel" not in auto_map:
        raise CheckpointError(f"{folder / 'config.json'}: no auto_map.AutoModel (a {expected} snapshot names its "
                              f"own modelling code there, e.g. modeling_MERT.MERTModel)")
    files = sorted({folder / f"{ref.rsplit('.', 1)[0]}.py" for ref in auto_map.values() if isinstance(ref, str)})
    for f in files:
        if not f.is_file():
            raise CheckpointError(f"{f}: missing (the {expected} snapshot's own modelling code, named in config.json's auto_map)")
    return files


def fingerprint(files: list[Path]) -> str:
    """Identity of a checkpoint: JSON files by content, every other file by name, size and mtime."""
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(f.name.encode())
        if f.suffix == ".json":
            h.update(f.read_bytes())
        else:
            st = f.stat()
            h.update(f"|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]
