"""Generator 2: scores rendered with General MIDI SoundFonts (``saz synth render``).

Each clip draws 1-6 classes of the vocabulary (uniformly, so every class appears often, alone
and in ensembles), gives each a part (a music21 corpus excerpt or procedural material in a
role the instrument plays), transposes it into the instrument's range, renders every class to
its own stem with a preset of the clip's SoundFont, and mixes the stems at random gains.
Labels come from the rendered stems: a class is present only where its stem is audible.

The generalisation levers are options of :class:`RenderConfig`, all off by default (saz-bench
v1 is built without them): more timbre sources (variation banks, recorded drum-kit SoundFonts,
real recorded samples in place of presets), unlabelled real distractor sounds, performance
variation, room acoustics and mastering, and real instrumentations (ensembles).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from saz.params import key_values
from saz.synth import acoustics as A
from saz.synth import parts as P
from saz.synth.corpus import Clip
from saz.synth.fluid import Renderer
from saz.synth.instruments import class_presets, ensembles
from saz.vocabulary import InstrumentClass, load_map
from saz.synth.library import sample_stem
from saz.synth.mix import MixConfig, activity, mix
from saz.synth.performance import PerformanceConfig, perform
from saz.synth.soundfont import Preset, find_soundfont
from saz.synth.sources import Entry, by_class
from saz.synth import optional

DISTRACTOR = "_distractor"

@dataclass(frozen=True)
class RenderConfig:
    """Everything that shapes generated clips (stored in the corpus card)."""

    soundfonts: tuple[str, ...] = ("FluidR3_GM",)
    classes: tuple[str, ...] = ()  # empty: the whole default vocabulary
    seconds: float = 5.0
    sr: int = 22050
    min_instruments: int = 1
    max_instruments: int = 6
    corpus_fraction: float = 0.3
    corpus_pieces: tuple[str, ...] = ()  # music21 corpus paths this split may use
    keep_stems: bool = False
    mix: MixConfig = field(default_factory=MixConfig)
    # generalisation levers (benchmarks/generalisation.py measures each)
    variation_banks: bool = False              # every bank's presets of a class, every drum kit
    drum_soundfonts: tuple[str, ...] = ()      # recorded kits (e.g. avldrums) for drums and cymbals
    samples: tuple[Entry, ...] = ()            # real recordings (path, class, source); class '' = distractor
    sample_fraction: float = 0.0               # P(a class with recordings is played by them, not a preset)
    sample_sparse: float = 0.0                 # P(such a stem is one or two recordings alone in silence)
    sample_shift: float = 0.0                  # semitones: each recording sped up or slowed down by up to this
    preset_isolated: float = 0.0               # P(a preset plays isolated notes in silence, not a written part)
    distractor_fraction: float = 0.0           # P(an unlabelled real sound joins the clip)
    performance: PerformanceConfig | None = None
    acoustics: A.AcousticsConfig | None = None
    ensemble_fraction: float = 0.0             # P(the instrumentation comes from saz/data/ensembles.toml)


def config_overrides(items: Sequence[str]) -> dict:
    """``KEY=VALUE`` items as :class:`RenderConfig` keyword arguments (values read as Python
    literals, e.g. ``sample_shift=2.0``); ValueError naming the item for an unknown field or an
    unreadable value."""
    names = {f.name for f in fields(RenderConfig) if isinstance(f.default, (int, float, str, tuple))}  # not nested configs
    return key_values(items, keys=names, text=False)


def corpus_pieces(selection: str, seed: int, test_fraction: float = 0.2, limit: int = 400) -> tuple[str, ...]:
    """Multi-part music21 corpus pieces, split by piece into ``train`` and ``test`` sets.

    The split depends only on ``seed``, so training and test clips never share a piece.
    """
    corpus = optional.music21("corpus")
    paths: list[str] = []
    for composer in ("bach", "monteverdi", "palestrina"):
        paths += [str(p) for p in corpus.getComposer(composer)]
    paths = sorted(set(paths))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(paths))[:limit]
    n_test = int(round(test_fraction * len(order)))
    chosen = order[:n_test] if selection == "test" else order[n_test:]
    return tuple(paths[i] for i in sorted(chosen))


def _choose_classes(rng: np.random.Generator, available: list[str], cfg: RenderConfig) -> list[str]:
    if cfg.ensemble_fraction and rng.random() < cfg.ensemble_fraction:
        table = ensembles()
        ens = table[str(rng.choice(sorted(table)))]
        core = [c for c in ens["core"] if c in available]
        options = [c for c in ens["options"] if c in available]
        k = int(rng.integers(0 if core else 1, len(options) + 1)) if options else 0
        chosen = (core + rng.permutation(options)[:k].tolist())[: min(ens["max"], cfg.max_instruments)]
        if chosen:
            return sorted(chosen)
    sizes = np.arange(cfg.min_instruments, cfg.max_instruments + 1)
    weights = np.exp(-0.5 * ((sizes - 3.5) / 1.5) ** 2)
    k = int(min(rng.choice(sizes, p=weights / weights.sum()), len(available)))
    return sorted(rng.choice(available, size=k, replace=False).tolist())


@dataclass(frozen=True)
class RenderGenerator:
    """Picklable clip factory for one split; ``__call__(chunk, indices)`` yields clips."""

    cfg: RenderConfig
    seed: int
    prefix: str = "r"

    def classes(self) -> list[str]:
        return list(self.cfg.classes) or list(load_map())

    def __call__(self, chunk: int, indices: list[int]) -> Iterator[Clip]:
        rng = np.random.default_rng([self.seed, chunk])
        imap = load_map()
        classes = self.classes()
        sf_paths = [find_soundfont(s) for s in self.cfg.soundfonts]
        sf_index = rng.integers(0, len(sf_paths))  # one SoundFont per chunk: loaded once, fresh state
        sf_path = sf_paths[sf_index]
        renderer = Renderer(sf_path, self.cfg.sr)
        presets = {c: [(renderer, p) for p in class_presets(sf_path, imap[c], self.cfg.variation_banks)] for c in classes}
        kits = [Renderer(find_soundfont(s), self.cfg.sr) for s in self.cfg.drum_soundfonts]
        for kit in kits:  # a recorded kit is one preset at bank 0, program 0, keyed like GM drums
            for c in classes:
                if imap[c].is_drum:
                    presets[c].append((kit, Preset(0, 0, kit.soundfont.stem)))
        pools = by_class(self.cfg.samples)
        available = [c for c in classes if presets[c] or (c in pools and self.cfg.sample_fraction > 0)]
        cache: dict[str, np.ndarray] = {}
        try:
            for i in indices:
                yield self._clip(i, rng, imap, classes, available, presets, pools, cache, sf_path)
        finally:
            for r in [renderer, *kits]:
                r.close()

    def _clip(self, i: int, rng: np.random.Generator, imap: dict[str, InstrumentClass], classes: list[str],
              available: list[str], presets: dict[str, list[tuple[Renderer, Preset]]],
              pools: dict[str, tuple[str, ...]], cache: dict[str, np.ndarray], sf_path: Path) -> Clip:
        cfg = self.cfg
        chosen = _choose_classes(rng, available, cfg)
        piece = P.random_piece(rng)
        corpus_src = ""
        melodic = [c for c in chosen if not imap[c].is_drum and "percussion_pitched" not in imap[c].roles]
        corpus_parts: list[P.Part] = []
        if cfg.corpus_pieces and melodic and rng.random() < cfg.corpus_fraction:
            path = cfg.corpus_pieces[int(rng.integers(0, len(cfg.corpus_pieces)))]
            corpus_parts = _corpus_window(path, rng, cfg.seconds)
            corpus_src = Path(path).name if corpus_parts else ""
        stems: dict[str, np.ndarray] = {}
        used_presets = {}
        drum_part = P.procedural_part("percussion", piece, rng, cfg.seconds) if {"drums", "cymbals"} & set(chosen) else None
        for c in chosen:
            ic = imap[c]
            if c in pools and (not presets[c] or rng.random() < cfg.sample_fraction):
                stems[c] = sample_stem(rng, pools[c], cfg.seconds, cfg.sr, cache, sparse=cfg.sample_sparse,
                                       shift=cfg.sample_shift)
                used_presets[c] = "recorded"
                continue
            renderer, preset = presets[c][int(rng.integers(0, len(presets[c])))]
            used_presets[c] = preset.name
            if cfg.preset_isolated and rng.random() < cfg.preset_isolated:
                part = P.isolated_notes(rng, cfg.seconds, ic.drum_notes or ic.range, ic.is_drum, cfg.sample_sparse)
            elif ic.is_drum:
                kit, cym = P.drum_split(drum_part, imap["cymbals"].drum_notes)
                part = cym if c == "cymbals" else kit
            elif corpus_parts and c in melodic:
                part = corpus_parts[melodic.index(c) % len(corpus_parts)].transposed(*ic.range)
            else:
                role = str(rng.choice([r for r in ic.roles if r in P.WRITERS]))
                part = P.procedural_part(role, piece, rng, cfg.seconds).transposed(*ic.range)
            if part.notes:
                notes, controls = part.notes, []
                if cfg.performance is not None:
                    notes, controls = perform(notes, rng, cfg.seconds, cfg.performance, ic.range, ic.is_drum)
                stems[c] = renderer.render(notes, preset, cfg.seconds, controls)
        n = int(round(cfg.seconds * cfg.sr))
        if not stems:
            stems = {chosen[0]: np.zeros(n, np.float32)}
        if pools.get("") and rng.random() < cfg.distractor_fraction:
            stems[DISTRACTOR] = sample_stem(rng, pools[""], cfg.seconds, cfg.sr, cache, sparse=cfg.sample_sparse,
                                            shift=cfg.sample_shift)
        if cfg.acoustics is not None:
            stems = A.place(stems, cfg.sr, rng, cfg.acoustics)
        audio, scales = mix(stems, rng, cfg.mix)
        act, present = activity(stems, scales, audio, classes, cfg.mix, cfg.sr)
        if cfg.acoustics is not None:
            audio = A.master(audio, cfg.sr, rng, cfg.acoustics)
        meta = {"generator": "render", "soundfont": sf_path.stem, "source": corpus_src or "procedural",
                "instruments": ";".join(chosen), "presets": ";".join(f"{k}={v}" for k, v in used_presets.items())}
        kept = {k: v * scales[k] for k, v in stems.items()} if cfg.keep_stems else None
        return Clip(f"{self.prefix}{i:06d}", audio, act, present, meta, kept)


def _corpus_window(path: str, rng: np.random.Generator, seconds: float) -> list[P.Part]:
    """A random ``seconds`` window of a corpus piece, keeping only parts that sound in it."""
    try:
        parts = P.corpus_parts(path, rng)
    except Exception:  # a score music21 cannot read: fall back to procedural material
        return []
    end = max((n.start + n.duration for p in parts for n in p.notes), default=0.0)
    start = float(rng.uniform(0, max(0.0, end - seconds)))
    windows = [p.window(start, seconds) for p in parts]
    return [w for w in windows if w.notes]
