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
