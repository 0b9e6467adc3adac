"""Checks shared by the registry API and the imports: places, dates, kana, phone numbers.

Each returns a FieldError (with words a clerk can act on) or None, so callers can collect all
problems of a request or a CSV row before refusing it.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.problems import FieldError, Problem
from vocab import MEDICAL_DEVICES, MOBILITY, SUPPORT_REASONS

_KATAKANA = re.compile(r"^[ァ-ヶー・\u3000 ]*$")
_PHONE = re.compile(r"^0\d{9,10}$")


def normalise_kana(value: str) -> str:
    """NFKC (half-width → full-width katakana), hiragana → katakana, spaces tidied."""
    value = unicodedata.normalize("NFKC", value).strip()
    value = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in value)
    return re.sub(r"[ \u3000]+", "\u3000", value)


def check_kana(field: str, value: str) -> FieldError | None:
    if value and not _KATAKANA.match(value):
        return FieldError(
            field, "invalid", "フリガナはカタカナで入力してください。", "Kana must be written in katakana."
        )
    return None


def normalise_phone(value: str | None) -> str | None:
    if value is None:
        return None
    value = unicodedata.normalize("NFKC", value).strip()
    return value or None


def check_phone(field: str, value: str | None) -> FieldError | None:
    if not value:
        return None
    digits = re.sub(r"[-()\s]", "", value)
    if not _PHONE.match(digits):
        return FieldError(
            field,
            "invalid",
            "電話番号の形式が正しくありません（例: 0296-72-1234、090-1234-5678）。",
            "The phone number is not valid (e.g. 0296-72-1234 or 090-1234-5678).",
        )
    return None


def latest_today() -> date:
    """The latest calendar date anywhere (UTC+14). "Not in the future" checks use it so that a
    date that is today for the council (Asia/Tokyo) is never refused because the server's clock
    or the database session runs in UTC (00:00-09:00 JST is still "yesterday" in UTC)."""
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def check_birth_date(field: str, value: date | None) -> FieldError | None:
    if value is not None and value > latest_today():
        return FieldError(field, "invalid", "生年月日が未来の日付です。", "The birth date is in the future.")
    if value is not None and value.year < 1890:
        return FieldError(field, "invalid", "生年月日が古すぎます。", "The birth date is implausibly early.")
    return None


def check_codes(field: str, values: list[str], vocab: dict[str, str]) -> FieldError | None:
    unknown = [v for v in values if v not in vocab]
    if unknown:
        allowed = "、".join(f"{k}（{v}）" for k, v in vocab.items())
        return FieldError(
            field,
            "invalid",
            f"不明な値です: {', '.join(unknown)}。使える値: {allowed}",
            f"Unknown value(s): {', '.join(unknown)}. Allowed: {', '.join(vocab)}",
        )
    return None


def check_support(person: Any) -> list[FieldError]:
    errors = [
        check_codes("support_reasons", list(person.support_reasons), SUPPORT_REASONS),
        check_codes("medical_devices", list(person.medical_devices), MEDICAL_DEVICES),
        check_codes("mobility", [person.mobility] if person.mobility else [], MOBILITY),
    ]
    return [e for e in errors if e]


def raise_if(errors: list[FieldError | None]) -> None:
    found = [e for e in errors if e is not None]
    if found:
        raise Problem("validation_failed", errors=found)


def to_db(geom: BaseGeometry) -> Any:
    """A shapely geometry as a value for a 4326 geometry column."""
    return from_shape(geom, srid=4326)


def point(lon: float, lat: float) -> Point:
    return Point(lon, lat)


async def tenant_area(db: AsyncSession, tenant_id: uuid.UUID) -> BaseGeometry | None:
    from server.tenancy.models import Tenant

    boundary = (await db.execute(select(Tenant.boundary).where(Tenant.id == tenant_id))).scalar_one_or_none()
    return to_shape(boundary) if boundary is not None else None


async def check_inside_tenant(
    db: AsyncSession, tenant_id: uuid.UUID, field: str, geom: BaseGeometry
) -> FieldError | None:
    """Points must lie in the council's municipality (with a 50 m tolerance for boundary homes)."""
    from server.tenancy.models import Tenant

    inside = (
        await db.execute(
            select(
                func.coalesce(
                    func.ST_DWithin(
                        func.ST_GeogFromWKB(func.ST_AsBinary(Tenant.boundary)),
                        func.ST_GeogFromText(f"SRID=4326;{geom.wkt}"),
                        50,
                    ),
                    True,
                )
            ).where(Tenant.id == tenant_id)
        )
    ).scalar_one()
    if not inside:
        return FieldError(
            field,
            "outside_area",
            "位置が市の区域外です。地図上の位置（緯度・経度）を確認してください。",
            "The location lies outside the municipality. Check the latitude and longitude.",
        )
    return None


def parse_area(field: str, geometry: dict[str, Any] | msgspec.Struct) -> MultiPolygon:
    """GeoJSON Polygon/MultiPolygon (a typed body's `AreaGeometry`, or a dict) → valid MultiPolygon,
    or a validation problem."""
    raw = msgspec.to_builtins(geometry) if isinstance(geometry, msgspec.Struct) else geometry
    try:
        geom = shape(raw)
    except Exception as exc:  # malformed GeoJSON geometry of any kind
        raise Problem(
            "validation_failed",
            errors=[FieldError(field, "invalid", "ジオメトリを読み取れません。", "The geometry cannot be read.")],
        ) from exc
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    if not isinstance(geom, MultiPolygon) or geom.is_empty:
        raise Problem(
            "validation_failed",
            errors=[
                FieldError(
                    field,
                    "invalid",
                    "ポリゴン（Polygon/MultiPolygon）を指定してください。",
                    "A Polygon or MultiPolygon is required.",
                )
            ],
        )
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise Problem(
            "validation_failed",
            errors=[
                FieldError(
                    field,
                    "wrong_crs",
                    "座標が経度・緯度（WGS84）ではありません。",
                    "Coordinates are not longitude/latitude (WGS84).",
                )
            ],
        )
    if not geom.is_valid:
        raise Problem(
            "validation_failed",
            errors=[
                FieldError(
                    field, "invalid_geometry", "ポリゴンが自己交差しています。", "The polygon intersects itself."
                )
            ],
        )
    return geom


REASSIGN_HOUSEHOLDS = text(
    """
    UPDATE household h SET district_id = (
        SELECT d.id FROM district d
        WHERE d.tenant_id = h.tenant_id AND ST_Covers(d.geom, h.location)
        ORDER BY CASE d.level WHEN 'unit' THEN 0 WHEN 'branch' THEN 1 ELSE 2 END, ST_Area(d.geom)
        LIMIT 1)
    WHERE h.tenant_id = :tenant AND (CAST(:only AS uuid[]) IS NULL OR h.id = ANY(CAST(:only AS uuid[])))
    """
)


async def reassign_households(db: AsyncSession, tenant_id: uuid.UUID, only: list[uuid.UUID] | None = None) -> None:
    """Households belong to the deepest district that contains them; rerun when districts change."""
    await db.execute(REASSIGN_HOUSEHOLDS, {"tenant": tenant_id, "only": only})
