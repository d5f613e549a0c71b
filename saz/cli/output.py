"""The two consoles of the command line: results on standard output, messages on standard error."""

from __future__ import annotations

from rich.console import Console

from saz import progress

console = Console()
err = progress.console  # the progress bars' console, so messages and bars do not overwrite each other


def note(label: str, line: str) -> None:
    """A yellow ``label:`` line on standard error (a problem found, a clip skipped)."""
    err.print(f"[yellow]{label}:[/yellow] {line}")
