"""Data files shipped with saz (instrument map)."""
