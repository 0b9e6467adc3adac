"""Security headers, added once to every HTTP response the application sends.

`server.app.TonariApp` wraps the ASGI `send` of every request with `SecurityHeaders.wrap` before
anything else sees the request, so the API, the PWA's files, problem documents (the router's 404
included) all leave through it. A header a route set itself
is kept (the tiles' `private, no-cache`, the hashed assets' long cache); only what is missing is
added. Choices and figures: docs/decisions/0014-security-headers.md.
"""

from __future__ import annotations

from litestar.types import Message, Scope, Send

from server.settings import Settings

# JSON under /api carries personal data: no browser or proxy may keep a copy unless a route
# says otherwise. Health checks and problem documents anywhere get the same.
NO_STORE = b"no-store"
_NO_STORE_PREFIXES = ("/api/", "/health/")
_PROBLEM = b"application/problem+json"
# The API reference page (/schema, Scalar) loads its viewer from a CDN; nothing personal is there.
_DOCS_PATHS = ("/schema", "/schema/", "/schema/scalar")
_DOCS_CDN = "https://cdn.jsdelivr.net"
HSTS = b"max-age=31536000"


def content_security_policy(settings: Settings) -> str:
    """The PWA's policy: everything from our own origin; the base map's tiles from its origin
    (drawn by MapLibre and stored by the service worker for offline use); MapLibre's worker from
    our origin (or a blob: URL); WebGL needs nothing; no framing, no plugins. WebAssembly from our
    origin may be compiled ('wasm-unsafe-eval', not 'unsafe-eval'): the VC desk's QR reader (zxing-wasm)."""
    basemap = f" {settings.basemap_origin}" if settings.basemap_origin else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{basemap}",
            "font-src 'self' data:",
            f"connect-src 'self'{basemap}",
            "worker-src 'self' blob:",
            "child-src 'self' blob:",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _docs_policy() -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'unsafe-inline' {_DOCS_CDN}",
            f"style-src 'self' 'unsafe-inline' {_DOCS_CDN}",
            f"img-src 'self' data: {_DOCS_CDN}",
            f"font-src 'self' data: {_DOCS_CDN}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    """The headers, encoded once at start-up; `wrap` adds the missing ones to a response."""

    def __init__(self, settings: Settings) -> None:
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]
        if settings.served_over_https:
            common.append((b"strict-transport-security", HSTS))
        self._app = [*common, (b"content-security-policy", content_security_policy(settings).encode("ascii"))]
        self._docs = [*common, (b"content-security-policy", _docs_policy().encode("ascii"))]

    def headers_for(self, path: str) -> list[tuple[bytes, bytes]]:
        return self._docs if path in _DOCS_PATHS else self._app

    def wrap(self, scope: Scope, send: Send) -> Send:
        path: str = scope.get("path", "")
        extra = self.headers_for(path)
        no_store_path = path.startswith(_NO_STORE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in extra if h[0] not in present)
                if b"cache-control" not in present and (
                    no_store_path or any(n.lower() == b"content-type" and v.startswith(_PROBLEM) for n, v in headers)
                ):
                    headers.append((b"cache-control", NO_STORE))
                message = {**message, "headers": headers}
            await send(message)

        return send_with_headers
