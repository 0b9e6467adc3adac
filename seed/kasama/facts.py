"""Load the demo's committed public facts from seed/data/ (no access to ../shared needed).

Record types mirror the JSON records one to one; geometries are GeoJSON dicts (lon/lat) in the
records and shapely geometries from the `*_shape(s)` helpers.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

DATA = Path(__file__).resolve().parents[1] / "data"
MUNICIPALITY_CODE = "08216"


class Shelter(msgspec.Struct, frozen=True):
    source_id: str  # GSI 共通ID, e.g. "E0821600009111"
    kind: str  # "designated" | "emergency_site" (vocab.SHELTER_KINDS)
    name: str
    address: str
    lat: float
    lon: float
    hazards: list[str]  # vocab.SHELTER_HAZARDS codes
    capacity: int | None = None  # not in the source data


class Town(msgspec.Struct, frozen=True):
    town: str  # 大字・町丁目, e.g. "中央三丁目"
    koaza: str  # 小字・通称 or ""
    lat: float
    lon: float


class District(msgspec.Struct, frozen=True):
    code: str  # "08216-A1", "08216-A1-B01"
    name: str  # "笠間地区", "笠間小学校区"
    kana: str  # katakana
    level: str  # vocab.DISTRICT_LEVELS: "area" | "branch"
    parent_code: str | None
    geometry: dict[str, Any]  # GeoJSON MultiPolygon, lon/lat
    school_source_id: str | None = None  # branches: the school (kasama_shelters source_id) it is drawn around


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def outline_feature() -> dict[str, Any]:
    """The GeoJSON Feature in kasama_outline.json (properties carry the credit)."""
    return _load("kasama_outline.json")


def outline_shape() -> BaseGeometry:
    return shape(outline_feature()["geometry"])


@lru_cache(maxsize=1)
def load_shelters() -> tuple[Shelter, ...]:
    return tuple(msgspec.convert(r, Shelter) for r in _load("kasama_shelters.json")["shelters"])


@lru_cache(maxsize=1)
def load_towns() -> tuple[Town, ...]:
    return tuple(msgspec.convert(r, Town) for r in _load("kasama_towns.json")["towns"])


@lru_cache(maxsize=1)
def load_districts() -> tuple[District, ...]:
    return tuple(msgspec.convert(r, District) for r in _load("kasama_districts.json")["districts"])


def district_shapes(level: str | None = None) -> dict[str, BaseGeometry]:
    return {d.code: shape(d.geometry) for d in load_districts() if level is None or d.level == level}


class LocalMetric:
    """Equirectangular projection to metres around a reference point: good to ~0.1 % over a city
    or a prefecture, which is all a demo needs (no pyproj)."""

    R = 6_371_008.8

    def __init__(self, lat0: float, lon0: float) -> None:
        self.lat0, self.lon0 = lat0, lon0
        self.my = math.pi * self.R / 180.0  # metres per degree of latitude
        self.mx = self.my * math.cos(math.radians(lat0))  # metres per degree of longitude at lat0

    def to_xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.mx, (lat - self.lat0) * self.my

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return self.lon0 + x / self.mx, self.lat0 + y / self.my

    def project(self, geom: BaseGeometry) -> BaseGeometry:
        import shapely

        return shapely.transform(geom, lambda a: (a - (self.lon0, self.lat0)) * (self.mx, self.my))

    def unproject(self, geom: BaseGeometry) -> BaseGeometry:
        import shapely

        return shapely.transform(geom, lambda a: a / (self.mx, self.my) + (self.lon0, self.lat0))


KASAMA_METRIC = LocalMetric(36.36, 140.28)
