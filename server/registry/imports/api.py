"""`POST /api/imports/{kind}`: upload a roster CSV, district or hazard-zone GeoJSON, or a GSI shelter CSV.

The clerk's loop (PRODUCT.md §4): upload with `?dry_run=true`, read the per-row report, fix the
file, upload again; then commit. A commit writes the whole file in one transaction or, when the
report has any error, nothing at all (422 `import_failed`, with the same report in `report`).
The parsing is in `imports` and `geo.geojson_areas`, the database step beside this file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar import Controller, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.status_codes import HTTP_200_OK

from imports.roster_csv import FIELDS as ROSTER_FIELDS
from server.audit.record import record as audit
from server.core.context import current_tenant
from server.core.guards import STAFF
from server.core.input import check_json_upload, parse_form_first
from server.core.problems import FieldError, Problem
from server.db.deps import DbSession
from server.registry.imports import areas, roster, shelters
from server.registry.imports.common import ImportReport
from vocab import DISTRICT_LEVELS, HAZARD_ZONE_KINDS, RECIPIENT_CLASSES

KINDS = ("roster", "districts", "hazard-zones", "shelters")
OBJECT_TYPES = {"roster": "person", "districts": "district", "hazard-zones": "hazard_zone", "shelters": "shelter"}


# Form fields hold at most what their column (or their use) takes.
_Key = Annotated[str, msgspec.Meta(max_length=100)]
_Code = Annotated[str, msgspec.Meta(max_length=64)]


@dataclass
class ImportForm:
    """multipart/form-data fields. Only `file` is needed for every kind; the rest depend on the kind."""

    file: UploadFile | None = None
    # roster
    # JSON object: header as written in the file → field (name, birth_date, …)
    mapping: Annotated[str, msgspec.Meta(max_length=10_000)] | None = None
    # how consent was obtained, e.g. 同意書(2026-04 郵送)
    consent_source: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    # comma-separated recipient classes the consent covers (default all)
    consent_classes: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    # districts
    level: _Code | None = None  # area / branch / unit (required)
    parent_code: _Code | None = None
    code_key: _Key | None = None  # property holding the district code (default code, コード, N03_007)
    # districts and hazard zones
    name_key: _Key | None = None  # property holding the name (default name, 名称, N03_004)
    # hazard zones
    hazard_kind: _Code | None = None  # flood / landslide / other (required)
    level_key: _Key | None = None  # property holding the depth or class, e.g. A31_001
    # where the data came from (default: the file name)
    source: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    # shelters: e.g. 茨城県笠間市 (other municipalities' rows of a national file are skipped)
    municipality: _Key | None = None


class Message(msgspec.Struct):
    ja: str
    en: str


class IssueOut(msgspec.Struct):
    row: int | None
    column: str | None
    code: str
    severity: str
    message: Message


class ApproximateLocationOut(msgspec.Struct):
    row: int
    address: str
    town: str | None


class ImportReportOut(msgspec.Struct, omit_defaults=True):
    kind: str
    dry_run: bool
    committed: bool
    total_rows: int
    created: int
    updated: int
    skipped: int
    errors: int
    warnings: int
    issues: list[IssueOut]
    approximate_locations: list[ApproximateLocationOut]
    households_created: int | None = None  # roster: households created (people are in `created`)


def _text(value: str | None) -> str | None:
    value = value.strip() if isinstance(value, str) else None
    return value or None


def _choice(field: str, value: str | None, allowed: dict[str, str], *, required: bool) -> str | None:
    value = _text(value)
    if value is None:
        if required:
            raise Problem("validation_failed", errors=[FieldError(field, "required")])
        return None
    if value not in allowed:
        choices = "、".join(f"{k}（{v}）" for k, v in allowed.items())
        raise Problem(
            "validation_failed",
            errors=[FieldError(field, "invalid", f"使える値: {choices}", f"Allowed values: {', '.join(allowed)}")],
        )
    return value


def _mapping(raw: str | None) -> dict[str, str] | None:
    raw = _text(raw)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        value = None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise Problem(
            "validation_failed",
            errors=[
                FieldError(
                    "mapping",
                    "invalid",
                    '列の対応は {"ファイルの列名": "項目"} の形のJSONで指定してください。',
                    'The mapping must be a JSON object {"header in the file": "field"}.',
                )
            ],
        )
    unknown = sorted(set(value.values()) - ROSTER_FIELDS)
    if unknown:
        raise Problem(
            "validation_failed",
            errors=[
                FieldError(
                    "mapping",
                    "invalid",
                    f"不明な項目: {', '.join(unknown)}。使える項目: {', '.join(sorted(ROSTER_FIELDS))}",
                    f"Unknown field(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(ROSTER_FIELDS))}",
                )
            ],
        )
    return value


def _classes(raw: str | None) -> tuple[str, ...]:
    raw = _text(raw)
    if raw is None:
        return tuple(RECIPIENT_CLASSES)
    classes = tuple(dict.fromkeys(c.strip() for c in raw.replace("、", ",").split(",") if c.strip()))
    unknown = [c for c in classes if c not in RECIPIENT_CLASSES]
    if unknown or not classes:
        raise Problem(
            "validation_failed",
            errors=[
                FieldError(
                    "consent_classes",
                    "invalid",
                    f"不明な提供先: {', '.join(unknown)}",
                    f"Unknown recipient class(es): {', '.join(unknown)}. Allowed: {', '.join(RECIPIENT_CLASSES)}",
                )
            ],
        )
    return classes


async def _run(db: DbSession, kind: str, form: ImportForm, content: bytes, *, dry_run: bool) -> ImportReport:
    tenant = current_tenant()
    filename = (form.file.filename if form.file else None) or None
    if kind == "roster":
        options = roster.RosterOptions(
            mapping=_mapping(form.mapping),
            consent_source=_text(form.consent_source),
            consent_classes=_classes(form.consent_classes),
            filename=filename,
        )
        return await roster.import_roster(db, tenant, content, options, dry_run=dry_run)
    if kind == "districts":
        level = _choice("level", form.level, DISTRICT_LEVELS, required=True)
        assert level is not None
        district_options = areas.DistrictOptions(
            level=level,
            parent_code=_text(form.parent_code),
            name_key=_text(form.name_key),
            code_key=_text(form.code_key),
            filename=filename,
        )
        return await areas.import_districts(db, tenant, content, district_options, dry_run=dry_run)
    if kind == "hazard-zones":
        hazard_kind = _choice("hazard_kind", form.hazard_kind, HAZARD_ZONE_KINDS, required=True)
        assert hazard_kind is not None
        zone_options = areas.HazardZoneOptions(
            hazard_kind=hazard_kind,
            level_key=_text(form.level_key),
            name_key=_text(form.name_key),
            source=_text(form.source),
            filename=filename,
        )
        return await areas.import_hazard_zones(db, tenant, content, zone_options, dry_run=dry_run)
    shelter_options = shelters.ShelterOptions(municipality=_text(form.municipality), filename=filename)
    return await shelters.import_shelters(db, tenant, content, shelter_options, dry_run=dry_run)


async def _audit_report_read(db: DbSession, action: str, report: ImportReport, filename: str | None) -> None:
    """A report that wrote nothing, as a read: a roster's shows personal data (the file's rows, and the
    ids of registered people it duplicates), so who saw it is kept like any other read."""
    await audit(
        db,
        action,
        object_type=OBJECT_TYPES[report.kind],
        object_ids=dict.fromkeys(report.referenced_ids),
        details={
            "kind": report.kind,
            "filename": filename,
            "rows": report.total_rows,
            "errors": sum(i.severity == "error" for i in report.issues),
        },
    )


class ImportController(Controller):
    path = "/api/imports"
    tags = ("imports",)

    @post(
        "/{kind:str}",
        guards=[STAFF, parse_form_first],
        status_code=HTTP_200_OK,
        summary="Import a file (dry run first, then an all-or-nothing commit)",
        description=(
            "`kind`: `roster` (避難行動要支援者名簿 CSV, UTF-8 or Shift_JIS/CP932; optional `mapping`, "
            "`consent_source`, `consent_classes`), `districts` (GeoJSON; `level` required, optional "
            "`parent_code`, `name_key`, `code_key`), `hazard-zones` (GeoJSON; `hazard_kind` required, optional "
            "`level_key`, `name_key`, `source`), `shelters` (国土地理院 指定緊急避難場所 / 指定避難所 CSV; "
            "optional `municipality`). `?dry_run=true` only reports. A commit with any error-severity issue "
            "writes nothing and answers 422 `import_failed` with the report in `report`."
        ),
    )
    async def import_file(
        self,
        db_session: DbSession,
        kind: FromPath[str],
        data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART, title="Import upload")],
        dry_run: FromQuery[bool] = False,
    ) -> ImportReportOut:
        if kind not in KINDS:
            raise Problem(
                "not_found",
                detail_ja=f"取り込みの種類は {', '.join(KINDS)} のいずれかです。",
                detail_en=f"The import kind must be one of {', '.join(KINDS)}.",
            )
        if data.file is None:
            raise Problem(
                "validation_failed",
                errors=[
                    FieldError("file", "required", "取り込むファイルを選んでください。", "Choose a file to import.")
                ],
            )
        try:
            content = await data.file.read()
        finally:
            await data.file.close()
        filename = data.file.filename or None
        if kind in ("districts", "hazard-zones"):
            check_json_upload("file", content)
        report = await _run(db_session, kind, data, content, dry_run=dry_run)
        out = msgspec.convert(report.as_dict(), ImportReportOut)
        if dry_run:
            await db_session.rollback()  # nothing was written; end the read transaction
            if kind == "roster":
                await _audit_report_read(db_session, "import.dry_run", report, filename)
                await db_session.commit()
            return out
        if not report.ok:
            await db_session.rollback()  # all or nothing: nothing (the checks wrote nothing anyway)
            await _audit_report_read(db_session, "import.rejected", report, filename)
            await db_session.commit()
            raise Problem("import_failed", extra={"report": msgspec.to_builtins(out)})
        await db_session.commit()
        out.committed = True
        return out
