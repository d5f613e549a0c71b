"""The synthesiser's optional dependencies (``pip install 'saz[synth]'``), imported when first used.

Prediction, training on datasets and scoring never need them, so ``pip install saz`` leaves them
out; generating music does, and says in one line what to install when one is missing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRA = "pip install 'saz[synth]'"


class SynthUnavailable(RuntimeError):
    """A package the synthesiser needs (FluidSynth, music21) is not installed: ``needs`` names it
    and ``install`` is the command that installs it, so a caller (a test's skip) can say both."""

    def __init__(self, needs: str, install: str, detail: str):
        super().__init__(f"{needs} is not available ({detail}); generating music needs it: {install}")
        self.needs, self.install = needs, install


def fluidsynth() -> ModuleType:
    """pyfluidsynth (``saz[synth]``), bound to the FluidSynth library (Debian package ``fluidsynth``)."""
    try:
        return importlib.import_module("fluidsynth")
    except ModuleNotFoundError as e:
        if e.name != "fluidsynth":
            raise
        raise SynthUnavailable("pyfluidsynth", EXTRA, str(e)) from None
    except (ImportError, OSError) as e:  # pyfluidsynth is there, the C library it loads is not
        raise SynthUnavailable("FluidSynth", "apt-get install fluidsynth", str(e)) from None


def music21(submodule: str) -> ModuleType:
    """A submodule of music21 (its corpus of scores and their parser)."""
    try:
        return importlib.import_module(f"music21.{submodule}")
    except ImportError as e:
        raise SynthUnavailable("music21", EXTRA, str(e)) from None
