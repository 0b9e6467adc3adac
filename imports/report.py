"""The per-row report every import parser returns.

Imports run as a dry run first: the clerk sees every problem with the row and column as the
spreadsheet shows them, fixes the file and uploads again. Only when the report has no errors does
the (separate, all-or-nothing) commit step write anything, so parsers never touch the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """One problem found in the input.

    `row` is the number a person sees in a spreadsheet (header = 1, first data row = 2) or the
    feature index + 1 for GeoJSON; None when the problem concerns the whole file.
    `column` is the header exactly as written in the file (or a GeoJSON property / "geometry").
    `code` is stable (the UI and tests key on it); the messages may be reworded.
    """

    row: int | None
    column: str | None
    code: str
    message_ja: str
    message_en: str
    severity: Severity


def error(row: int | None, column: str | None, code: str, ja: str, en: str) -> ImportIssue:
    return ImportIssue(row, column, code, ja, en, "error")


def warning(row: int | None, column: str | None, code: str, ja: str, en: str) -> ImportIssue:
    return ImportIssue(row, column, code, ja, en, "warning")


@dataclass(slots=True)
class ParseResult(Generic[T]):
    """Records from rows without errors, plus every issue found.

    Errors make the commit refuse the whole file; warnings are shown but do not block.
    `total_rows` counts non-blank data rows (or features) read, with or without errors.
    """

    records: list[T] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    total_rows: int = 0
    encoding: str | None = None  # the text encoding detected for CSV input ("utf-8", "utf-8-sig", "cp932")
    columns: dict[str, str] = field(default_factory=dict)  # CSV: canonical field → its header as written

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

    @property
    def errors(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[ImportIssue]:
        return [i for i in self.issues if i.severity == "warning"]

    def codes(self) -> list[str]:
        """Issue codes in order: handy for tests and logs."""
        return [i.code for i in self.issues]


class FieldError(ValueError):
    """A cell value that cannot be accepted, explained in Japanese (for the clerk) and English."""

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(en)
        self.ja = ja
        self.en = en
