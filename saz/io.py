"""Atomic file writes: a reader sees the old file or the complete new one, never a torn one.

Each writer fills a temporary file in the target's folder (``.NAME.XXXXXXXX.tmp``), flushes it
to disk and renames it over the target (``os.replace`` is atomic on POSIX and Windows). Two
processes writing the same target race harmlessly: the last complete file wins. The file gets
the permissions a plain ``open(path, "w")`` would give it (temporary files are private to their
owner until then). A write killed before its rename leaves its temporary file behind;
:func:`remove_temp_files` clears those.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, IO

import numpy as np

_UMASK = os.umask(0)  # read once: os.umask can only be read by setting it
os.umask(_UMASK)
TEMP_SUFFIX = ".tmp"  # the ending of atomic_write's temporary files, which start with a dot

def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call ``write(fileobj)`` on a temporary file, then move it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_temp_files(folder: str | os.PathLike, older_than: float = 0.0, recursive: bool = False) -> list[Path]:
    """Remove the temporary files of interrupted :func:`atomic_write` calls in ``folder`` (and its
    subfolders when ``recursive``) last changed over ``older_than`` seconds ago: where other
    processes may be writing too, a younger one can be a write in progress. Returns those removed."""
    pattern = f".*{TEMP_SUFFIX}"
    found = Path(folder).rglob(pattern) if recursive else Path(folder).glob(pattern)
    cutoff = time.time() - older_than
    removed = []
    for tmp in found:
        try:
            if tmp.is_file() and tmp.stat().st_mtime <= cutoff:
                tmp.unlink()
                removed.append(tmp)
        except FileNotFoundError:  # its writer renamed or removed it meanwhile
            continue
    return removed


def jsonable(obj: Any) -> Any:
    """``obj`` as :func:`write_json` writes it and ``json.load`` reads it back (numpy values and
    paths converted, tuples as lists): what to compare a stored JSON file with."""
    return json.loads(json.dumps(obj, default=_json_default))


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """``obj`` as RFC 8259 JSON: NumPy numbers and arrays as numbers and lists, paths as text, and
    a NaN or an infinity (a metric undefined for a class without positives) as null."""
    return write_text(path, json.dumps(_finite(obj), indent=2, allow_nan=False, default=_json_default) + "\n")


def save_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    return atomic_write(path, lambda f: np.save(f, np.asarray(array), allow_pickle=False))


def save_figure(path: str | os.PathLike, fig: Any, dpi: int = 120) -> Path:
    """Render a matplotlib figure to PNG atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return write_bytes(path, buf.getvalue())


def _finite(o: Any) -> Any:
    """``o`` with its containers and arrays walked, and every float (NumPy's too) finite or None."""
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    if isinstance(o, np.ndarray):
        return _finite(o.tolist())
    if isinstance(o, (float, np.floating)):
        return float(o) if np.isfinite(o) else None
    return o


def _json_default(o: Any) -> Any:
    """What JSON cannot hold as such, after :func:`_finite`: NumPy integers and paths."""
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
