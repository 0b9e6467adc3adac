"""The one input normaliser: what no request may carry, refused before any handler reads it.

- NUL (U+0000) and unpaired surrogates, in a query, a path, a JSON string (value or key) or a form
  field: PostgreSQL can store neither (text, jsonb) and a driver cannot even encode the latter.
  Refused with a field error naming where it was.
- JSON nested deeper than `MAX_JSON_DEPTH` (every body we accept is at most six levels deep).
- A multipart text part that is not text in its charset (e.g. a file sent without a filename).

Everything here is checked on the raw bytes first, with C-speed scans (`bytes.find`,
`bytes.translate`); the exact (slow) walk that names a field runs only for a request that has
something to refuse. Costs are measured in decision 0016.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.handlers import BaseRouteHandler
from litestar.serialization import decode_json
from litestar.types import Empty, Scope
from multipart import MultipartSegment, ParserError, PushMultipartParser

from server.core.problems import FieldError, Problem

MAX_JSON_DEPTH = 32

_BAD_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
# A JSON escape of NUL or of a surrogate (a valid pair is let through by the exact check).
_BAD_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_KEEP_BRACKETS_AND_QUOTES = bytes(b for b in range(256) if b not in b'[]{}"')
_CURLY_TO_SQUARE = bytes.maketrans(b"{}", b"[]")


def _bad_character(field: str) -> FieldError:
    return FieldError(field, "invalid_character")


def _escape(text: str) -> str:
    """A name that holds a bad character itself, printable in the problem document."""
    return _BAD_CHARACTERS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _walk(value: Any, path: str, found: list[FieldError]) -> None:
    if isinstance(value, str):
        if _BAD_CHARACTERS.search(value):
            found.append(_bad_character(path or "body"))
    elif isinstance(value, dict):
        for key, item in value.items():
            key = str(key)
            name = f"{path}.{_escape(key)}" if path else _escape(key)
            if _BAD_CHARACTERS.search(key):
                found.append(_bad_character(name))
            _walk(item, name, found)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", found)


def bad_characters(value: Any) -> list[FieldError]:
    """Field errors for every string (and key) of a decoded value that holds NUL or a surrogate."""
    found: list[FieldError] = []
    _walk(value, "", found)
    return found


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests arrays/objects deeper than `limit`, without decoding it: keep the
    brackets and quotes, drop the strings, then peel the innermost pairs `limit` times."""
    if b"\\" in body:  # escaped quotes and backslashes must not be taken for string ends
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    shape = body.translate(_CURLY_TO_SQUARE, _KEEP_BRACKETS_AND_QUOTES)
    if shape.count(b"[") <= limit:
        return False
    shape = b"".join(shape.split(b'"')[::2])  # what lies between quote pairs was a string
    for _ in range(limit):
        if not shape:
            return False
        shape = shape.replace(b"[]", b"")
    return bool(shape)


def check_json(body: bytes) -> None:
    """Refuse a JSON body that nests too deep, or holds NUL or an unpaired surrogate anywhere."""
    if json_too_deep(body):
        raise Problem("json_too_deep")
    if b"\\" in body and _BAD_ESCAPE.search(body):
        # Python's json keeps NUL and lone surrogates (msgspec refuses the latter as malformed):
        # decode with it only to name the fields. Malformed JSON is left to the real decoder.
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):
            return
        errors = bad_characters(decoded)
        if errors:
            raise Problem("validation_failed", errors=errors)


def check_url(scope: Scope) -> None:
    """Refuse NUL in the path or the query string (percent-encoded or not). Invalid UTF-8 in a query
    is decoded to U+FFFD by the framework, so no surrogate can come from there."""
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace")
        errors = [_bad_character(_escape(name)) for name, value in pairs if "\x00" in name or "\x00" in value]
        raise Problem("validation_failed", errors=errors or [_bad_character("query")])
    if "\x00" in scope.get("path", ""):
        raise Problem("validation_failed", errors=[_bad_character("path")])


