"""Compression of dynamic responses for phones on a weak link (JSON, GeoJSON, CSV, the schema).

Litestar's gzip middleware does the work (`CompressionConfig`); what it does not know is left out:
- the built PWA: the SPA route sends the files precompressed at build time (brotli, gzip: better
  ratios than on the fly and no CPU per request; `server/web/spa.py`), and opts out here;
- tiles: small, already binary and protobuf-packed, answered by the fast lane before any
  middleware (`server/maps/tiles/lane.py`); the route is excluded too, so both ways agree;
- the event stream: a compressor holds back bytes until it has enough of them, and a live feed
  must not wait for the next event to deliver this one;
- bodies under `MINIMUM_SIZE`: the gzip header and a round trip's worth of work for nothing;
- anything already encoded, or of a type that does not shrink (images, archives, tiles), by the
  response's own headers whatever the route.

A strong ETag names exact bytes, so a compressed body gets the weak form of it (RFC 9110 8.8.1).
"""

from __future__ import annotations

from typing import Literal

from litestar.config.compression import CompressionConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import CompressionEncoding
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import Message, Scope, Send

from server.events.api import EVENTS_PATH
from server.maps.tiles.api import TILES_PATH

MINIMUM_SIZE = 1400  # about one TCP segment: a smaller body goes out in one packet either way
GZIP_LEVEL = 6  # zlib's default: ~95 % of level 9's saving at a fraction of its CPU
SKIP_OPT_KEY = "skip_compression"  # a route handler's opt that sends its own encoding

# Types compressed on the fly; everything else passes untouched.
COMPRESSIBLE = (
    "application/json",
    "application/problem+json",
    "application/geo+json",
    "application/vnd.oai",
    "application/javascript",
    "application/xml",
    "text/",
)
NEVER = ("text/event-stream",)


def _compressible(headers: MutableScopeHeaders) -> bool:
    if headers.get("content-encoding"):
        return False
    media = (headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    return media.startswith(COMPRESSIBLE) and not media.startswith(NEVER)


class TonariCompression(CompressionMiddleware):
    """Litestar's middleware, passing through what must not be compressed (see the module)."""

    def create_compression_send_wrapper(
        self,
        send: Send,
        compression_encoding: Literal[CompressionEncoding.BROTLI, CompressionEncoding.GZIP] | str,
        scope: Scope,
    ) -> Send:
        async def send_weakening_etag(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders(message)
                etag = headers.get("etag")
                if headers.get("content-encoding") and etag and not etag.startswith("W/"):
                    headers["etag"] = "W/" + etag
            await send(message)

        compressing = super().create_compression_send_wrapper(send_weakening_etag, compression_encoding, scope)
        passthrough: bool | None = None

        async def wrapper(message: Message) -> None:
            nonlocal passthrough
            if message["type"] == "http.response.start":
                passthrough = not _compressible(MutableScopeHeaders(message))
            await (send if passthrough else compressing)(message)

        return wrapper


def compression_config() -> CompressionConfig:
    return CompressionConfig(
        backend="gzip",
        minimum_size=MINIMUM_SIZE,
        gzip_compress_level=GZIP_LEVEL,
        middleware_class=TonariCompression,
        exclude=[f"^{TILES_PATH}(/|$)", f"^{EVENTS_PATH}(/|$)"],
        exclude_opt_key=SKIP_OPT_KEY,
    )
