"""saz-bench: a versioned benchmark corpus built from a spec file by one command.

The spec (TOML, e.g. ``benchmarks/saz-bench-v1.toml``) fixes clip length, sample rate,
vocabulary, seeds, sizes and sources of every split. ``build`` writes the audio, activity and
manifests (one ``<split>.csv`` per split, readable by the ``csv`` reader), then a corpus card
with class counts, labels per clip, co-occurrence and SoundFont coverage. ``scale`` shrinks
every split for CI while keeping everything else identical.
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from saz import io, plots
from saz.datasets import load
from saz.scale import Engine
from saz.synth.corpus import build_split
from saz.synth.instruments import coverage
from saz.synth.library import LibraryConfig, LibraryGenerator, pools_from_dataset
from saz.synth.mix import MixConfig
from saz.synth.render import RenderConfig, RenderGenerator, corpus_pieces
from saz.synth.soundfont import find_soundfont
from saz.vocabulary import default_class_map, default_vocabulary, load_map


@dataclass(frozen=True)
class Spec:
    name: str
    version: str
    seconds: float
    sr: int
    seed: int
    chunk_size: int
    splits: dict[str, dict]
    path: Path

    @classmethod
    def load(cls, path: str | Path) -> "Spec":
        p = Path(path)
        d = tomllib.loads(p.read_text())
        return cls(d["name"], str(d["version"]), float(d["seconds"]), int(d["sr"]), int(d["seed"]),
                   int(d.get("chunk_size", 100)), dict(d["splits"]), p)


def split_generator(spec: Spec, split: str, scale: float = 1.0) -> tuple[Callable, int]:
    """The clip factory of the spec's ``split`` and how many clips it makes at ``scale``."""
    s = spec.splits[split]
    n = max(1, int(round(s["n"] * scale)))
    seed = spec.seed + 1000 * list(spec.splits).index(split)
    mixcfg = MixConfig(**s.get("mix", {}))
    if s["generator"] == "render":
        pieces = corpus_pieces(s.get("pieces", "train"), spec.seed, limit=int(s.get("corpus_limit", 400)))
        cfg = RenderConfig(soundfonts=tuple(s["soundfonts"]), seconds=spec.seconds, sr=spec.sr,
                           min_instruments=int(s.get("min_instruments", 1)), max_instruments=int(s.get("max_instruments", 6)),
                           corpus_fraction=float(s.get("corpus_fraction", 0.3)), corpus_pieces=pieces, mix=mixcfg)
        return RenderGenerator(cfg, seed, prefix=s.get("prefix", split[0])), n
    if s["generator"] == "mix":
        vocab = default_vocabulary()
        root = (spec.path.parent / s["library"]).resolve()
        ds = load("samples", root, class_map=default_class_map(), vocab=vocab)
        clips = ds.clips.assign(**{"class": [vocab.names[j] for j in ds.y.argmax(axis=1)]})
        pool = pools_from_dataset(clips, float(s.get("test_fraction", 0.2)), spec.seed)[s.get("recordings", "test")]
        cfg = LibraryConfig(seconds=spec.seconds, sr=spec.sr, min_instruments=int(s.get("min_instruments", 2)),
                            max_instruments=int(s.get("max_instruments", 5)), mix=mixcfg)
        return LibraryGenerator(pool, vocab.names, cfg, seed, prefix=s.get("prefix", split[0])), n
    raise ValueError(f"{spec.path}: split '{split}' has unknown generator '{s['generator']}'")


