"""griffe extensions for the API reference, so that it reads the docstrings as they are written.

* :class:`NamespaceSubpackages`: Python imports ``saz/<folder>/<module>.py`` even when
  ``<folder>`` has no ``__init__.py`` (a namespace subpackage, PEP 420); griffe, which reads the
  source for mkdocstrings, skips such folders inside a regular package. This adds each of them
  as an empty namespace module when its parent package is read, so its modules are documented
  too. A folder that gains an ``__init__.py`` is read as usual.
* :class:`SphinxRoles`: the docstrings name other objects with Sphinx roles
  (``:func:`saz.audio.stream```, ``:class:`Predictor```), which Markdown shows as they are
  typed. Each becomes a link to the object's entry when the reference documents that object,
  and plain code otherwise, so no link can point nowhere.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const):`~?([A-Za-z_][\w.]*)(?:\(\))?`")


class NamespaceSubpackages(griffe.Extension):
    """Read module folders without ``__init__.py`` inside a package, as Python imports them."""

    def on_module_instance(self, *, mod: griffe.Module, agent: Any, **kwargs: Any) -> None:
        if isinstance(mod.filepath, list) or mod.filepath.name != "__init__.py":
            return
        for folder in sorted(p for p in mod.filepath.parent.iterdir() if p.is_dir()):
            if (folder / "__init__.py").exists() or not any(folder.glob("*.py")) or not folder.name.isidentifier():
                continue
            if folder.name not in mod.members:
                mod.set_member(folder.name, griffe.Module(
                    folder.name, filepath=[folder], lines_collection=agent.lines_collection,
                    modules_collection=agent.modules_collection))


def _documented(obj: Any) -> bool:
    """Whether the reference renders ``obj``: public all the way up, with a docstring."""
    try:
        obj = obj.final_target if obj.is_alias else obj
    except griffe.AliasResolutionError:
        return False
    if any(part.startswith("_") for part in obj.path.split(".")):
        return False
    return obj.is_module or bool(obj.docstring)


def _target(name: str, obj: Any, collection: Any) -> str | None:
    """The documented object that ``name`` means where ``obj``'s docstring says it."""
    scopes = [""]
    scope = obj if obj.is_module or obj.is_class else obj.parent
    while scope is not None:
        scopes.insert(0, scope.path + ".")
        scope = scope.parent
    for prefix in scopes:
        try:
            found = collection.get_member(prefix + name)
        except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        if _documented(found):
            return found.final_target.path if found.is_alias else found.path
        return None
    return None


class SphinxRoles(griffe.Extension):
    """Turn Sphinx roles in docstrings into links (documented targets) or code (the rest)."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        self._walk(pkg, loader.modules_collection)

    def _walk(self, obj: Any, collection: Any) -> None:
        if obj.docstring is not None:
            def link(m: re.Match) -> str:
                path = _target(m.group(1), obj, collection)
                return f"[`{m.group(1)}`][{path}]" if path else f"`{m.group(1)}`"
            obj.docstring.value = ROLE.sub(link, obj.docstring.value)
        for member in list(obj.members.values()):
            if not member.is_alias:
                self._walk(member, collection)
