"""saz: multi-label musical instrument recognition for the world's music."""

__version__ = "0.1.0"
