"""Named generalisation levers and the render recipes built from them.

One place decides what each lever switches on, so ``saz synth render --lever``, ``saz train
--fresh`` and ``benchmarks/generalisation.py`` mean the same thing by the same word:

- ``timbres``: csound's GM bank beside FluidR3_GM and MuseScore_General, every variation bank
  and drum kit, two recorded drum-kit SoundFonts (avldrums), real recordings (the training side
  of a ``<source>/<instrument>`` library such as ../shared/samples, npm ``tonejs-instrument-*``
  packages, Hydrogen drum kits, Sonic Pi)
  for 40 % of the stems they cover (30 % of those as one or two recordings alone in silence),
  and unlabelled real distractor sounds in 30 % of clips;
- ``performance``: :class:`saz.synth.performance.PerformanceConfig` defaults;
- ``acoustics``: :class:`saz.synth.acoustics.AcousticsConfig` defaults (rooms to lossy media);
- ``ensembles``: half the clips take a real instrumentation (``saz/data/ensembles.toml``).

TimGM6mb is never part of a recipe: it is saz-bench v1's unseen test timbre.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

from saz.synth.acoustics import AcousticsConfig
from saz.vocabulary import load_map
from saz.synth.performance import PerformanceConfig
from saz.synth.corpus import build_split
from saz.synth.render import RenderConfig, RenderGenerator, corpus_pieces
from saz.synth.sources import debian_pool, real_pool

LEVERS = ("timbres", "performance", "acoustics", "ensembles")
BASE_SOUNDFONTS = ("FluidR3_GM", "MuseScore_General")
RECIPE_SEED = 20261126  # the seed the default's corpora are rendered with


def parse_levers(text: str | Iterable[str]) -> tuple[str, ...]:
    """'all', 'base'/'none', or lever names (comma-separated or a list), validated."""
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    if items in (["all"],):
        return LEVERS
    if items in (["base"], ["none"], []):
        return ()
    unknown = [t for t in items if t not in LEVERS]
    if unknown:
        raise ValueError(f"unknown lever(s) {', '.join(unknown)} (choose from {', '.join(LEVERS)}, or all)")
    return tuple(t for t in LEVERS if t in items)


Samples = str | Path | Sequence[str | Path] | None


def lever_options(lever: str, samples: Samples = None) -> dict:
    """RenderConfig options that switch ``lever`` on (``samples``: real sample libraries or npm
    instrument packages, see :func:`saz.synth.sources.real_pool`)."""
    if lever == "timbres":
        pool = real_pool(samples, list(load_map())) if samples else []
        return {"soundfonts": (*BASE_SOUNDFONTS, "sf_GMbank"), "variation_banks": True,
                "drum_soundfonts": ("Black_Pearl_4_LV2", "Red_Zeppelin_4_LV2"),
                "samples": tuple(pool + debian_pool()), "sample_fraction": 0.4, "sample_sparse": 0.3,
                "distractor_fraction": 0.3}
    if lever == "performance":
        return {"performance": PerformanceConfig()}
    if lever == "acoustics":
        return {"acoustics": AcousticsConfig()}
    if lever == "ensembles":
        return {"ensemble_fraction": 0.5}
    raise ValueError(f"unknown lever '{lever}' (choose from {', '.join(LEVERS)})")


def recipe(levers: Iterable[str], samples: Samples = None, seed: int = 0, **options) -> RenderConfig:
    """A render config with ``levers`` on, on the music21 'train' pieces of ``seed``."""
    return render_config(levers, samples, seed, base={"soundfonts": BASE_SOUNDFONTS, "corpus_fraction": 0.3},
                         overrides=options)


def render_config(levers: Iterable[str] = (), samples: Samples = None, seed: int = 0, *, base: dict | None = None,
                  overrides: dict | None = None, soundfonts: Sequence[str] = (), pieces: str = "train") -> RenderConfig:
    """A render config: the ``base`` settings, the ``levers`` over them, the ``overrides`` over both.

    Its SoundFonts are ``soundfonts`` followed by those the settings name; its corpus pieces the
    music21 ``pieces`` set ('train' or 'test') of ``seed``, none when ``base`` draws no clip from
    the corpus (``corpus_fraction`` 0), unless a setting names them.
    """
    opts = dict(base or {})
    if "corpus_pieces" not in opts:
        drawn = opts.get("corpus_fraction", RenderConfig.corpus_fraction) > 0
        opts["corpus_pieces"] = corpus_pieces(pieces, seed) if drawn else ()
    for lever in levers:
        opts.update(lever_options(lever, samples))
    opts.update(overrides or {})
    if soundfonts:
        opts["soundfonts"] = tuple(dict.fromkeys([*soundfonts, *opts.get("soundfonts", ())]))
    return RenderConfig(**opts)


def build_corpus(cfg: RenderConfig, out: str | Path, n_train: int, workers: int = 1, seed: int = RECIPE_SEED) -> Path:
    """Render a recipe's corpus under ``out``: ``n_train`` training clips and a fifth as many for
    validation, in saz-bench's layout (resumable, :func:`saz.synth.corpus.build_split`)."""
    classes = list(load_map())
    for split, n, s in (("train", n_train, seed), ("validation", n_train // 5, seed + 1)):
        build_split(RenderGenerator(cfg, s, prefix=split[:2]), Path(out), split, n, classes, cfg.sr, 100, workers)
    return Path(out)


def timbre_sources(cfg: RenderConfig) -> dict[str, dict[str, int]]:
    """Per class: SoundFont presets a recipe can draw (over its SoundFonts, variation banks and
    drum-kit SoundFonts), real recordings, and distinct real sources (libraries, kits)."""
    from saz.synth.instruments import class_presets
    from saz.synth.soundfont import find_soundfont

    imap = load_map()
    out = {}
    for name, cls in imap.items():
        presets = sum(len(class_presets(find_soundfont(f), cls, cfg.variation_banks)) for f in cfg.soundfonts)
        presets += len(cfg.drum_soundfonts) if cls.is_drum else 0
        recorded = [(p, s) for p, c, s in cfg.samples if c == name]
        out[name] = {"presets": presets, "recordings": len(recorded), "sources": len({s for _, s in recorded})}
    return out
