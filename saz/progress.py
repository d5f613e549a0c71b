"""Progress bars on standard error, shared by the CLI and long library calls (rich)."""

from __future__ import annotations

import time
from typing import Iterable, Iterator, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

T = TypeVar("T")
# Messages print as written (no markup, no emoji codes: a file named "[cel][cla]0001.wav" keeps its
# brackets) and are never hard-wrapped, so a piped error line stays one line.
console = Console(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)


def progress_bar(enabled: bool = True) -> Progress:
    """A bar with description, count, elapsed and remaining time, and a free ``info`` field."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TimeRemainingColumn(), TextColumn("{task.fields[info]}"), console=console, transient=False,
        disable=not enabled,
    )


def track(items: Iterable[T], description: str, total: int | None = None, enabled: bool = True) -> Iterator[T]:
    """Iterate ``items`` with a progress bar (none when ``enabled`` is False)."""
    with progress_bar(enabled) as bar:
        task = bar.add_task(description, total=total, info="")
        for item in items:
            yield item
            bar.advance(task)


def log(message: str) -> None:
    """A timestamped line on standard output, flushed: the progress of long scripts run in the background."""
    print(time.strftime("%H:%M:%S"), message, flush=True)
