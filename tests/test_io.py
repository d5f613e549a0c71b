"""saz.io: atomic writes leave the old file or the whole new one, with ordinary permissions."""

from __future__ import annotations

import os

import pytest

from saz import io


def test_atomic_write_replaces_whole_files_with_umask_permissions(tmp_path):
    target = tmp_path / "sub" / "report.json"
    io.write_json(target, {"a": 1})
    umask = os.umask(0)
    os.umask(umask)
    assert target.read_text() == '{\n  "a": 1\n}\n' and target.stat().st_mode & 0o777 == 0o666 & ~umask

    def fail(f):
        f.write(b"half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        io.atomic_write(target, fail)
    assert target.read_text() == '{\n  "a": 1\n}\n'  # the old file, whole
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]  # no temporary left behind


def test_json_is_valid_rfc_8259_with_undefined_numbers_as_null(tmp_path):
    import json

    import numpy as np

    target = io.write_json(tmp_path / "r.json", {"ap": float("nan"), "f1": np.float64("inf"), "p": np.float32(0.5),
                                                  "per_class": np.array([np.nan, 0.25]), "n": np.int64(3),
                                                  "rows": [(1.0, -np.inf)], "path": tmp_path})

    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")

    assert json.loads(target.read_text(), parse_constant=refuse) == {
        "ap": None, "f1": None, "p": 0.5, "per_class": [None, 0.25], "n": 3, "rows": [[1.0, None]], "path": str(tmp_path)}
