"""The files a command reads: named files as named (a bad one is reported when it is read) and
the audio files of named folders, each folder scan saying in one line what it skipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from saz.cli.output import failed, note

if TYPE_CHECKING:
    from saz.audio import Scan

SHOWN = 3  # skipped files named in a scan's line


class ScanReport:
    """Reports each folder scan (``on_scan`` of :func:`saz.audio.find_audio`): one line for the files
    it skipped, a failure line for a folder without audio files; counts those folders."""

    def __init__(self) -> None:
        self.empty = 0

    def __call__(self, scan: Scan) -> None:
        if scan.skipped:
            names = [str(p.relative_to(scan.folder)) for p in scan.skipped[:SHOWN]]
            more = len(scan.skipped) - SHOWN
            note("skipped", f"{scan.folder}: {len(scan.skipped)} file(s) not named as audio: "
                            f"{', '.join(names)}{f' and {more} more' if more > 0 else ''}")
        if not scan.files:
            self.empty += 1
            failed(f"{scan.folder}: no audio files found in this folder")
