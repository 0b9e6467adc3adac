"""Bounded wire types shared by every body and query: integers that fit their column, texts of a
known size, and GeoJSON areas with a fixed shape (so a body cannot nest deeper than its type).

The limits of each field are written where the field is (they must match its column); the ones
here are the ones many fields share. Decision 0016 lists them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# A page offset: far beyond any list we keep, far below what the database's bigint holds.
MAX_OFFSET = 10_000_000
NOTE_MAX = 2000  # free-text notes (household, person, visit, escalation action, declaration reason, …)

Int32 = Annotated[int, msgspec.Meta(ge=0, le=INT32_MAX)]  # a non-negative `integer` column
Int64 = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]  # a non-negative `bigint` column (ids, cursors)
Version = Annotated[int, msgspec.Meta(ge=0, le=INT32_MAX)]  # the version an edit was based on
Note = Annotated[str, msgspec.Meta(max_length=NOTE_MAX)]
Code = Annotated[str, msgspec.Meta(max_length=32)]  # a vocabulary code (checked against its vocabulary)
CodeList = Annotated[list[Code], msgspec.Meta(max_length=32)]

Lon = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]

# The shape is fixed here (and so is the depth); whether the rings make a valid area is judged by
# the registry's parse_area, which names the field `geometry` as the forms show it.
Position = Annotated[list[float], msgspec.Meta(min_length=2, max_length=3)]
Ring = list[Position]


class PolygonGeometry(msgspec.Struct, tag_field="type", tag="Polygon"):
    """A GeoJSON Polygon (RFC 7946 §3.1.6), longitude/latitude."""

    coordinates: list[Ring]


class MultiPolygonGeometry(msgspec.Struct, tag_field="type", tag="MultiPolygon"):
    """A GeoJSON MultiPolygon (RFC 7946 §3.1.7), longitude/latitude."""

    coordinates: list[list[Ring]]


AreaGeometry = PolygonGeometry | MultiPolygonGeometry


class Feature(msgspec.Struct):
    """A GeoJSON Feature as the API sends it (RFC 7946 §3.2)."""

    type: Literal["Feature"]
    id: str | int | None
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


class FeatureCollection(msgspec.Struct):
    """A GeoJSON FeatureCollection (RFC 7946 §3.3), `application/geo+json`."""

    type: Literal["FeatureCollection"]
    features: list[Feature]
