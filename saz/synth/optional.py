"""The synthesiser's optional dependencies (``pip install 'saz[synth]'``), imported when first used.

Prediction, training on datasets and scoring never need them, so ``pip install saz`` leaves them
out; generating music does, and says in one line what to install when one is missing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRA = "pip install 'saz[synth]'"


class SynthUnavailable(RuntimeError):
    """A package the synthesiser needs (FluidSynth, music21) is not installed."""


def fluidsynth() -> ModuleType:
    """pyfluidsynth, bound to the FluidSynth library (Debian package ``fluidsynth``)."""
    try:
        return importlib.import_module("fluidsynth")
    except (ImportError, OSError) as e:
        raise SynthUnavailable(f"FluidSynth is not available ({e}); install the Debian package 'fluidsynth' "
                               f"and the Python package 'pyfluidsynth' ({EXTRA})") from None


def music21(submodule: str) -> ModuleType:
    """A submodule of music21 (its corpus of scores and their parser)."""
    try:
        return importlib.import_module(f"music21.{submodule}")
    except ImportError as e:
        raise SynthUnavailable(f"music21 is not installed ({e}); generating music needs it: {EXTRA}") from None
