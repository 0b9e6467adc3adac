"""Synthetic hazard zones for the Kasama demo (架空: not the official hazard maps).

The flood and landslide drills need households inside hazard zones on first start, and no public
hazard map of Kasama comes with a licence we could check, so the demo draws its own, labelled as
synthetic in their name and source:

- 浸水想定区域: a corridor of 300–450 m along an invented course of the 涸沼川 through the 笠間,
  友部 and 岩間 lowlands (town points in `FLOOD_COURSES`), so the flood scenario finds 友部 and
  岩間 households in a flood zone.
- 土砂災害警戒区域: drawn by the loader in PostGIS around the remote neighbourhoods nobody
  watches (`seed/registry.py`): `generate_demo`'s pockets are hill hamlets, and the hills are
  where the slopes are.

Deterministic: the same town points and households give the same zones.
"""

from __future__ import annotations

from typing import cast

import msgspec
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from seed.kasama import facts

SOURCE = "デモ用に合成した架空の区域（実在のハザードマップではありません）"

# (zone name, flood depth label, buffer in metres, towns the course passes, in order).
FLOOD_COURSES: tuple[tuple[str, str, float, tuple[str, ...]], ...] = (
    (
        "涸沼川 浸水想定区域（架空・デモ用）",
        "0.5〜3.0m（想定・架空）",
        170.0,
        ("笠間", "石井", "寺崎", "大田町", "平町", "旭町", "南友部", "小原"),
    ),
    (
        "涸沼川支流 浸水想定区域（架空・デモ用）",
        "0.5〜3.0m（想定・架空）",
        150.0,
        ("南友部", "市野谷", "下郷", "押辺", "土師"),
    ),
)


class DemoHazardZone(msgspec.Struct, frozen=True):
    kind: str  # vocab hazard_zone_kinds
    name: str
    level: str
    source: str
    geometry: dict  # type: ignore[type-arg]  # GeoJSON MultiPolygon, lon/lat


def _multi(geom: BaseGeometry) -> dict:  # type: ignore[type-arg]
    g = geom if isinstance(geom, MultiPolygon) else MultiPolygon([cast(Polygon, geom)])
    return mapping(g.simplify(0.00002, preserve_topology=True))


def flood_zones() -> list[DemoHazardZone]:
    m = facts.KASAMA_METRIC
    towns = {t.town: t for t in facts.load_towns() if not t.koaza}
    outline = facts.outline_shape()
    out = []
    for name, level, width, course in FLOOD_COURSES:
        line = LineString([m.to_xy(towns[t].lon, towns[t].lat) for t in course])
        # a river meanders: a wider plain where the course turns, narrower between
        corridor = line.buffer(width, quad_segs=8).union(
            MultiPolygon([Point(p).buffer(width * 1.3, quad_segs=8) for p in line.coords[1:-1]]).buffer(0)
        )
        zone = m.unproject(corridor).intersection(outline)
        out.append(DemoHazardZone("flood", name, level, SOURCE, _multi(zone)))
    return out
