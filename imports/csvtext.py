"""Turning uploaded CSV bytes into numbered rows, the way Japanese offices actually save them.

Municipal systems and Excel on Japanese Windows write Shift_JIS (really CP932, which adds NEC and
IBM extensions such as ① and ㈱); newer tools write UTF-8, often with a BOM. We try UTF-8 strictly
first because CP932 decoding of UTF-8 Japanese text almost always fails, while the reverse can
silently produce garbage.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from imports.report import ImportIssue, ParseResult, error, warning

_WS = re.compile(r"[\s\u3000\u00a0\ufeff]+")
_PAREN = re.compile(r"[(（][^)）]*[)）]")
_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.S)


def decode_csv_bytes(data: bytes) -> tuple[str, str] | ImportIssue:
    """Return (text, encoding name) or one `bad_encoding` issue for the whole file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return error(
            None,
            None,
            "bad_encoding",
            "ファイルがUTF-16（Excelの「Unicodeテキスト」）で保存されています。"
            "「CSV UTF-8（コンマ区切り）」または「CSV（コンマ区切り）」で保存し直してください。",
            "The file is UTF-16 (Excel 'Unicode text'); save it as 'CSV UTF-8' or 'CSV (comma delimited)'.",
        )
    try:
        return data.decode("utf-8-sig"), ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError:
        pass
    return error(
        None,
        None,
        "bad_encoding",
        "文字コードを判別できません。UTF-8 または Shift_JIS（CP932）のCSVで保存し直してください。",
        "The text encoding is neither UTF-8 nor Shift_JIS/CP932; save the file as CSV in one of them.",
    )


def read_rows(text: str) -> Iterator[tuple[int, list[str]]] | ImportIssue:
    """Yield (spreadsheet row number, cells), skipping blank rows but keeping their numbers.

    Row numbers count CSV records, not text lines, so a quoted cell holding a line break still
    occupies one row, as it does when the file is opened in Excel.
    """
    if "\x00" in text:
        return error(
            None,
            None,
            "bad_encoding",
            "ファイルにNUL文字が含まれています。CSVではない（Excelの.xlsxなど）可能性があります。",
            "The file contains NUL bytes; it is probably not a CSV file (e.g. an .xlsx workbook).",
        )
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:  # e.g. a quote that is never closed
        return error(
            None,
            None,
            "bad_csv",
            f'CSVとして読めません（{exc}）。引用符（"）の閉じ忘れがないか確認してください。',
            f"The file cannot be read as CSV ({exc}); check for an unclosed quote.",
        )
    return ((n, cells) for n, cells in enumerate(rows, start=1) if any(clean_cell(c) for c in cells))


def csv_rows(data: bytes, result: ParseResult[Any]) -> list[tuple[int, list[str]]] | None:
    """The file's numbered non-blank rows, its encoding noted on `result`; None (the reason added to
    `result.issues`) when the bytes are not readable CSV or hold no rows."""
    decoded = decode_csv_bytes(data)
    if isinstance(decoded, ImportIssue):
        result.issues.append(decoded)
        return None
    text, result.encoding = decoded
    rows_or_issue = read_rows(text)
    if isinstance(rows_or_issue, ImportIssue):
        result.issues.append(rows_or_issue)
        return None
    rows = list(rows_or_issue)
    if not rows:
        result.issues.append(error(None, None, "empty_file", "ファイルにデータがありません。", "The file has no rows."))
        return None
    return rows


def clean_cell(value: str) -> str:
    """Trim ASCII/full-width/no-break spaces and unwrap Excel's ="0296..." text-preserving form."""
    value = value.strip(" \t\r\n\u3000\u00a0\ufeff")
    m = _EXCEL_TEXT.match(value)
    return m.group(1).strip(" \t\r\n\u3000\u00a0") if m else value


def header_key(value: str) -> str:
    """Normalise a header for matching: NFKC, no whitespace at all ('氏　名' == '氏名')."""
    return _WS.sub("", unicodedata.normalize("NFKC", value)).casefold()


def header_key_loose(value: str) -> str:
    """A second chance for headers with a parenthesised note, e.g. '電話番号（自宅）'."""
    return _PAREN.sub("", header_key(value))


def locate_header(
    rows: list[tuple[int, list[str]]], aliases: dict[str, str], *, min_hits: int = 2, search: int = 10
) -> int:
    """Index (into `rows`) of the header row.

    Municipal exports often put a title line such as 「避難行動要支援者名簿（令和6年4月1日現在）」
    above the header; we take the first of the first `search` non-blank rows naming at least
    `min_hits` known columns, else the first row (so the missing-column report names it).
    """
    for i, (_, cells) in enumerate(rows[:search]):
        hits = {aliases.get(header_key(c)) or aliases.get(header_key_loose(c)) for c in cells} - {None}
        if len(hits) >= min_hits:
            return i
    return 0


def map_columns(
    header: list[str], aliases: dict[str, str], row: int
) -> tuple[dict[str, tuple[int, str]], list[ImportIssue]]:
    """Map canonical field → (cell index, header as written); later duplicates are ignored with a warning."""
    found: dict[str, tuple[int, str]] = {}
    issues: list[ImportIssue] = []
    for idx, raw in enumerate(header):
        label = clean_cell(raw)
        fld = aliases.get(header_key(label)) or aliases.get(header_key_loose(label))
        if fld is None:
            continue
        if fld in found:
            first = found[fld][1]
            issues.append(
                warning(
                    row,
                    label,
                    "duplicate_column",
                    f"列「{label}」は列「{first}」と同じ項目とみなされるため、無視します。",
                    f"Column '{label}' means the same as column '{first}' and is ignored.",
                )
            )
            continue
        found[fld] = (idx, label)
    return found, issues
