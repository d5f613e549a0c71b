"""Generate one API reference page per public module of the ``saz`` package.

Run by the ``gen-files`` plugin of ``mkdocs build``: it walks ``saz/`` as it is on disk, so a
module that is added, moved or removed changes the reference without editing this file or
``mkdocs.yml``. Private modules (``_name.py``) and ``__main__`` are skipped; a package's
``__init__.py`` becomes the package's own page. The navigation is written to
``reference/SUMMARY.md`` for the ``literate-nav`` plugin.
"""

from __future__ import annotations

from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "saz"


def public_modules(package: Path = PACKAGE) -> list[tuple[str, ...]]:
    """Dotted names (as tuples) of the public modules and packages under ``package``."""
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts) or "__pycache__" in path.parts:
            continue
        names.append(parts)
    return names


nav = mkdocs_gen_files.Nav()
for parts in public_modules():
    source = PACKAGE.parent.joinpath(*parts)
    source = source / "__init__.py" if source.is_dir() else source.with_suffix(".py")
    page = Path(*parts, "index.md") if source.name == "__init__.py" else Path(*parts).with_suffix(".md")
    nav[parts] = page.as_posix()
    with mkdocs_gen_files.open(Path("reference", page), "w") as fd:
        fd.write(f"# `{'.'.join(parts)}`\n\n::: {'.'.join(parts)}\n")
    mkdocs_gen_files.set_edit_path(Path("reference", page), source.relative_to(ROOT))

with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as fd:
    fd.writelines(nav.build_literate_nav())
