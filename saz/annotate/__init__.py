"""``saz annotate``: HamNava's crowd-annotation workflow (hamnava-dataset-paper.txt section 2) as a
self-hosted web app on a real database.

:mod:`~saz.annotate.db` holds the tables and runs the shipped Alembic migrations,
:mod:`~saz.annotate.project` creates a project from excerpts (or cuts them from full tracks),
:mod:`~saz.annotate.judging` records judgments under the dynamic stopping rule,
:mod:`~saz.annotate.results` exports soft labels in HamNava's CSV format and computes the
dashboard's numbers, :mod:`~saz.annotate.app` is the FastAPI app.
"""
