"""A lean HTTP/1.1 keep-alive client for the load generators (one connection per simulated device).

Why: the client shares the server's two cores. httpx spends ~1.8 ms of CPU per request here
(measured: 16 % of the machine at 181 requests/s), so at the 1,000 visits/s the ingest target
asks for, the load generator alone would need most of a core and the benchmark would measure
the client. This one writes a prepared request and parses the response with httptools (the C
parser uvicorn itself uses): tens of microseconds per request. It speaks exactly what the
benchmarks need: requests with a Content-Length body, responses with Content-Length or chunked
bodies, keep-alive, and one transparent reconnect when the server closed an idle connection
before reading the request (visits are idempotent by client_id, so a resend is safe).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httptools


class ConnectionLost(Exception):
    """The server closed the connection before a complete response."""


@dataclass
class Response:
    status_code: int
    content: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Response] | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self._body: list[bytes] = []
        self._headers: list[tuple[bytes, bytes]] = []
        self._got_bytes = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionLost("closed before a complete response" if self._got_bytes else "closed before any answer"))

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._body, self._headers = [], []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        self._got_bytes = False
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(self.parser.get_status_code(), b"".join(self._body), self._headers))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class LiteClient:
    """One keep-alive connection to `base_url`, one request at a time (like a phone's app)."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None, timeout: float = 30.0) -> None:
        u = urlsplit(base_url)
        if u.scheme != "http" or not u.hostname:
            raise ValueError(f"only plain http URLs: {base_url}")
        self.host, self.port = u.hostname, u.port or 80
        self.timeout = timeout
        fixed = {"Host": f"{self.host}:{self.port}", "Connection": "keep-alive", **(headers or {})}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode("latin-1")
        self._proto: _Protocol | None = None
        self.reconnects = 0

    @classmethod
    def signed_in_as(cls, base_url: str, httpx_client: Any, csrf: str | None = None) -> LiteClient:
        """A lean connection carrying a signed-in httpx client's cookies (and the CSRF token to
        echo on writes): the same session, without httpx's cost per request."""
        cookies = "; ".join(f"{c.name}={c.value}" for c in httpx_client.cookies.jar)
        headers = {"Cookie": cookies, **({"X-CSRF-Token": csrf} if csrf else {})}
        return cls(str(base_url), headers=headers)

    def build(self, method: str, path: str, body: bytes = b"", content_type: str = "application/json") -> bytes:
        """The request's bytes, prepared once (outside the timed part if the caller wishes)."""
        head = f"{method} {path} HTTP/1.1\r\n".encode("latin-1") + self._fixed
        if body or method in ("POST", "PUT", "PATCH"):
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n".encode("latin-1")
        return head + b"\r\n" + body

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(_Protocol, self.host, self.port)
        return proto

    async def send(self, raw: bytes) -> Response:
        for attempt in (0, 1):
            if self._proto is None or self._proto.closed:
                self._proto = await self._connect()
            proto = self._proto
            proto.waiter = asyncio.get_running_loop().create_future()
            proto.transport.write(raw)  # type: ignore[union-attr]
            try:
                return await asyncio.wait_for(proto.waiter, self.timeout)
            except ConnectionLost as exc:
                proto.closed = True
                # Closed before any byte of an answer: the server's idle keep-alive close raced
                # this request. Send it once more on a fresh connection.
                if attempt == 0 and "before any answer" in str(exc):
                    self.reconnects += 1
                    continue
                raise
            except BaseException:
                proto.closed = True  # a half-read response would poison the next one
                if proto.transport is not None:
                    proto.transport.close()
                raise
        raise AssertionError("unreachable")

    async def request(self, method: str, path: str, body: bytes = b"") -> Response:
        return await self.send(self.build(method, path, body))

    async def aclose(self) -> None:
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.close()
        self._proto = None
