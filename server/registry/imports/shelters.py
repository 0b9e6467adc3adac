"""GSI shelter CSV (指定緊急避難場所 / 指定避難所) → shelters, upserted by (共通ID, kind)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from imports import ShelterRecord, parse_gsi_shelters_csv
from server.audit.record import record as audit
from server.db.base import uuid7
from server.registry import models as m
from server.registry.imports.common import ImportReport, lock, too_long
from server.registry.validation import tenant_area, to_db


@dataclass(frozen=True)
class ShelterOptions:
    municipality: str | None = None
    filename: str | None = None


def _shelter_note(rec: ShelterRecord) -> str | None:
    parts = [rec.note] if rec.note else []
    if rec.accepted_persons:
        parts.append(f"受入対象者: {rec.accepted_persons}")
    if rec.other_matters:
        parts.append(f"その他: {rec.other_matters}")
    return "\n".join(parts) or None


async def import_shelters(
    db: AsyncSession, tenant_id: uuid.UUID, data: bytes, options: ShelterOptions, *, dry_run: bool
) -> ImportReport:
    """GSI 指定緊急避難場所 / 指定避難所 CSV → upsert by (tenant, 共通ID, kind).

    Re-importing a newer national file updates the listed facts (name, address, place, hazard
    flags, note) and keeps what the council manages (capacity, open/closed, occupancy).
    """
    if not dry_run:
        await lock(db, "shelters", tenant_id)
    area = await tenant_area(db, tenant_id)
    result = parse_gsi_shelters_csv(data, area=area, municipality=options.municipality)
    report = ImportReport("shelters", dry_run, total_rows=result.total_rows, issues=list(result.issues),
                          encoding=result.encoding)
    planned: list[ShelterRecord] = []
    for rec in result.records:
        bad = too_long(report, rec.row, "共通ID", "共通ID", rec.source_id, 64)
        bad |= too_long(report, rec.row, "施設・場所名", "施設・場所名", rec.name, 200)
        bad |= too_long(report, rec.row, "住所", "住所", rec.address, 300)
        if not bad:
            planned.append(rec)
    existing: dict[tuple[str | None, str], m.Shelter] = {}
    if planned:
        rows = await db.execute(
            select(m.Shelter).where(m.Shelter.tenant_id == tenant_id,
                                    m.Shelter.source_id.in_(sorted({r.source_id for r in planned})))
        )
        existing = {(s.source_id, s.kind): s for s in rows.scalars()}
    report.updated = sum(1 for r in planned if (r.source_id, r.kind) in existing)
    report.created = len(planned) - report.updated
    report.skipped = report.total_rows - len(planned)
    if report.stop_before_writing(dry_run):
        return report
    ids = []
    for rec in planned:
        s = existing.get((rec.source_id, rec.kind))
        if s is None:
            s = m.Shelter(tenant_id=tenant_id, id=uuid7(), source_id=rec.source_id, kind=rec.kind)
            db.add(s)
        s.name, s.address, s.note = rec.name, rec.address, _shelter_note(rec)
        s.location = to_db(Point(rec.lon, rec.lat))
        s.hazards = list(rec.hazards)
        ids.append(s.id)
    await db.flush()
    report.written_ids = ids
    await audit(db, "import.shelters", object_type="shelter", object_ids=ids, details={
        "filename": options.filename, "created": report.created, "updated": report.updated,
        "municipality": options.municipality,
    })
    return report
