"""Each source document reproducible as written: ``saz reproduce`` (:mod:`saz.reproduce.pipeline`).

A document's setting is data (``saz/data/reproduce/<document>.toml``) and so are its published
numbers (``saz/data/papers/<document>.toml``, with their table and section or page); the
pipeline prepares the data, trains and scores the runs with saz's library, and writes each
table beside the published one.
"""

from saz.reproduce.pipeline import Reproduction, reproduce
from saz.reproduce.settings import BUDGETS, DOCUMENTS

__all__ = ["BUDGETS", "DOCUMENTS", "Reproduction", "reproduce"]
