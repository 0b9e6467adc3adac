"""Log lines: one JSON object per line, UTF-8 as is, carrying the request id (server/core/logging.py)."""

from __future__ import annotations

import io
import json
import sys
import uuid

import structlog

from server.core.logging import configure


def _lines(monkeypatch, emit) -> list[dict]:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    monkeypatch.setattr(sys, "stderr", stream)
    try:
        configure("INFO", "json")
        emit(structlog.get_logger("tonari.test"))
        stream.flush()
        text = raw.getvalue().decode("utf-8")
    finally:
        structlog.contextvars.clear_contextvars()
        monkeypatch.undo()
        configure("INFO", "json")  # back on the real stderr for the tests after this one
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_a_line_is_json_with_the_request_id_and_japanese_as_is(monkeypatch) -> None:
    user = uuid.uuid4()

    def emit(log) -> None:
        structlog.contextvars.bind_contextvars(request_id="req-12345678")
        log.info("request", path="/api/households", user=user, note="笠間市", odd=object())
        log.debug("hidden")  # below the level: not written

    [line] = _lines(monkeypatch, emit)
    assert line["event"] == "request" and line["level"] == "info" and line["request_id"] == "req-12345678"
    assert line["user"] == str(user) and line["note"] == "笠間市" and line["odd"].startswith("<object")
    assert line["timestamp"].endswith("Z")


def test_an_exception_is_rendered_without_local_variables(monkeypatch) -> None:
    def emit(log) -> None:
        secret = "password-123"  # noqa: F841  (a local that must not reach the log)
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")

    [line] = _lines(monkeypatch, emit)
    assert line["event"] == "failed" and line["exception"][0]["exc_type"] == "ValueError"
    assert "password-123" not in json.dumps(line)


def test_a_text_only_stderr_still_gets_json_lines(monkeypatch) -> None:
    stream = io.StringIO()  # no binary buffer underneath (some embedding hosts and test runners)
    monkeypatch.setattr(sys, "stderr", stream)
    try:
        configure("INFO", "json")
        structlog.get_logger("tonari.test").warning("slow", ms=12.5, place="友部")
    finally:
        monkeypatch.undo()
        configure("INFO", "json")
    [line] = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert (line["event"], line["level"], line["ms"], line["place"]) == ("slow", "warning", 12.5, "友部")
