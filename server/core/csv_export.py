"""The one CSV writer of every export: each cell quoted, and no cell a spreadsheet would run.

OWASP's CSV injection guidance: a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
return is taken by Excel and LibreOffice for a formula (a watcher's visit note `=HYPERLINK(…)` on a
coordinator's screen). Such a cell leaves with a single quote in front, which spreadsheets show as
text; every cell is quoted so a cell's boundaries never move. A plain number (`-12.5`) is not a
formula and leaves as it is. Only the export changes: what is stored stays as it was written.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?\Z")


def cell(value: Any) -> str:
    """A value as the text of one CSV cell, made inert if a spreadsheet would evaluate it."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


class SafeWriter:
    """`csv.writer` with every cell quoted and passed through `cell()`; CRLF line ends (Excel's)."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([cell(v) for v in row])
