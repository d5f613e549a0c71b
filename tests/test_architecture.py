"""The shape of the package: imports run one way, prediction needs no synthesiser, functions stay short,
the extras install what a CPU machine needs."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement

from conftest import REPO

MAX_LINES = 60
# Functions still over the limit, to be split (a new long function, or one of these grown, fails;
# one split below the limit must leave this list).
KNOWN_LONG: dict[str, int] = {}


def test_imports_follow_the_layers_of_pyproject():
    if shutil.which("lint-imports") is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    run = subprocess.run(["lint-imports", "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]


def test_prediction_and_scoring_import_neither_music21_nor_fluidsynth():
    code = ("import sys, saz.prediction, saz.models, saz.datasets, saz.evaluation.scoring, saz.serve.app;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('music21', 'fluidsynth')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_function_of_the_package_is_longer_than_sixty_lines():
    long = {}
    for path in sorted((REPO / "saz").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_LINES:
                    long[f"{path.relative_to(REPO)} {node.name}"] = n
    grown = {k: n for k, n in long.items() if n > KNOWN_LONG.get(k, MAX_LINES)}
    assert not grown, f"functions over {MAX_LINES} lines: {grown}"
    assert set(long) == set(KNOWN_LONG), f"split below {MAX_LINES} lines, drop from KNOWN_LONG: {set(KNOWN_LONG) - set(long)}"


def test_the_xgb_extra_installs_one_xgboost_and_the_cpu_build_where_it_has_wheels():
    """xgboost-cpu (the same module without the CUDA build's nvidia-nccl wheel) on Linux x86_64 and
    aarch64 and Windows x86_64, plain xgboost elsewhere: never both, never neither."""
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["xgb"]
    cpu = {("linux", "x86_64"), ("linux", "aarch64"), ("win32", "AMD64")}
    for platform in (*cpu, ("linux", "ppc64le"), ("win32", "ARM64"), ("darwin", "arm64"), ("darwin", "x86_64")):
        env = dict(zip(("sys_platform", "platform_machine"), platform))
        picked = [r.name for r in map(Requirement, extra) if r.marker is None or r.marker.evaluate(env)]
        assert picked == ["xgboost-cpu" if platform in cpu else "xgboost"], platform
