"""GeoJSON area parser: the real Kasama boundary plus synthetic broken files."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from geo.geojson_areas import AreaRecord, parse_geojson_areas
from tests.helpers.public_data import KASAMA_OUTLINE as KASAMA

EARTH_RADIUS_M = 6_371_008.8  # mean radius


def approx_area_km2(geom: BaseGeometry) -> float:
    """Equal-area approximation: x = lon·cos(lat0), y = lat, in radians on a sphere (fine for ~20 km)."""
    lat0 = math.radians((geom.bounds[1] + geom.bounds[3]) / 2)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.radians(xy) * EARTH_RADIUS_M * np.array([math.cos(lat0), 1.0])

    return shapely.transform(geom, project).area / 1e6


def polygon(ring: list[list[float]], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def collection(*features: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features), **extra}).encode()


SQUARE = [[140.30, 36.34], [140.31, 36.34], [140.31, 36.35], [140.30, 36.35], [140.30, 36.34]]
BOWTIE = [[140.30, 36.34], [140.31, 36.35], [140.31, 36.34], [140.30, 36.35], [140.30, 36.34]]


def test_real_kasama_boundary() -> None:
    assert "properties" not in json.loads(KASAMA.read_text())["features"][0]
    res = parse_geojson_areas(KASAMA.read_bytes())
    assert res.ok and res.issues == [] and res.total_rows == 1
    rec = res.records[0]
    assert isinstance(rec, AreaRecord)
    assert isinstance(rec.geometry, MultiPolygon)
    assert rec.geometry.is_valid and len(rec.geometry.geoms) == 1
    assert (rec.row, rec.code, rec.name, rec.properties) == (1, "08216", None, {})
    assert rec.geometry.geoms[0].exterior.is_ccw  # clockwise source ring re-oriented per RFC 7946
    assert len(rec.geometry.geoms[0].exterior.coords) == 2828
    assert approx_area_km2(rec.geometry) == pytest.approx(240.3, abs=3)
    minx, miny, maxx, maxy = rec.geometry.bounds
    expected = (140.16232642, 36.265582198, 140.370081855, 36.449183775)  # from SOURCES.md
    assert (minx, miny, maxx, maxy) == pytest.approx(expected)


def test_names_and_codes_from_configurable_keys() -> None:
    data = collection(
        polygon(SQUARE, name="第1地区", code="D01"),
        polygon(SQUARE, 名称="第2地区", コード="D02"),
        polygon(SQUARE, N03_004="笠間市", N03_007="08216"),
        {**polygon(SQUARE, 地区名="第4地区"), "id": 4},
    )
    res = parse_geojson_areas(data)
    assert res.ok, res.issues
    assert [(r.name, r.code) for r in res.records] == [
        ("第1地区", "D01"),
        ("第2地区", "D02"),
        ("笠間市", "08216"),
        (None, "4"),
    ]
    custom = parse_geojson_areas(data, name_keys=("地区名",), code_keys=())
    assert custom.records[3].name == "第4地区" and custom.records[0].code is None


def test_single_feature_and_bare_polygon_and_multipolygon() -> None:
    one = parse_geojson_areas(json.dumps(polygon(SQUARE, name="x")))
    assert one.ok and one.records[0].name == "x"
    bare = parse_geojson_areas({"type": "Polygon", "coordinates": [SQUARE]})
    assert bare.ok and isinstance(bare.records[0].geometry, MultiPolygon)
    far = [[x + 0.05, y] for x, y in SQUARE]
    multi = parse_geojson_areas({"type": "MultiPolygon", "coordinates": [[SQUARE], [far]]})
    assert multi.ok and len(multi.records[0].geometry.geoms) == 2


def test_bowtie_is_repaired_with_a_warning() -> None:
    res = parse_geojson_areas(collection(polygon(BOWTIE, name="蝶")))
    assert res.ok
    [issue] = res.issues
    assert (issue.row, issue.column, issue.code) == (1, "geometry", "geometry_repaired")
    assert issue.severity == "warning"
    assert "Self-intersection" in issue.message_en
    geom = res.records[0].geometry
    assert isinstance(geom, MultiPolygon)
    assert geom.is_valid and len(geom.geoms) == 2
    assert all(p.exterior.is_ccw for p in geom.geoms)


def test_zero_area_polygon_cannot_be_repaired() -> None:
    flat = [[140.30, 36.34], [140.31, 36.34], [140.32, 36.34], [140.30, 36.34]]
    res = parse_geojson_areas(collection(polygon(SQUARE), polygon(flat)))
    assert [(i.row, i.code, i.severity) for i in res.issues] == [(2, "invalid_geometry", "error")]
    assert [r.row for r in res.records] == [1] and not res.ok


def test_projected_coordinates_are_rejected() -> None:
    # JGD2011 平面直角座標系 IX (EPSG:6677) metres, saved without a crs member
    ring = [[30000.0, 5000.0], [31000.0, 5000.0], [31000.0, 6000.0], [30000.0, 5000.0]]
    res = parse_geojson_areas(collection(polygon(ring)))
    assert [(i.row, i.code) for i in res.issues] == [(None, "wrong_crs")]
    assert res.records == []


def test_lat_lon_order_is_rejected_with_a_hint() -> None:
    swapped = [[y, x] for x, y in SQUARE]
    res = parse_geojson_areas(collection(polygon(swapped)))
    [issue] = res.issues
    assert issue.code == "wrong_crs" and "経度, 緯度" in issue.message_ja


@pytest.mark.parametrize(
    ("crs_name", "ok"),
    [
        ("urn:ogc:def:crs:OGC:1.3:CRS84", True),
        ("urn:ogc:def:crs:EPSG::4326", True),
        ("EPSG:6668", True),
        ("urn:ogc:def:crs:EPSG::4612", True),  # JGD2000, as in older N03 editions
        ("urn:ogc:def:crs:EPSG::6677", False),
        ("EPSG:3857", False),
    ],
)
def test_crs_member(crs_name: str, ok: bool) -> None:
    crs = {"type": "name", "properties": {"name": crs_name}}
    res = parse_geojson_areas(collection(polygon(SQUARE), crs=crs))
    assert res.ok is ok
    if not ok:
        assert [(i.row, i.column, i.code) for i in res.issues] == [(None, "crs", "wrong_crs")]
        assert res.records == []


def test_points_and_lines_are_not_polygons() -> None:
    def feature(geometry: dict[str, Any] | None) -> dict[str, Any]:
        return {"type": "Feature", "properties": {}, "geometry": geometry}

    point = feature({"type": "Point", "coordinates": [140.3, 36.34]})
    line = feature({"type": "LineString", "coordinates": SQUARE})
    nothing = feature(None)
    res = parse_geojson_areas(collection(point, polygon(SQUARE), line, nothing))
    assert [(i.row, i.code) for i in res.errors] == [
        (1, "not_polygon"),
        (3, "not_polygon"),
        (4, "missing_geometry"),
    ]
    assert [r.row for r in res.records] == [2] and res.total_rows == 4


def test_unreadable_inputs() -> None:
    assert [i.code for i in parse_geojson_areas(b"{not json").issues] == ["bad_json"]
    assert [i.code for i in parse_geojson_areas("地区".encode("cp932")).issues] == ["bad_encoding"]
    point = b'{"type": "Point", "coordinates": [1, 2]}'
    assert [i.code for i in parse_geojson_areas(point).issues] == ["bad_geojson"]
    short = {"type": "Polygon", "coordinates": [[[140.3, 36.3], [140.31, 36.3]]]}
    assert [i.code for i in parse_geojson_areas(short).issues] == ["invalid_geometry"]
