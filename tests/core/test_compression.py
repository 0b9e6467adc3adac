"""Speed on a weak link: precompressed PWA assets, gzip for large JSON, and what is never compressed
(tiles, the event stream, small or already encoded bodies). server/web/spa.py, server/web/compression.py."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from litestar import Litestar, Response, get
from litestar.response import ServerSentEvent

from server.web.compression import MINIMUM_SIZE, compression_config
from server.web.spa import accepted_encodings
from tests.helpers.disclosure import tile_of
from tests.helpers.operations import start_operation_as
from tests.helpers.world import HOUSEHOLD_SPOTS, World, new_world, signed_in

ASSET = "assets/weak-link-test-1a2b3c.js"
PLAIN = ("export const words = '" + "隣の見守り " * 2000 + "';\n").encode()
BROTLI = b"\x1b-not-checked-by-the-server: the build's brotli copy"  # served as is


async def _raw(client: httpx.AsyncClient, path: str, encoding: str) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (no decoding by the client; httpx would send
    its own Accept-Encoding unless told one, and "" means none)."""
    async with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as resp:
        body = b"".join([chunk async for chunk in resp.aiter_raw()])
    return resp, body


@pytest.fixture(scope="module")
def precompressed(settings):
    """One built asset with its brotli and gzip copies, as the PWA build writes them."""
    target = settings.pwa_dist / ASSET
    target.write_bytes(PLAIN)
    target.with_name(target.name + ".gz").write_bytes(gzip.compress(PLAIN, 9))
    target.with_name(target.name + ".br").write_bytes(BROTLI)
    return target


@pytest.mark.parametrize(
    ("accept", "coding", "body"),
    [
        ("gzip, deflate, br, zstd", "br", BROTLI),  # what Chromium sends
        ("gzip, deflate", "gzip", "gz"),
        ("br;q=0, gzip;q=0.5", "gzip", "gz"),
        ("*", "br", BROTLI),
        ("identity", None, PLAIN),
        ("", None, PLAIN),
        ("br;q=0, gzip;q=0, *;q=1", None, PLAIN),
    ],
)
async def test_a_built_asset_is_sent_precompressed_as_the_browser_accepts(
    precompressed, client, accept, coding, body
) -> None:
    resp, raw = await _raw(client, "/" + ASSET, accept)
    assert resp.status_code == 200
    assert resp.headers.get("content-encoding") == coding
    assert resp.headers["vary"] == "Accept-Encoding"  # also on the plain answer: a cache must keep them apart
    assert resp.headers["content-type"].startswith("text/javascript")
    assert "immutable" in resp.headers["cache-control"]
    assert resp.headers["x-content-type-options"] == "nosniff"  # the security headers stay
    expected = gzip.compress(PLAIN, 9) if body == "gz" else body
    assert raw == expected and int(resp.headers["content-length"]) == len(expected)
    if body == "gz":
        assert gzip.decompress(raw) == PLAIN
    # each variant has its own validator
    plain = (await _raw(client, "/" + ASSET, "identity"))[0]
    assert (resp.headers["etag"] == plain.headers["etag"]) is (coding is None)


async def test_a_file_without_copies_is_sent_as_it_is_without_vary(client) -> None:
    resp, raw = await _raw(client, "/assets/app-abc123.js", "gzip, br")
    assert resp.status_code == 200 and "content-encoding" not in resp.headers and "vary" not in resp.headers
    assert raw == b"console.log('app')"


def test_accept_encoding_is_read_with_its_weights() -> None:
    assert accepted_encodings("gzip, deflate, br") == {"br", "gzip"}
    assert accepted_encodings("br;q=0.0, gzip;Q=1") == {"gzip"}
    assert accepted_encodings("identity;q=1, *;q=0") == set()
    assert accepted_encodings("gzip;q=bogus, br") == {"br"}
    assert accepted_encodings("") == set()


async def test_large_json_is_gzipped_and_small_json_is_not(client) -> None:
    resp, raw = await _raw(client, "/schema/openapi.json", "gzip, deflate, br")
    assert resp.status_code == 200 and resp.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in resp.headers["vary"]
    assert resp.headers["x-content-type-options"] == "nosniff"
    document = json.loads(gzip.decompress(raw))
    assert document["info"]["title"] == "Tonari API" and len(raw) < len(json.dumps(document)) / 4

    plain, body = await _raw(client, "/schema/openapi.json", "")
    assert "content-encoding" not in plain.headers and json.loads(body) == document

    small, body = await _raw(client, "/health/live", "gzip")
    assert len(body) < MINIMUM_SIZE and "content-encoding" not in small.headers


