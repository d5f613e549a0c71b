"""Batched spectral building blocks in PyTorch, matching librosa's definitions.

Every function takes a batch ``(n, samples)`` or ``(n, freq, frames)`` tensor, so a whole
batch of clips is transformed in one call. The test-suite checks each against librosa.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F


def _hann(n_fft: int) -> torch.Tensor:
    return torch.hann_window(n_fft, periodic=True, dtype=torch.float32)


def stft(y: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """Complex STFT ``(n, 1 + n_fft//2, frames)``, centred with zero padding (librosa default)."""
    return torch.stft(
        y, n_fft=n_fft, hop_length=hop, window=_hann(n_fft), center=True, pad_mode="constant", return_complex=True
    )


def istft(S: torch.Tensor, n_fft: int, hop: int, length: int) -> torch.Tensor:
    """Inverse of :func:`stft` with window-sum normalisation."""
    return torch.istft(S, n_fft=n_fft, hop_length=hop, window=_hann(n_fft), center=True, length=length)


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, f / f_sp)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


@lru_cache(maxsize=32)
def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> torch.Tensor:
    """Slaney-normalised triangular mel filters ``(n_mels, 1 + n_fft//2)`` as in librosa."""
    fmax = sr / 2 if fmax is None else fmax
    fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return torch.from_numpy(weights.astype(np.float32))


def power_to_db(S: torch.Tensor, amin: float = 1e-10, top_db: float | None = 80.0) -> torch.Tensor:
    """10*log10(S) with ref 1.0; with ``top_db`` each item is floored at its own max - top_db."""
    db = 10.0 * torch.log10(torch.clamp(S, min=amin))
    if top_db is not None:
        peak = db.amax(dim=tuple(range(1, db.ndim)), keepdim=True)
        db = torch.maximum(db, peak - top_db)
    return db


@lru_cache(maxsize=8)
def dct_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """Orthonormal DCT-II basis ``(n_out, n_in)`` (scipy.fft.dct type 2, norm='ortho')."""
    n = np.arange(n_in)
    k = np.arange(n_out)[:, None]
    basis = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[0] /= np.sqrt(2.0)
    return torch.from_numpy(basis.astype(np.float32))


def frames(y: torch.Tensor, frame_length: int, hop: int, pad_mode: str) -> torch.Tensor:
    """Centred frames ``(n, n_frames, frame_length)``; pad_mode 'constant' or 'edge'."""
    pad = frame_length // 2
    if pad_mode == "edge":
        y = torch.cat([y[:, :1].expand(-1, pad), y, y[:, -1:].expand(-1, pad)], dim=1)
    else:
        y = F.pad(y, (pad, pad))
    return y.unfold(1, frame_length, hop)


def median_filter(x: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    """Median over a window of ``size`` along ``dim`` with symmetric edges (scipy 'reflect').

    numpy's introselect (``np.partition``) on a sliding-window view is exact and several times
    faster than sorting every window in torch; it is the hot spot of HPSS.
    """
    half = size // 2
    a = np.moveaxis(x.detach().cpu().numpy(), dim, -1)
    pad = [(0, 0)] * (a.ndim - 1) + [(half, half)]
    padded = np.pad(a, pad, mode="symmetric")
    rows = padded.reshape(-1, padded.shape[-1])
    med = np.empty((rows.shape[0], a.shape[-1]), dtype=a.dtype)
    step = max(1, (1 << 18) // (size * a.shape[-1]))  # rows per chunk: the window copy stays in cache
    for i in range(0, rows.shape[0], step):
        windows = np.lib.stride_tricks.sliding_window_view(rows[i:i + step], size, axis=-1)
        med[i:i + step] = np.partition(windows, half, axis=-1)[..., half]
    med = med.reshape(a.shape)
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(med, -1, dim))).to(x.dtype)


def hpss_harmonic_mask(mag: torch.Tensor, kernel: int = 31, power: float = 2.0) -> torch.Tensor:
    """Soft harmonic mask of librosa.decompose.hpss for magnitudes ``(n, freq, frames)``."""
    harm = median_filter(mag, kernel, dim=-1)
    perc = median_filter(mag, kernel, dim=-2)
    hp, pp = harm**power, perc**power
    total = hp + pp
    return torch.where(total > 0, hp / torch.where(total > 0, total, torch.ones_like(total)), torch.zeros_like(total))
