"""GeoJSON districts and hazard zones → valid lon/lat MultiPolygons plus a per-feature report.

Files come from QGIS exports, the 国土数値情報 (N03, A31 …) and hand-drawn web tools. Common faults
are a projected CRS (平面直角座標系, Web Mercator) saved as if it were lon/lat, self-intersecting
rings, and points or lines mixed in. We reject what cannot be placed, repair what can, and say what
we did, so a district boundary never silently changes shape.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from shapely.validation import explain_validity, make_valid

from imports.report import ParseResult, error, warning

DEFAULT_NAME_KEYS: tuple[str, ...] = ("name", "名称", "N03_004")
DEFAULT_CODE_KEYS: tuple[str, ...] = ("code", "コード", "N03_007")

# Lon/lat CRSs we take as-is. JGD2011 (6668) and JGD2000 (4612) differ from WGS84 by well under the
# accuracy of any district boundary; older N03 editions, like the real Kasama file, are JGD2000.
_ACCEPTED_EPSG = {4326, 6668, 4612}
_EPSG = re.compile(r"EPSG(?::+|/\d+/)(\d+)$", re.I)


@dataclass(frozen=True, slots=True)
class AreaRecord:
    """One district or hazard zone: a valid MultiPolygon in lon/lat with counter-clockwise shells."""

    row: int  # feature index + 1
    geometry: MultiPolygon
    properties: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    code: str | None = None


def parse_geojson_areas(
    data: bytes | str | Mapping[str, Any],
    *,
    name_keys: Sequence[str] = DEFAULT_NAME_KEYS,
    code_keys: Sequence[str] = DEFAULT_CODE_KEYS,
) -> ParseResult[AreaRecord]:
    """Parse a FeatureCollection, a single Feature or a bare (Multi)Polygon.

    name/code are the first non-empty property among `name_keys` / `code_keys`; the code falls back
    to the feature's `id` member (the real N03-derived Kasama file has only `id`, no `properties`).
    """
    result: ParseResult[AreaRecord] = ParseResult()
    doc = _load(data, result)
    if doc is None:
        return result
    features = _features(doc, result)
    if features is None:
        return result
    result.total_rows = len(features)
    if not _crs_ok(doc, result) or not _coordinates_ok(features, result):
        return result
    for index, feature in enumerate(features):
        record = _parse_feature(index + 1, feature, result, name_keys, code_keys)
        if record is not None:
            result.records.append(record)
    return result


def _load(data: bytes | str | Mapping[str, Any], result: ParseResult[AreaRecord]) -> Any:
    if isinstance(data, Mapping):
        return data
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")  # RFC 7946: GeoJSON is UTF-8
        except UnicodeDecodeError:
            result.issues.append(
                error(
                    None,
                    None,
                    "bad_encoding",
                    "GeoJSONはUTF-8で保存してください（文字コードがUTF-8ではありません）。",
                    "GeoJSON must be UTF-8; this file is not.",
                )
            )
            return None
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        result.issues.append(
            error(
                None,
                None,
                "bad_json",
                f"JSONとして読めません（{exc.lineno}行目 {exc.colno}文字目: {exc.msg}）。",
                f"Not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).",
            )
        )
        return None


def _features(doc: Any, result: ParseResult[AreaRecord]) -> list[Any] | None:
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "FeatureCollection" and isinstance(doc.get("features"), list):
        return list(doc["features"])
    if kind == "Feature":
        return [doc]
    if kind in ("Polygon", "MultiPolygon"):
        return [{"type": "Feature", "geometry": doc}]
    result.issues.append(
        error(
            None,
            None,
            "bad_geojson",
            "GeoJSONのFeatureCollection・Feature・Polygonのいずれでもありません。",
            "The document is not a GeoJSON FeatureCollection, Feature or Polygon.",
        )
    )
    return None


def _crs_name(crs: Any) -> str:
    props = crs.get("properties") if isinstance(crs, dict) else None
    if isinstance(props, dict):
        if "name" in props:
            return str(props["name"])
        if "code" in props:  # the 2008 draft's {"type": "EPSG", "properties": {"code": 4326}}
            return f"EPSG:{props['code']}"
    return json.dumps(crs, ensure_ascii=False)


def _crs_ok(doc: dict[str, Any], result: ParseResult[AreaRecord]) -> bool:
    """RFC 7946 dropped `crs`; when present it must name a lon/lat CRS we accept."""
    if doc.get("crs") is None:
        return True
    name = _crs_name(doc["crs"]).strip()
    m = _EPSG.search(name)
    if "CRS84" in name.upper() or (m and int(m.group(1)) in _ACCEPTED_EPSG):
        return True
    result.issues.append(
        error(
            None,
            "crs",
            "wrong_crs",
            f"座標系「{name}」には対応していません。経度・緯度（WGS84 / JGD2011, EPSG:4326 または 6668）で"
            "書き出し直してください（QGISでは「名前を付けて保存」で座標参照系を EPSG:4326 にします）。",
            f"Coordinate reference system '{name}' is not supported; export as lon/lat "
            "(WGS84/JGD2011, EPSG:4326 or 6668).",
        )
    )
    return False


def _positions(coords: Any) -> Iterator[tuple[float, float]]:
    """Every (x, y) in a nested coordinate array; non-numeric entries are left to shapely to reject."""
    if isinstance(coords, (list, tuple)):
        head = coords[:2]
        if len(head) == 2 and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in head):
            yield float(coords[0]), float(coords[1])
        else:
            for c in coords:
                yield from _positions(c)


def _coordinates_ok(features: list[Any], result: ParseResult[AreaRecord]) -> bool:
    """Projected coordinates (metres) saved without a crs member are the usual silent error."""
    xs_ok = ys_ok = True
    swapped_like = True
    for f in features:
        geom = f.get("geometry") if isinstance(f, dict) else None
        for x, y in _positions(geom.get("coordinates") if isinstance(geom, dict) else None):
            if abs(x) > 180:
                xs_ok = False
            if abs(y) > 90:
                ys_ok = False
            if abs(x) > 90 or abs(y) > 180:
                swapped_like = False
    if xs_ok and ys_ok:
        return True
    if xs_ok and swapped_like:
        ja = "座標の順序が「緯度, 経度」になっているようです。GeoJSONは「経度, 緯度」の順です。"
        en = "Coordinates look like (lat, lon); GeoJSON positions are (lon, lat)."
    else:
        ja = (
            "座標が経度・緯度（度）の範囲を超えています。平面直角座標系など投影座標のまま保存されているようです。"
            "EPSG:4326（経度・緯度）で書き出し直してください。"
        )
        en = "Coordinates exceed lon/lat degree ranges; the file looks projected. Re-export as EPSG:4326."
    result.issues.append(error(None, "geometry", "wrong_crs", ja, en))
    return False


def _parse_feature(
    row: int,
    feature: Any,
    result: ParseResult[AreaRecord],
    name_keys: Sequence[str],
    code_keys: Sequence[str],
) -> AreaRecord | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        result.issues.append(
            error(row, None, "bad_geojson", "Featureではない要素があります。", "This element is not a Feature.")
        )
        return None
    geom_json = feature.get("geometry")
    if not isinstance(geom_json, dict) or not geom_json.get("type"):
        result.issues.append(
            error(row, "geometry", "missing_geometry", "図形（geometry）がありません。", "The feature has no geometry.")
        )
        return None
    gtype = geom_json["type"]
    if gtype not in ("Polygon", "MultiPolygon"):
        result.issues.append(
            error(
                row,
                "geometry",
                "not_polygon",
                f"図形の種類が「{gtype}」です。区域には面（Polygon / MultiPolygon）が必要です。",
                f"Geometry type is {gtype}; an area must be a Polygon or MultiPolygon.",
            )
        )
        return None
    geometry = _to_multipolygon(row, geom_json, result)
    if geometry is None:
        return None
    props = feature.get("properties")
    props = dict(props) if isinstance(props, dict) else {}
    code = _first(props, code_keys)
    if code is None and feature.get("id") not in (None, ""):
        code = str(feature["id"])
    return AreaRecord(row=row, geometry=geometry, properties=props, name=_first(props, name_keys), code=code)


def _first(props: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for k in keys:
        v = props.get(k)
        if v not in (None, ""):
            return str(v)
    return None


def _to_multipolygon(row: int, geom_json: dict[str, Any], result: ParseResult[AreaRecord]) -> MultiPolygon | None:
    try:
        geom = shapely.force_2d(shape(geom_json))
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.ShapelyError) as exc:
        result.issues.append(
            error(
                row,
                "geometry",
                "invalid_geometry",
                f"図形の座標を読めません（{exc}）。",
                f"The geometry's coordinates cannot be read ({exc}).",
            )
        )
        return None
    if geom.is_empty or not all(math.isfinite(v) for v in geom.bounds):
        result.issues.append(error(row, "geometry", "invalid_geometry", "図形が空です。", "The geometry is empty."))
        return None
    if not geom.is_valid:
        problem = explain_validity(geom)
        repaired = _polygonal(make_valid(geom))
        if repaired is None:
            result.issues.append(
                error(
                    row,
                    "geometry",
                    "invalid_geometry",
                    f"図形が不正で（{problem}）、修復しても面が残りません。描き直してください。",
                    f"The geometry is invalid ({problem}) and no area remains after repair; redraw it.",
                )
            )
            return None
        result.issues.append(
            warning(
                row,
                "geometry",
                "geometry_repaired",
                f"図形の不正（{problem}）を自動修復しました。地図で形を確認してください。",
                f"The invalid geometry ({problem}) was repaired automatically; check its shape on the map.",
            )
        )
        geom = repaired
    polygons = [orient(p, sign=1.0) for p in _parts(geom)]  # RFC 7946: exterior rings counter-clockwise
    return MultiPolygon(polygons)


def _parts(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _parts(g)]
    return []


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    """The areal part of make_valid's output (which may add lines or points), or None."""
    parts = [p for p in _parts(geom) if p.area > 0]
    if not parts:
        return None
    merged = MultiPolygon(parts)
    return merged if merged.is_valid else _polygonal_union(parts)


def _polygonal_union(parts: list[Polygon]) -> BaseGeometry | None:
    union = shapely.union_all(parts)
    parts = [p for p in _parts(union) if p.area > 0]
    return MultiPolygon(parts) if parts else None
