"""``saz reproduce``: one document's setting end to end, its tables beside the published ones.

Output folder:

* ``settings.toml``: the setting used (the shipped one or ``--settings``), budget and seeds noted;
* ``REPORT.md``: every reproduced table beside the document's numbers, what of the document's
  setting this saz does not apply yet, and the files written;
* ``tables/<id>.md`` and ``tables/<id>.csv``: each table, the paper's and saz's values;
* ``analyses/*.csv`` and ``figures/*.png``: the analyses the setting names;
* ``runs/<run>/seed<k>/``: the training runs and their ``saz evaluate`` folders (finished ones
  are not done again: an interrupted reproduction resumes);
* ``manifest.json``: the files above by kind, and the settings not applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from saz import io
from saz.reproduce import analyses, tables
from saz.reproduce.data import prepare
from saz.reproduce.runs import RunResult, run_seed
from saz.reproduce.settings import load_settings, published


@dataclass
class Reproduction:
    """What a reproduction wrote and what it could not apply."""

    document: str
    out: Path
    tables: list[dict] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)
    not_applied: list[str] = field(default_factory=list)


def _settings_file(settings: dict, seeds: int) -> str:
    head = (f"# Setting used by saz reproduce {settings['document']} (from {settings['source']}), "
            f"budget '{settings['budget']}' (its [budget.{settings['budget']}] values replace the ones above them), "
            f"{seeds} seed(s).\n")
    return head + settings["text"]


def _report(rep: Reproduction, settings: dict, seeds: int, clips: dict[str, int]) -> str:
    paper = published(rep.document)
    lines = [f"# saz reproduce {rep.document}", "", f"Document: {paper['document']} ({paper['title']}). "
             f"Budget '{settings['budget']}', {seeds} seed(s); clips per split: "
             + ", ".join(f"{k} {v}" for k, v in clips.items()) + ".", ""]
    lines += ["## Document settings not applied", ""]
    lines += [f"- {line}" for line in rep.not_applied] or ["- none: every setting of the document is applied"]
    lines += ["", "## Tables", ""] + [tables.to_markdown(t) for t in rep.tables]
    lines += ["## Files", ""] + [f"- {kind}: " + ", ".join(f"`{p}`" for p in paths) for kind, paths in rep.files.items()]
    return "\n".join(lines) + "\n"


def reproduce(document: str, root: str | Path, out: str | Path, seeds: int | None = None, budget: str = "paper",
              settings_path: str | Path | None = None, cache: str | Path | None = None,
              log: Callable[[str], None] = lambda line: None) -> Reproduction:
    """Run ``document``'s setting on the dataset at ``root`` and write its tables, analyses and
    figures to ``out`` (see the module docstring); ``log`` hears one line per step."""
    settings = load_settings(document, budget, settings_path)
    seeds = int(seeds or settings.get("seeds", 1))
    out, root = Path(out), Path(root)
    io.write_text(out / "settings.toml", _settings_file(settings, seeds))
    rep = Reproduction(document, out, not_applied=list(settings.get("differences", [])))
    prepared = prepare(settings["data"], root, out)
    rep.not_applied += prepared.not_applied
    ds = prepared.dataset
    clips = {k: len(v) for k, v in ds.splits.items()}
    log(f"{ds.name}: {len(ds)} clips ({', '.join(f'{k} {v}' for k, v in clips.items())}), {len(ds.problems)} problems")
    runs: dict[str, list[RunResult]] = {}
    for run in settings["runs"]:
        for seed in range(seeds):
            log(f"run {run['name']} ({run['model']}), seed {seed}")
            runs.setdefault(run["name"], []).append(run_seed(run, settings.get("train", {}), ds, out, seed, rep.not_applied,
                                                             cache, settings["data"].get("seconds"),
                                                             settings.get("evaluation_figures", True)))
    paper = published(document)
    for tid, spec in settings.get("tables", {}).items():
        if tid not in paper["tables"]:
            raise ValueError(f"{settings['source']}: [tables.{tid}] names no table of {paper['document']}")
        t = tables.build(paper["tables"][tid], spec, runs)
        rep.tables.append(t)
        rep.files.setdefault("tables", []).extend(
            str(io.write_text(out / "tables" / f"{tid}.{ext}", text).relative_to(out))
            for ext, text in (("md", tables.to_markdown(t)), ("csv", tables.to_csv(t))))
    ctx = analyses.Context(settings, ds, root, out, runs)
    for name in settings.get("analyses", {}).get("names", []):
        if name not in analyses.ANALYSES:
            raise ValueError(f"{settings['source']}: unknown analysis '{name}' (known: {', '.join(analyses.ANALYSES)})")
        log(f"analysis {name}")
        rep.files[name] = [str(p.relative_to(out)) for p in analyses.ANALYSES[name](ctx)]
    io.write_text(out / "REPORT.md", _report(rep, settings, seeds, clips))
    io.write_json(out / "manifest.json", {"document": document, "budget": budget, "seeds": seeds, "files": rep.files,
                                          "not_applied": rep.not_applied})
    return rep
