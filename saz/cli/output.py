"""The two consoles of the command line: results on standard output, messages on standard error.

Neither reads markup or emoji codes in what it prints, so file names and other user strings
print as written (``[cel][cla]0001__1.wav``, ``a[/x].wav``); a styled label is a
:class:`rich.text.Text` built by the helpers here. Messages are never hard-wrapped.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from saz import progress

console = Console(markup=False, emoji=False)
err = progress.console  # the progress bars' console, so messages and bars do not overwrite each other


def labelled(label: str, style: str, line: str) -> None:
    """``label:`` in ``style``, then ``line`` as written, on standard error."""
    err.print(Text.assemble((f"{label}:", style), " ", line))


def note(label: str, line: str) -> None:
    """A yellow ``label:`` line on standard error (a problem found, a clip skipped)."""
    labelled(label, "yellow", line)


def failed(line: str) -> None:
    """A red ``failed:`` line on standard error: one input could not be used, the others go on."""
    labelled("failed", "red", line)


def heading(title: str, rest: str) -> None:
    """``title`` in bold, then ``rest``, on standard output."""
    console.print(Text.assemble((title, "bold"), " ", rest))
