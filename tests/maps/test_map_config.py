"""The PWA's map configuration: public, settings-driven, and pointing at layers that exist."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from server.app import create_app
from server.maps.tiles.sql import LAYERS
from tests.conftest import running

pytestmark = pytest.mark.asyncio


async def test_default_is_the_gsi_standard_map_and_every_layer(client) -> None:
    r = await client.get("/api/map/config")  # signed out: public
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["basemap"]["url"].startswith("https://cyberjapandata.gsi.go.jp/xyz/std/")
    assert "{z}" in body["basemap"]["url"] and "国土地理院" in body["basemap"]["attribution"]
    assert set(body["layers"]) == set(LAYERS)
    assert body["layers"]["hazard-zones"] == {
        "tiles": "/api/tiles/hazard-zones/{z}/{x}/{y}.mvt",
        "source_layer": "hazard_zones",
    }
    assert body["household_point_min_zoom"] == 13


async def test_a_council_can_switch_the_base_map_off(settings) -> None:
    app = create_app(dataclasses.replace(settings, basemap_url=""))
    # Litestar's ASGI types are narrower than httpx's
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/api/map/config")
    assert r.status_code == 200 and r.json()["basemap"] is None
