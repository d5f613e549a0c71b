"""Shared fixtures: the real dataset samples and generated edge-case audio."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parent.parent / "examples"

REAL_FILES = {
    "mp3": FIXTURES / "hamnava/audio/AACPZT.mp3",
    "ogg": FIXTURES / "openmic2018/audio/000/000046_3840.ogg",
    "wav_irmas": FIXTURES / "irmas/IRMAS-TrainingData/cla/[cla][cla]0189__2.wav",
    "wav_medleydb": FIXTURES / "medleydb/Audio/MusicDelta_Beethoven/MusicDelta_Beethoven_MIX.wav",
}


def run_saz(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the saz command line in a subprocess, as a user would."""
    return subprocess.run([sys.executable, "-m", "saz.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def tone(sr: int, seconds: float, freq: float = 440.0, channels: int = 1, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    y = amp * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return y if channels == 1 else np.stack([y] * channels, axis=1)


@pytest.fixture
def edge_cases(tmp_path: Path) -> dict[str, Path]:
    """Generated files: stereo, 8 kHz, 96 kHz, 0.1 s, silence, flac, truncated, text-as-wav."""
    files = {
        "stereo": (tone(22050, 1.0, channels=2), 22050, "wav"),
        "sr8k": (tone(8000, 1.0), 8000, "wav"),
        "sr96k": (tone(96000, 1.0), 96000, "wav"),
        "short": (tone(22050, 0.1), 22050, "wav"),
        "silence": (np.zeros(22050, np.float32), 22050, "wav"),
        "flac": (tone(44100, 1.0), 44100, "flac"),
    }
    out = {}
    for name, (y, sr, ext) in files.items():
        p = tmp_path / f"{name}.{ext}"
        sf.write(p, y, sr)
        out[name] = p
    whole = (tmp_path / "stereo.wav").read_bytes()
    out["truncated"] = tmp_path / "truncated.wav"
    out["truncated"].write_bytes(whole[: len(whole) // 3])
    out["text"] = tmp_path / "notes.wav"
    out["text"].write_text("this is not audio\n")
    out["empty"] = tmp_path / "empty.wav"
    out["empty"].write_bytes(b"")
    out["zero_frames"] = tmp_path / "zero.wav"
    sf.write(out["zero_frames"], np.zeros((0, 1), np.float32), 22050)
    out["unsupported"] = tmp_path / "score.xyz"
    out["unsupported"].write_bytes(b"\x00\x01binary")
    return out


def sample_library(root: Path, sources: dict[str, dict[str, int]], sr: int = 22050) -> Path:
    """A sample library laid out as ``../shared/samples``: ``source/instrument/`` folders of ten
    0.5-s tones each, at the given base frequency per instrument."""
    for source, insts in sources.items():
        for inst, f in insts.items():
            d = root / source / inst
            d.mkdir(parents=True)
            for k in range(10):
                sf.write(d / f"{inst}_{k}.wav", tone(sr, 0.5, f * (1 + 0.05 * k)), sr)
    return root
