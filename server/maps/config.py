"""`GET /api/map/config`: what the PWA's maps draw, decided by the server's settings.

The base map is the council's choice (and may be an internal tile server), so it is served at
run time rather than baked into the build. The answer holds no personal data and is public, so a
signed-out phone can still draw the background it cached.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get

from server.core.guards import public
from server.maps.tiles.sql import CLUSTER_BELOW_ZOOM, LAYERS
from server.services import services


class Basemap(msgspec.Struct):
    url: str
    attribution: str
    max_zoom: int


class VectorLayer(msgspec.Struct):
    # `{z}/{x}/{y}` template relative to the origin (MVT, EPSG:3857); add `?operation_id=` to
    # the households layer for an operation's live statuses.
    tiles: str
    source_layer: str


class MapConfig(msgspec.Struct):
    basemap: Basemap | None
    layers: dict[str, VectorLayer]
    # Zoom levels at which household tiles carry individual points (below: grid clusters).
    household_point_min_zoom: int


class MapConfigController(Controller):
    path = "/api/map"
    tags = ("maps",)
    guards = (public,)

    @get("/config", summary="Base map and vector tile layers for the PWA's maps", cache=300)
    async def config(self, request: Request[Any, Any, Any]) -> MapConfig:
        settings = services(request.app).settings
        basemap = (
            Basemap(
                url=settings.basemap_url, attribution=settings.basemap_attribution, max_zoom=settings.basemap_max_zoom
            )
            if settings.basemap_url
            else None
        )
        layers = {
            name: VectorLayer(tiles=f"/api/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt", source_layer=name.replace("-", "_"))
            for name in LAYERS
        }
        return MapConfig(basemap=basemap, layers=layers, household_point_min_zoom=CLUSTER_BELOW_ZOOM)
