"""District and hazard-zone GeoJSON → districts (upserted by code) and hazard zones.

The parser (`geo.geojson_areas`) yields valid lon/lat MultiPolygons; here each one is checked
against the tenant's outline and the districts already there.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.geojson_areas import DEFAULT_CODE_KEYS, DEFAULT_NAME_KEYS, parse_geojson_areas
from imports.report import error, warning
from server.audit.record import record as audit
from server.core.problems import FieldError, Problem
from server.db.base import uuid7
from server.registry import models as m
from server.registry.imports.common import ImportReport, lock, too_long
from server.registry.validation import reassign_households, tenant_area, to_db
from vocab import DISTRICT_LEVELS

_LEVEL_ORDER = {"area": 0, "branch": 1, "unit": 2}


@dataclass(frozen=True)
class DistrictOptions:
    level: str
    parent_code: str | None = None
    name_key: str | None = None
    code_key: str | None = None
    filename: str | None = None


@dataclass(frozen=True)
class HazardZoneOptions:
    hazard_kind: str
    level_key: str | None = None
    name_key: str | None = None
    source: str | None = None
    filename: str | None = None


def _keys(custom: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    return (custom, *default) if custom else default


def _outside(area: BaseGeometry | None, geom: BaseGeometry) -> tuple[bool, float]:
    """(entirely outside the tenant's area, share of the geometry's area that lies outside it)."""
    if area is None:
        return False, 0.0
    if not area.intersects(geom):
        return True, 1.0
    if area.covers(geom) or not geom.area:
        return False, 0.0
    return False, geom.difference(area).area / geom.area


async def _prepared_area(db: AsyncSession, tenant_id: uuid.UUID) -> BaseGeometry | None:
    area = await tenant_area(db, tenant_id)
    if area is not None:
        shapely.prepare(area)  # many features are tested against one outline
    return area


def _code_from_name(name: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))


async def import_districts(
    db: AsyncSession, tenant_id: uuid.UUID, data: bytes, options: DistrictOptions, *, dry_run: bool
) -> ImportReport:
    """District GeoJSON → upsert by (tenant, code); then every household is re-assigned."""
    if options.level not in DISTRICT_LEVELS:
        raise Problem("validation_failed", errors=[FieldError("level", "invalid")])
    if not dry_run:
        await lock(db, "districts", tenant_id)
    parent: m.District | None = None
    if options.parent_code:
        parent = (
            await db.execute(
                select(m.District).where(m.District.tenant_id == tenant_id, m.District.code == options.parent_code)
            )
        ).scalar_one_or_none()
        if parent is None:
            raise Problem(
                "validation_failed",
                errors=[
                    FieldError(
                        "parent_code",
                        "not_found",
                        f"コード「{options.parent_code}」の地区がありません。",
                        f"There is no district with code '{options.parent_code}'.",
                    )
                ],
            )
        if _LEVEL_ORDER[parent.level] >= _LEVEL_ORDER[options.level]:
            raise Problem(
                "validation_failed",
                errors=[
                    FieldError(
                        "parent_code",
                        "invalid",
                        f"親の地区（{DISTRICT_LEVELS[parent.level]}）は{DISTRICT_LEVELS[options.level]}より上の階層にしてください。",
                        f"The parent ({parent.level}) must be a higher level than {options.level}.",
                    )
                ],
            )
    result = parse_geojson_areas(
        data,
        name_keys=_keys(options.name_key, DEFAULT_NAME_KEYS),
        code_keys=_keys(options.code_key, DEFAULT_CODE_KEYS),
    )
    report = ImportReport("districts", dry_run, total_rows=result.total_rows, issues=list(result.issues))
    area = await _prepared_area(db, tenant_id)
    seen: dict[str, int] = {}
    planned: list[tuple[str, str, Any]] = []
    for rec in result.records:
        name, code = rec.name, rec.code
        if not name and not code:
            report.issues.append(
                error(
                    rec.row,
                    "properties",
                    "missing_name",
                    "地区の名前もコードもありません（properties の name / code）。",
                    "The district has neither a name nor a code (properties name / code).",
                )
            )
            continue
        if not code:
            code = _code_from_name(name or "")
        if not name:
            name = code
            report.issues.append(
                warning(
                    rec.row,
                    "properties",
                    "missing_name",
                    f"名前がないため、コード「{code}」を地区名にしました。取り込み後に画面で直してください。",
                    f"No name: the code '{code}' is used as the district name; rename it on screen.",
                )
            )
        bad = too_long(report, rec.row, "code", "コード", code, 64)
        bad |= too_long(report, rec.row, "name", "名前", name, 200)
        if code in seen:
            report.issues.append(
                error(
                    rec.row,
                    "code",
                    "duplicate_in_file",
                    f"コード「{code}」は{seen[code]}件目と重複しています。",
                    f"Code '{code}' repeats feature {seen[code]}.",
                )
            )
            bad = True
        else:
            seen[code] = rec.row
        if options.parent_code and code == options.parent_code:
            report.issues.append(
                error(
                    rec.row,
                    "code",
                    "parent_is_self",
                    "地区を自分自身の下に置くことはできません。",
                    "A district cannot be its own parent.",
                )
            )
            bad = True
        entirely, share = _outside(area, rec.geometry)
        if entirely:
            report.issues.append(
                error(
                    rec.row,
                    "geometry",
                    "outside_area",
                    "地区が市の区域の外にあります。座標系や範囲を確認してください。",
                    "The district lies outside the municipality; check the coordinates.",
                )
            )
            bad = True
        elif share > 0.05:
            report.issues.append(
                warning(
                    rec.row,
                    "geometry",
                    "partly_outside_area",
                    f"地区の約{round(share * 100)}%が市の区域の外にあります。",
                    f"About {round(share * 100)}% of the district lies outside the municipality.",
                )
            )
        if not bad:
            planned.append((code, name, rec.geometry))
    existing: dict[str, m.District] = {}
    if planned:
        found = await db.execute(
            select(m.District).where(m.District.tenant_id == tenant_id, m.District.code.in_([c for c, _, _ in planned]))
        )
        existing = {d.code: d for d in found.scalars()}
    report.updated = sum(1 for c, _, _ in planned if c in existing)
    report.created = len(planned) - report.updated
    report.skipped = report.total_rows - len(planned)
    if report.stop_before_writing(dry_run):
        return report
    ids: list[uuid.UUID] = []
    for code, name, geom in planned:
        d = existing.get(code)
        if d is None:
            d = m.District(tenant_id=tenant_id, id=uuid7(), code=code)
            db.add(d)
        d.name, d.level, d.geom = name, options.level, to_db(geom)
        if parent is not None:
            d.parent_id = parent.id
        ids.append(d.id)
    await db.flush()
    await reassign_households(db, tenant_id)
    report.written_ids = ids
    await audit(
        db,
        "import.districts",
        object_type="district",
        object_ids=ids,
        details={
            "filename": options.filename,
            "level": options.level,
            "parent_code": options.parent_code,
            "created": report.created,
            "updated": report.updated,
        },
    )
    return report


async def import_hazard_zones(
    db: AsyncSession, tenant_id: uuid.UUID, data: bytes, options: HazardZoneOptions, *, dry_run: bool
) -> ImportReport:
    """Hazard-zone GeoJSON → new hazard_zone rows; features wholly outside the municipality are skipped."""
    result = parse_geojson_areas(data, name_keys=_keys(options.name_key, DEFAULT_NAME_KEYS))
    report = ImportReport("hazard-zones", dry_run, total_rows=result.total_rows, issues=list(result.issues))
    area = await _prepared_area(db, tenant_id)
    source = options.source or options.filename
    too_long(report, None, "source", "出典", source, 300)
    planned: list[tuple[str | None, str | None, Any]] = []
    outside = 0
    for rec in result.records:
        level: str | None = None
        if options.level_key:
            raw = rec.properties.get(options.level_key)
            if raw in (None, ""):
                report.issues.append(
                    warning(
                        rec.row,
                        options.level_key,
                        "missing_level",
                        f"「{options.level_key}」の値がありません。",
                        f"The feature has no '{options.level_key}' value.",
                    )
                )
            else:
                level = unicodedata.normalize("NFKC", str(raw)).strip()
        bad = too_long(report, rec.row, options.level_key, options.level_key or "level", level, 64)
        bad |= too_long(report, rec.row, "name", "名前", rec.name, 200)
        if _outside(area, rec.geometry)[0]:
            outside += 1
            continue
        if not bad:
            planned.append((level, rec.name, rec.geometry))
    if outside:
        report.issues.append(
            warning(
                None,
                "geometry",
                "outside_area_skipped",
                f"市の区域と重ならない{outside}件の区域は取り込みません。",
                f"{outside} zones that do not overlap the municipality are skipped.",
            )
        )
    report.created = len(planned)
    report.skipped = report.total_rows - len(planned)
    if report.stop_before_writing(dry_run):
        return report
    ids = []
    for level, name, geom in planned:
        z = m.HazardZone(
            tenant_id=tenant_id,
            id=uuid7(),
            kind=options.hazard_kind,
            level=level,
            name=name,
            source=source,
            geom=to_db(geom),
        )
        db.add(z)
        ids.append(z.id)
    await db.flush()
    report.written_ids = ids
    await audit(
        db,
        "import.hazard_zones",
        object_type="hazard_zone",
        object_ids=ids,
        details={
            "filename": options.filename,
            "kind": options.hazard_kind,
            "created": len(ids),
            "skipped_outside": outside,
        },
    )
    return report