@pytest.fixture(scope="module")
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def test_tiles_are_never_compressed(world: World, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    for query in ("", "?zoom_test=1"):  # the lane's answer, and the route's (an unknown query goes on to it)
        resp, _ = await _raw(staff, f"/api/tiles/households/14/{x}/{y}.mvt{query}", "gzip, br")
        assert resp.status_code in (200, 204, 400), resp.status_code
        assert "content-encoding" not in resp.headers


async def test_the_event_stream_is_not_compressed_and_not_held_back(world: World, live_client_factory) -> None:
    staff = await signed_in(live_client_factory, world, "staff")
    op = await start_operation_as(staff, world, mode="drill", name="圧縮テスト", districts=("D1",))
    async with staff.stream(
        "GET", f"/api/events?operation_id={op['id']}&last_event_id=0", headers={"Accept-Encoding": "gzip, br"}
    ) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in resp.headers

        async def first_event() -> bytes:
            seen = b""
            async for chunk in resp.aiter_raw():
                seen += chunk
                if b"operation.started" in seen:
                    return seen
            return seen

        assert b"operation.started" in await asyncio.wait_for(first_event(), 10)


# ---- the middleware on its own: what it must pass through even when large --------------------

BIG = msgspec.json.encode({"features": [{"type": "Feature", "properties": {"n": i}} for i in range(400)]})
assert len(BIG) > 4 * MINIMUM_SIZE


@get("/api/tiles/households/1/0/0.mvt", media_type="application/vnd.mapbox-vector-tile", sync_to_thread=False)
def _tile() -> Response[bytes]:
    return Response(BIG)


@get("/api/things.geojson", media_type="application/geo+json", sync_to_thread=False)
def _geojson() -> Response[bytes]:
    return Response(BIG, headers={"ETag": '"v1"'})


@get("/api/image.png", media_type="image/png", sync_to_thread=False)
def _image() -> Response[bytes]:
    return Response(BIG)


@get("/api/encoded.json", media_type="application/json", sync_to_thread=False)
def _encoded() -> Response[bytes]:
    return Response(zlib.compress(BIG), headers={"Content-Encoding": "deflate"})


@get("/api/events", sync_to_thread=False)
def _events() -> ServerSentEvent:
    async def feed() -> AsyncIterator[str]:
        yield "first"
        await asyncio.Event().wait()  # the stream stays open, as a live feed does

    return ServerSentEvent(feed())


@get("/api/other-stream", media_type="text/event-stream", sync_to_thread=False)
def _other_stream() -> ServerSentEvent:
    async def feed() -> AsyncIterator[str]:
        yield "first"
        await asyncio.Event().wait()

    return ServerSentEvent(feed())


@pytest.fixture(scope="module")
def bare() -> Litestar:
    return Litestar(
        [_tile, _geojson, _image, _encoded, _events, _other_stream], compression_config=compression_config()
    )


async def test_large_geojson_is_gzipped_and_its_strong_etag_becomes_weak(bare) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url="http://t") as c:
        resp, raw = await _raw(c, "/api/things.geojson", "gzip")
        assert resp.headers["content-encoding"] == "gzip" and gzip.decompress(raw) == BIG
        assert resp.headers["etag"] == 'W/"v1"'
        plain, raw = await _raw(c, "/api/things.geojson", "identity")
        assert raw == BIG and plain.headers["etag"] == '"v1"'


@pytest.mark.parametrize("path", ["/api/tiles/households/1/0/0.mvt", "/api/image.png", "/api/encoded.json"])
async def test_tiles_images_and_encoded_bodies_pass_through(bare, path) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url="http://t") as c:
        resp, raw = await _raw(c, path, "gzip, br")
    assert resp.headers.get("content-encoding") in (None, "deflate")
    assert raw in (BIG, zlib.compress(BIG))


@pytest.mark.parametrize("path", ["/api/events", "/api/other-stream"])
async def test_an_event_stream_is_delivered_event_by_event(bare, path) -> None:
    """Compressed, the first event would wait in the compressor for more bytes that never come."""
    sent: list[dict] = []
    first = asyncio.Event()

    async def receive() -> dict:
        await asyncio.Event().wait()
        return {}

    async def send(message: dict) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and b"first" in message.get("body", b""):
            first.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"t"), (b"accept-encoding", b"gzip, br")],
        "server": ("t", 80),
        "client": ("127.0.0.1", 1),
    }
    task = asyncio.create_task(bare(scope, receive, send))
    try:
        await asyncio.wait_for(first.wait(), 5)
    finally:
        task.cancel()
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert b"content-encoding" not in {k.lower() for k, _ in start["headers"]}
