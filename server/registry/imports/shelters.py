"""GSI shelter CSV (指定緊急避難場所 / 指定避難所) → shelters, upserted by (共通ID, kind), one per facility."""

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
from vocab import SHELTER_KINDS


@dataclass(frozen=True)
class ShelterOptions:
    municipality: str | None = None
    filename: str | None = None


def _facility(source_id: str | None) -> str | None:
    """The facility part of a 共通ID (as `ShelterRecord.facility_key`), None for other ids."""
    if source_id and len(source_id) >= 11 and source_id[0] == "E" and source_id[1:11].isdigit():
        return source_id[:11]
    return None


def _with(s: m.Shelter, kind: str) -> list[str]:
    return [k for k in SHELTER_KINDS if k in {kind, s.kind, *(s.designations or [])}]


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
    A facility that is both (the same facility number in the 共通ID and the same name, as the
    national data lists a school under each layout) is one shelter with both designations, in
    whichever order the two files come: the designated shelter's id, place and address, the
    emergency site's hazard flags.
    """
    if not dry_run:
        await lock(db, "shelters", tenant_id)
    area = await tenant_area(db, tenant_id)
    result = parse_gsi_shelters_csv(data, area=area, municipality=options.municipality)
    report = ImportReport(
        "shelters", dry_run, total_rows=result.total_rows, issues=list(result.issues), encoding=result.encoding
    )
    planned: list[ShelterRecord] = []
    for rec in result.records:
        bad = too_long(report, rec.row, "共通ID", "共通ID", rec.source_id, 64)
        bad |= too_long(report, rec.row, "施設・場所名", "施設・場所名", rec.name, 200)
        bad |= too_long(report, rec.row, "住所", "住所", rec.address, 300)
        if not bad:
            planned.append(rec)
    # A municipality has tens to hundreds of shelters: all of the tenant's, to find merge partners too.
    rows: list[m.Shelter] = []
    if planned:
        rows = list((await db.execute(select(m.Shelter).where(m.Shelter.tenant_id == tenant_id))).scalars())
    existing = {(s.source_id, s.kind): s for s in rows}
    existing |= {(other, k): s for s in rows for other in (s.other_source_ids or []) for k in SHELTER_KINDS}
    facilities = {(_facility(s.source_id), s.name): s for s in rows if _facility(s.source_id)}
    plan: list[tuple[ShelterRecord, m.Shelter | None]] = []
    for rec in planned:
        s = existing.get((rec.source_id, rec.kind))
        if s is None and rec.facility_key:
            # the same facility under its other designation: one shelter with both (see the docstring)
            s = facilities.get((rec.facility_key, rec.name))
        plan.append((rec, s))
    report.updated = sum(1 for _, s in plan if s is not None)
    report.created = len(planned) - report.updated
    report.skipped = report.total_rows - len(planned)
    if report.stop_before_writing(dry_run):
        return report
    ids = []
    for rec, s in plan:
        if s is None:
            s = m.Shelter(
                tenant_id=tenant_id, id=uuid7(), source_id=rec.source_id, kind=rec.kind, designations=[rec.kind]
            )
            db.add(s)
            if rec.facility_key:
                facilities[(rec.facility_key, rec.name)] = s
        elif s.kind != rec.kind and rec.kind != "designated":
            # an emergency site at a designated shelter: its designation and hazard flags only
            s.designations = _with(s, rec.kind)
            s.other_source_ids = sorted({*(s.other_source_ids or []), rec.source_id})
            s.hazards = list(rec.hazards)
            ids.append(s.id)
            continue
        elif s.kind != rec.kind:
            # a designated shelter at an emergency site already imported: the shelter leads
            s.other_source_ids = sorted({*(s.other_source_ids or []), *([s.source_id] if s.source_id else [])})
            s.designations, s.kind, s.source_id = _with(s, rec.kind), rec.kind, rec.source_id
        s.name, s.address, s.note = rec.name, rec.address, _shelter_note(rec)
        s.location = to_db(Point(rec.lon, rec.lat))
        if rec.kind != "designated" or "emergency_site" not in (s.designations or []):
            s.hazards = list(rec.hazards)  # the designated layout has no hazard flags of its own
        ids.append(s.id)
    await db.flush()
    report.written_ids = ids
    await audit(
        db,
        "import.shelters",
        object_type="shelter",
        object_ids=ids,
        details={
            "filename": options.filename,
            "created": report.created,
            "updated": report.updated,
            "municipality": options.municipality,
        },
    )
    return report
