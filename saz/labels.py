"""The label model: an ordered vocabulary of classes and label matrices over clips.

A label matrix is float32 ``(n_clips, n_classes)``. Values are hard (0/1), soft (annotator
confidence in [0, 1], HamNava) or NaN where the label is unknown (partial labels: OpenMIC,
IRMAS training). Frame-level activity, when a source has it, is ``(n_clips, n_frames,
n_classes)`` with a frame rate stated beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable, Mapping, Sequence

import numpy as np

# Spellings used by the source documents and datasets for the same instrument.
DEFAULT_ALIASES: dict[str, tuple[str, ...]] = {
    "santour": ("santur", "santoor"),
    "singer": ("vocal", "vocals", "voice", "voi", "singing"),
    "voice": ("vocal", "vocals", "singer", "voi", "singing"),
    "kamancheh": ("kamancha", "kamanche"),
    "tonbak": ("tombak", "zarb"),
    "setar": ("sitar_persian",),
    "drums": ("drum", "drum_set", "drumset", "drum set"),
    "saxophone": ("sax",),
    "guitar": ("gac", "gel"),
    "piano": ("pia",),
    "organ": ("org",),
    "violin": ("vio", "fiddle"),
    "cello": ("cel",),
    "clarinet": ("cla",),
    "flute": ("flu",),
    "trumpet": ("tru",),
}


def normalise_name(name: str) -> str:
    """Lower-case, trim and replace spaces/hyphens by underscores."""
    return "_".join(str(name).strip().lower().replace("-", " ").split())


class UnknownClassError(KeyError):
    """A class name that neither the vocabulary nor its aliases know."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Vocabulary:
    """Ordered class names; each name may have aliases that resolve to it."""

    names: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = tuple(normalise_name(n) for n in self.names)
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate class names in vocabulary: {names}")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "aliases", {normalise_name(k): normalise_name(v) for k, v in self.aliases.items()})

    @classmethod
    def from_names(cls, names: Iterable[str], aliases: Mapping[str, Sequence[str]] | None = None) -> "Vocabulary":
        """Build a vocabulary; ``aliases`` maps a name to its other spellings (defaults apply)."""
        names = tuple(normalise_name(n) for n in names)
        table = DEFAULT_ALIASES if aliases is None else aliases
        flat: dict[str, str] = {}
        for canonical, others in table.items():
            canonical = normalise_name(canonical)
            if canonical in names:
                for other in others:
                    other = normalise_name(other)
                    if other not in names:
                        flat.setdefault(other, canonical)
        return cls(names, flat)

    @classmethod
    def from_found(cls, names: Iterable[str]) -> "Vocabulary":
        """Vocabulary of names seen in data, merging spellings of one class (``vocal`` into ``voice``).

        A found name that is an alias of another found name which is a known canonical name
        (a key of :data:`DEFAULT_ALIASES`) is folded into it; the rest keep their spelling.
        """
        found = sorted({normalise_name(n) for n in names})
        folded = {a for n in found for a in map(normalise_name, DEFAULT_ALIASES.get(n, ())) if a in found and a not in DEFAULT_ALIASES}
        return cls.from_names([n for n in found if n not in folded])

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self):
        return iter(self.names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.resolve(name, strict=False) is not None

    def resolve(self, name: str, strict: bool = True) -> str | None:
        """Canonical class name for ``name`` or one of its aliases."""
        key = normalise_name(name)
        if key in self.names:
            return key
        if key in self.aliases:
            return self.aliases[key]
        if strict:
            raise UnknownClassError(f"unknown class '{name}' (known: {', '.join(self.names)})")
        return None

    def index(self, name: str) -> int:
        return self.names.index(self.resolve(name))

    def to_dict(self) -> dict:
        return {"names": list(self.names), "aliases": dict(self.aliases)}

    @classmethod
    def from_dict(cls, d: Mapping) -> "Vocabulary":
        return cls(tuple(d["names"]), dict(d.get("aliases", {})))


class LabelKind(str, Enum):
    HARD = "hard"
    SOFT = "soft"
    PARTIAL = "partial"


def label_kind(y: np.ndarray) -> LabelKind:
    """Classify a label matrix: any NaN -> partial; any value strictly between 0 and 1 -> soft."""
    if np.isnan(y).any():
        return LabelKind.PARTIAL
    if ((y > 0) & (y < 1)).any():
        return LabelKind.SOFT
    return LabelKind.HARD


def validate_labels(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Check shape and range; return the matrix as float32."""
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 2 or y.shape[1] != n_classes:
        raise ValueError(f"label matrix must be (n_clips, {n_classes}), got {y.shape}")
    known = y[~np.isnan(y)]
    if known.size and (known.min() < 0 or known.max() > 1):
        raise ValueError("label values must lie in [0, 1] (or NaN for unknown)")
    return y


def known_mask(y: np.ndarray) -> np.ndarray:
    """Boolean mask of the entries whose label is known."""
    return ~np.isnan(y)


def thresholds_array(threshold: float | Sequence[float] | np.ndarray, n_classes: int) -> np.ndarray:
    """A scalar or per-class threshold, as a float32 vector of length ``n_classes``."""
    t = np.asarray(threshold, dtype=np.float32)
    if t.ndim == 0:
        return np.full(n_classes, float(t), dtype=np.float32)
    if t.shape != (n_classes,):
        raise ValueError(f"expected {n_classes} per-class thresholds, got {t.shape}")
    return t


BINARIZE_RULES = ("ge", "gt")  # a value at the threshold is present ("ge", saz's default) or absent ("gt", HamNava's)


def binarize(y: np.ndarray, threshold: float | Sequence[float] | np.ndarray = 0.5, rule: str = "ge") -> np.ndarray:
    """Hard 0/1 labels: value >= threshold (``rule="ge"``) or > threshold (``"gt"``, as the HamNava
    paper and its shipped ``*_bin`` files binarise soft labels), per class allowed; unknown entries stay NaN."""
    if rule not in BINARIZE_RULES:
        raise ValueError(f"binarize rule must be one of {', '.join(BINARIZE_RULES)}, got {rule!r}")
    y = np.asarray(y, dtype=np.float32)
    t = thresholds_array(threshold, y.shape[-1])
    out = (y > t if rule == "gt" else y >= t).astype(np.float32)
    out[np.isnan(y)] = np.nan
    return out


def names_to_matrix(rows: Sequence[Iterable[str]], vocab: Vocabulary, unknown_as_nan: bool = False) -> np.ndarray:
    """Label matrix from per-clip lists of class names (present=1, rest 0 or NaN)."""
    y = np.full((len(rows), len(vocab)), np.nan if unknown_as_nan else 0.0, dtype=np.float32)
    for i, names in enumerate(rows):
        for n in names:
            y[i, vocab.index(n)] = 1.0
    return y


def matrix_to_names(y: np.ndarray, vocab: Vocabulary, threshold: float | np.ndarray = 0.5) -> list[list[str]]:
    """Per-clip lists of the classes at or above the threshold."""
    b = binarize(y, threshold)
    return [[vocab.names[j] for j in np.flatnonzero(row == 1)] for row in b]


@dataclass
class LabelSet:
    """Labels of a set of clips: the matrix, its vocabulary, and optional frame activity."""

    vocab: Vocabulary
    y: np.ndarray
    activity: np.ndarray | None = None  # (n_clips, n_frames, n_classes)
    frame_rate: float | None = None  # frames per second of ``activity``

    def __post_init__(self) -> None:
        self.y = validate_labels(self.y, len(self.vocab))
        if self.activity is not None:
            a = np.asarray(self.activity, dtype=np.float32)
            if a.ndim != 3 or a.shape[0] != self.y.shape[0] or a.shape[2] != len(self.vocab):
                raise ValueError(f"activity must be (n_clips, n_frames, {len(self.vocab)}), got {a.shape}")
            if self.frame_rate is None:
                raise ValueError("frame_rate is required with activity")
            self.activity = a

    @property
    def kind(self) -> LabelKind:
        return label_kind(self.y)

    @property
    def mask(self) -> np.ndarray:
        return known_mask(self.y)

    def hard(self, threshold: float | np.ndarray = 0.5) -> np.ndarray:
        return binarize(self.y, threshold)

    def subset(self, idx: np.ndarray | Sequence[int]) -> "LabelSet":
        idx = np.asarray(idx)
        act = None if self.activity is None else self.activity[idx]
        return LabelSet(self.vocab, self.y[idx], act, self.frame_rate)
