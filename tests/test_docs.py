"""The documentation: the site builds without a warning, and every command it shows exists.

* ``mkdocs build --strict`` builds the guides and the API reference generated from the
  docstrings into a temporary folder (skipped, with the reason, when the ``docs`` extra is not
  installed); every public module of the package gets a reference page.
* Every ``saz ...`` command line shown in the guides (``docs/*.md``) and the README names a
  real command and subcommand and only options that command has, read from the command line's
  own definition (the ``saz`` entry point of ``pyproject.toml``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PAGES = sorted(DOCS.glob("*.md")) + [REPO / "README.md"]
DOCS_PACKAGES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "mkdocs_gen_files",
                 "mkdocs_literate_nav")


def _missing_docs_packages() -> list[str]:
    missing = []
    for name in DOCS_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


def public_modules() -> list[str]:
    """Dotted names of the package's public modules, as the reference generator walks them."""
    names = []
    for path in sorted((REPO / "saz").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(p.startswith("_") for p in parts):
            names.append(".".join(parts))
    return names


@pytest.mark.skipif(bool(_missing_docs_packages()),
                    reason=f"the docs extra is not installed (pip install -e '.[docs]'): missing {_missing_docs_packages()}")
def test_site_builds_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(REPO / "mkdocs.yml"),
                        "--site-dir", str(site)], cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, f"mkdocs build --strict failed:\n{r.stdout}\n{r.stderr}"
    for page in ("index", "predict", "train-and-compare", "datasets", "synth", "serve", "models", "default-model"):
        assert (site / page / "index.html").is_file() or page == "index" and (site / "index.html").is_file(), page
    missing = []
    for name in public_modules():
        page = site / "reference" / Path(*name.split(".")) / "index.html"
        if not page.is_file() or f'id="{name}"' not in page.read_text(encoding="utf-8"):
            missing.append(name)
    assert not missing, f"modules without an API reference page: {missing}"


# --- every `saz ...` shown is a real command -----------------------------------------------------

def saz_command() -> Any:
    """The click command behind the ``saz`` console script of pyproject.toml (typer's app is
    turned into one; typer ships its own copy of click, so groups are told by their commands)."""
    target = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]["saz"]
    module, _, attr = target.partition(":")
    obj = getattr(importlib.import_module(module), attr)
    return typer.main.get_command(obj) if isinstance(obj, typer.Typer) else obj


def command_lines(text: str) -> list[str]:
    """``saz ...`` command lines shown in Markdown: in bash/console code blocks (console: only the
    lines typed after ``$`` or ``>``) and in inline code spans."""
    lines: list[str] = []
    blocks = re.split(r"^(```[^\n]*)$", text, flags=re.M)
    prose = []
    fence = None
    for part in blocks:
        if part.startswith("```"):
            fence = None if fence is not None else (part[3:].strip() or "text")
            continue
        if fence is None:
            prose.append(part)
            continue
        if fence in ("bash", "sh", "shell", "console"):
            body = re.sub(r"\\\n\s*", " ", part)
            for line in body.splitlines():
                line = line.strip()
                if fence == "console":
                    if not line.startswith(("$ ", "> ")):
                        continue
                    line = line[2:]
                lines.append(line)
    for span in re.findall(r"`([^`\n]+)`", "".join(prose)):
        lines.append(span)
    out = []
    for line in lines:
        line = line.split(" #", 1)[0]
        for segment in re.split(r"\s(?:\||&&|;)\s|;\s*(?:do|then)\s|^\s*(?:do|then)\s", line):
            segment = segment.strip()
            m = re.search(r"(?:^|[\s(])(saz[ \t]+[a-z].*)$", segment)
            if m:
                out.append(m.group(1))
    return out


def _is_group(command: Any) -> bool:
    return isinstance(getattr(command, "commands", None), dict)


def check(line: str, root: Any) -> list[str]:
    """What is wrong with one ``saz ...`` line: an unknown command or subcommand, an unknown option."""
    try:
        tokens = shlex.split(line)
    except ValueError:
        tokens = line.split()
    tokens = [t.strip("[]") for t in tokens[1:]]
    command, i = root, 0
    while _is_group(command) and i < len(tokens) and not tokens[i].startswith("-"):
        names = re.split(r"[/|]", tokens[i])
        unknown = [n for n in names if n not in command.commands]
        if unknown:
            return [f"`{line}`: no command `{' '.join(['saz', *tokens[:i], unknown[0]])}` "
                    f"(`{' '.join(['saz', *tokens[:i]])}` has: {', '.join(sorted(command.commands))})"]
        if len(names) > 1:  # alternatives (`saz models list/info`): each exists; options not checked
            return []
        command, i = command.commands[tokens[i]], i + 1
    rest = tokens[i:]
    opts = {"--help"}
    for p in command.params:
        opts.update(getattr(p, "opts", []))
        opts.update(getattr(p, "secondary_opts", []))
    bad = []
    for tok in rest:
        if re.fullmatch(r"--?[A-Za-z][\w-]*(=.*)?", tok):
            for name in tok.split("=", 1)[0].split("/"):
                if name not in opts:
                    bad.append(f"`{line}`: `{' '.join(['saz', *tokens[:i]])}` has no option `{name}`")
    return bad


def test_the_checker_can_fail() -> None:
    root = saz_command()
    assert check("saz learn RECORDING", root)  # no such command (saz teach is one now)
    assert check("saz models rename default", root)
    assert check("saz predict examples/ensemble.ogg --nope", root)
    assert check("saz train saznet --dataset csv --root r --out o --epoch 3", root)
    assert not check("saz predict examples/ensemble.ogg --timeline --window 2", root)
    assert not check("saz models info default", root)
    assert not check("saz models list/info/ensemble", root)
    assert command_lines("```console\n$ saz predict a.ogg\nsaz serving on x\n```\nsee `saz compare DIR`") == [
        "saz predict a.ogg", "saz compare DIR"]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_saz_command_shown_exists(page: Path) -> None:
    root = saz_command()
    lines = command_lines(page.read_text(encoding="utf-8"))
    problems = [problem for line in lines for problem in check(line, root)]
    assert not problems, "\n".join(problems)
