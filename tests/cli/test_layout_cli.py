"""The command-line package stays thin: short functions, the synthesiser imported by the synth
group only, and nothing heavy imported before a command runs (so `saz --help` is fast)."""

import ast
import subprocess
import sys
from pathlib import Path

import saz.cli

CLI = Path(saz.cli.__file__).parent


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def test_no_function_over_60_lines_and_each_has_a_docstring():
    for path in sorted(CLI.glob("*.py")):
        for fn in _functions(path):
            assert fn.end_lineno - fn.lineno + 1 <= 60, f"{path.name}:{fn.name}"
            assert ast.get_docstring(fn) or fn.name.startswith("__") or fn.name == "tick", f"{path.name}:{fn.name}"


def _imported(path: Path) -> list[str]:
    """Modules ``path`` imports when it runs (not those under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
                   for n in ast.walk(node)}
    names = []
    for node in ast.walk(tree):
        if id(node) not in typing_only and isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif id(node) not in typing_only and isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_only_the_synth_group_imports_the_synthesiser():
    for path in sorted(CLI.glob("*.py")):
        if path.name != "synth.py":
            assert not [m for m in _imported(path) if m == "saz.synth" or m.startswith("saz.synth.")], path.name
    assert "saz.synth.recipes" in _imported(CLI / "synth.py")


def test_importing_the_command_line_imports_nothing_heavy():
    code = ("import sys, saz.cli; heavy = ('torch', 'numpy', 'pandas', 'matplotlib', 'music21', 'saz.synth', "
            "'saz.models', 'saz.datasets'); print(sorted(m for m in heavy if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"