def _text_parts_not_text(body: bytes, boundary: bytes) -> list[str]:
    """Names of the parts without a filename whose bytes do not decode in their charset."""
    names: list[str] = []
    segment: MultipartSegment | None = None
    data = bytearray()
    try:
        with PushMultipartParser(boundary) as parser:
            for part in parser.parse(body):
                if isinstance(part, MultipartSegment):
                    segment, data = part, bytearray()
                elif part:
                    data.extend(part)
                elif segment is not None:
                    if not segment.filename:
                        try:
                            bytes(data).decode(segment.charset or "utf-8")
                        except (UnicodeDecodeError, LookupError):
                            names.append(_escape(segment.name or "form"))
                    segment = None
    except ParserError:
        pass
    return names


def check_json_upload(field: str, content: bytes) -> None:
    """An uploaded JSON file (GeoJSON) is held to the body's rule: no escaped NUL or unpaired
    surrogate, no nesting deeper than GeoJSON needs. The errors name the upload's field and, after
    a colon, the place inside the file. (A raw NUL is invalid JSON, and the CSV reader refuses
    NUL itself, in its per-file report.)"""
    try:
        check_json(content)
    except Problem as problem:
        errors = [FieldError(f"{field}:{e.field}", e.code) for e in problem.errors]
        raise Problem("validation_failed", errors=errors or [FieldError(field, "too_deep")]) from problem


# A route whose body is a list of items, each judged alone (the field app's sync push): the
# normaliser leaves NUL and unpaired surrogates in the decoded items for the handler to refuse item
# by item, so one bad item never fails the others (issue #16). The depth limit still holds.
ITEMS_JUDGED_ALONE = "tonari_items_judged_alone"


def decode_keeping_bad_characters(body: bytes) -> Any:
    """JSON that may hold escaped lone surrogates (which msgspec refuses as malformed) or NUL."""
    try:
        return decode_json(body or b"null")
    except Exception:
        if b"\\" not in body or not _BAD_ESCAPE.search(body):
            raise
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise Problem("invalid_json") from exc


class TonariRequest(Request[Any, Any, Any]):
    """Litestar's request with the normaliser on its body decoders."""

    async def json(self) -> Any:
        if self._json is Empty:
            if (cached := self._connection_state.json) is not Empty:
                self._json = cached
            else:
                body = await self.body()
                if self.route_handler.opt.get(ITEMS_JUDGED_ALONE):
                    # an item nested too deep is the handler's to refuse; a body past twice the
                    # limit is no phone's queue, and is refused whole before it is decoded
                    if json_too_deep(body, 2 * MAX_JSON_DEPTH):
                        raise Problem("json_too_deep")
                    self._json = self._connection_state.json = decode_keeping_bad_characters(body)
                    return self._json
                check_json(body)
                self._json = self._connection_state.json = decode_json(
                    body or b"null", type_decoders=self.route_handler.resolve_type_decoders()
                )
        return self._json

    async def form(self) -> Any:
        if self._form is not Empty or self._connection_state.form is not Empty:
            return await super().form()
        content_type, options = self.content_type
        body = await self.body() if content_type == RequestEncodingType.MULTI_PART else b""
        try:
            form = await super().form()
        except (UnicodeDecodeError, LookupError) as exc:
            names = _text_parts_not_text(body, options.get("boundary", "").encode()) or ["form"]
            raise Problem("validation_failed", errors=[FieldError(name, "not_text") for name in names]) from exc
        errors = [
            e for name, value in form.multi_items() if isinstance(value, str) for e in bad_characters({name: value})
        ]
        if errors:
            raise Problem("validation_failed", errors=errors)
        return form


async def parse_form_first(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Not an access check: parses a form body through the normaliser (`TonariRequest.form`) before
    Litestar's multipart extractor, which decodes text parts itself and would raise on bad bytes.
    Put it after the access guards of every route that takes a form."""
    if isinstance(connection, Request):
        await connection.form()