def build(spec_path: str | Path, out: str | Path, scale: float = 1.0, workers: int = 1,
          progress: Callable[[str, int, int], None] | None = None, splits: Sequence[str] = (),
          engine: Engine | None = None) -> dict:
    """Build the spec's ``splits`` (all when empty) into ``out`` (resumable), on ``engine`` (a chunk
    per task when distributed) or in ``workers`` processes; write the card; return a summary. A
    split built alone holds the same clips as in a full build at that scale, on any engine."""
    spec = Spec.load(spec_path)
    unknown = [s for s in splits if s not in spec.splits]
    if unknown:
        raise ValueError(f"{spec_path}: no split {', '.join(unknown)} (the spec has {', '.join(spec.splits)})")
    out = Path(out)
    classes = list(load_map())
    t0 = time.time()
    manifests = {}
    for split in spec.splits:
        if splits and split not in splits:
            continue
        gen, n = split_generator(spec, split, scale)
        done = [0]

        def tick(k: int, split: str = split, n: int = n, done: list = done) -> None:
            done[0] += k
            if progress:
                progress(split, done[0], n)

        manifests[split] = build_split(gen, out, split, n, classes, spec.sr, spec.chunk_size, workers, tick, engine)
    seconds = time.time() - t0
    summary = {"name": spec.name, "version": spec.version, "scale": scale, "build_seconds": round(seconds, 1),
               "workers": workers, "splits": {k: str(v.name) for k, v in manifests.items()}}
    io.write_json(out / "bench.json", summary)
    write_card(spec, out, summary)
    return summary


def write_card(spec: Spec, out: Path, summary: dict) -> Path:
    """Markdown corpus card of the built splits: counts, co-occurrence heatmap and SoundFont coverage."""
    imap = load_map()
    classes = list(imap)
    built = {k: v for k, v in spec.splits.items() if k in summary["splits"]}  # the splits this build made
    frames = {split: pd.read_csv(out / f"{split}.csv") for split in built}
    lines = [f"# {spec.name} v{spec.version}", "",
             f"Generated by `saz synth bench --spec {spec.path.name}` (scale {summary['scale']}); "
             f"{spec.seconds:g}-s clips at {spec.sr} Hz, {len(classes)} classes. "
             f"Build time: {summary['build_seconds']:.0f} s with {summary['workers']} worker(s).", "",
             "## Splits", "", "| split | generator | sources | clips | labels per clip (mean) |", "| --- | --- | --- | --- | --- |"]
    for split, s in built.items():
        df = frames[split]
        src = ", ".join(s.get("soundfonts", [])) or s.get("library", "")
        lines.append(f"| {split} | {s['generator']} | {src} | {len(df)} | {df[classes].sum(axis=1).mean():.2f} |")
    lines += ["", "## Clips per class", "", "| class | " + " | ".join(built) + " |",
              "| --- | " + " | ".join("---" for _ in built) + " |"]
    for c in classes:
        lines.append(f"| {c} | " + " | ".join(str(int(frames[s][c].sum())) for s in built) + " |")
    lines += ["", "## Labels per clip", "", "| labels | " + " | ".join(built) + " |",
              "| --- | " + " | ".join("---" for _ in built) + " |"]
    counts = {s: frames[s][classes].sum(axis=1).value_counts() for s in built}
    for k in range(0, 7):
        lines.append(f"| {k} | " + " | ".join(str(int(counts[s].get(k, 0))) for s in built) + " |")
    lines += ["", "## SoundFont coverage", "", "Presets per class in each SoundFont (0 = the SoundFont has no "
              "such instrument; those classes are absent from its clips, never faked).", ""]
    fonts = sorted({f for s in built.values() for f in s.get("soundfonts", [])})
    cov = {f: coverage(find_soundfont(f), imap) for f in fonts}
    lines += ["| class | " + " | ".join(fonts) + " |", "| --- | " + " | ".join("---" for _ in fonts) + " |"]
    for c in classes:
        lines.append(f"| {c} | " + " | ".join(str(len(cov[f][c])) for f in fonts) + " |")
    train = next(iter(built))
    y = frames[train][classes].to_numpy(dtype=np.float32)
    fig = plots.heatmap(plots.cooccurrence(y), classes, classes, f"{train}: co-occurrence (% of row class)")
    io.save_figure(out / "cooccurrence.png", fig)
    plots.close(fig)
    lines += ["", f"![co-occurrence]({'cooccurrence.png'})", ""]
    io.write_json(out / "card.json", {"summary": summary, "clips_per_class": {s: {c: int(frames[s][c].sum()) for c in classes} for s in built}})
    return io.write_text(out / "CARD.md", "\n".join(lines) + "\n")
