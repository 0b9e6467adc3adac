"""The commit step of the imports: tenant checks, database duplicates, all-or-nothing writes.

The parsers in `imports` (and `geo.geojson_areas`) turn uploaded bytes into records plus a per-row report without a
database. Each function here adds what needs the tenant's data (its town list, boundary, people
already registered, districts and shelters) and returns one `ImportReport`. On a dry run, or when
the report holds any error, nothing is written; otherwise every row is written in the caller's
transaction together with one audit entry, and the caller commits once. So a file goes in whole
or not at all.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Date, any_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from geo.geojson_areas import DEFAULT_CODE_KEYS, DEFAULT_NAME_KEYS, parse_geojson_areas
from imports import (
    Gazetteer,
    ImportIssue,
    RosterRecord,
    ShelterRecord,
    Town,
    parse_gsi_shelters_csv,
    parse_roster_csv,
)
from imports.csvtext import clean_cell, decode_csv_bytes, header_key, locate_header, map_columns, read_rows
from imports.fields import normalise_phone
from imports.jpdate import parse_japanese_date
from imports.report import FieldError as CellError
from imports.report import error, warning
from imports.roster_csv import HEADER_ALIASES
from imports.towns import address_key
from server.audit.record import record as audit
from server.core.problems import FieldError, Problem
from server.core.types import NOTE_MAX
from server.db.base import uuid7
from server.registry import models as m
from server.registry.validation import reassign_households, tenant_area, to_db
from vocab import DISTRICT_LEVELS, RECIPIENT_CLASSES, SUPPORT_REASONS

# ---- the report ------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import found and did (or, on a dry run, would do).

    `created`/`updated` count people for a roster (households separately), else features/rows.
    `skipped` counts rows read but not imported. The id lists feed the audit log, not the client.
    """

    kind: str
    dry_run: bool
    committed: bool = False
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    issues: list[ImportIssue] = field(default_factory=list)
    approximate_locations: list[dict[str, Any]] = field(default_factory=list)
    households_created: int | None = None  # roster only
    encoding: str | None = None
    written_ids: list[uuid.UUID] = field(default_factory=list)
    referenced_ids: list[uuid.UUID] = field(default_factory=list)  # existing people named in issues

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

    def error_rows(self) -> set[int]:
        return {i.row for i in self.issues if i.severity == "error" and i.row is not None}

    def has_file_error(self) -> bool:
        return any(i.severity == "error" and i.row is None for i in self.issues)

    def nothing_written(self) -> None:
        """A refused commit: counts say what happened, which is nothing."""
        self.created = self.updated = 0
        if self.households_created is not None:
            self.households_created = 0
        self.skipped = self.total_rows

    def stop_before_writing(self, dry_run: bool) -> bool:
        """True when nothing may be written: a dry run, or any error (all-or-nothing)."""
        if not self.ok:
            if not dry_run:
                self.nothing_written()
            return True
        return dry_run

    def as_dict(self) -> dict[str, Any]:
        issues = sorted(self.issues, key=lambda i: (i.row is not None, i.row or 0))
        out: dict[str, Any] = {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "total_rows": self.total_rows,
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "errors": sum(i.severity == "error" for i in issues),
            "warnings": sum(i.severity == "warning" for i in issues),
            "issues": [
                {
                    "row": i.row,
                    "column": i.column,
                    "code": i.code,
                    "severity": i.severity,
                    "message": {"ja": i.message_ja, "en": i.message_en},
                }
                for i in issues
            ],
            "approximate_locations": self.approximate_locations,
        }
        if self.households_created is not None:
            out["households_created"] = self.households_created
        return out


def _too_long(report: ImportReport, row: int | None, column: str | None, what: str, value: str | None, limit: int) -> bool:
    if value is not None and len(value) > limit:
        report.issues.append(
            error(
                row,
                column,
                "too_long",
                f"「{what}」が長すぎます（{len(value)}文字、上限{limit}文字）。",
                f"'{what}' is too long ({len(value)} characters, at most {limit}).",
            )
        )
        return True
    return False


async def _lock(db: AsyncSession, kind: str, tenant_id: uuid.UUID) -> None:
    """One import of a kind per tenant at a time, so two uploads of one file cannot both pass the checks."""
    await db.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:kind), hashtext(:tenant))"),
        {"kind": f"tonari.import.{kind}", "tenant": str(tenant_id)},
    )


async def _tenant(db: AsyncSession, tenant_id: uuid.UUID) -> Any:
    from server.tenancy.models import Tenant

    tenant = await db.get(Tenant, tenant_id)
    if tenant is None:  # the session's tenant always exists; a guard against misuse
        raise Problem("not_found")
    return tenant


def _today(tenant: Any) -> date:
    try:
        return datetime.now(ZoneInfo(tenant.time_zone)).date()
    except Exception:  # an unknown zone name must not block an import
        return date.today()


# ---- addresses -------------------------------------------------------------------------------

PREFECTURES: tuple[str, ...] = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)  # fmt: skip
_COUNCIL = re.compile(r"([^\s]+?[市区町村])(?:社会福祉協議会|社協)")


def address_prefixes(tenant_name: str) -> list[str]:
    """What the Gazetteer strips from the front of an address: any prefecture, then the tenant's city.

    The city comes from the council's name (笠間市社会福祉協議会 → 笠間市); for 郡 towns both the
    full form (東茨城郡城里町) and the short one (城里町) are stripped. Each prefix is removed only
    when present, so listing every prefecture is harmless: an address starts with at most one.
    """
    name = unicodedata.normalize("NFKC", tenant_name).replace("社会福祉法人", " ")
    for pref in PREFECTURES:
        name = name.replace(pref, " ")
    prefixes = list(PREFECTURES)
    if (m_ := _COUNCIL.search(name)) is not None:
        city = m_.group(1)
        prefixes.append(city)
        if "郡" in city[:-1]:
            prefixes.append(city.split("郡", 1)[1])
    return prefixes


async def gazetteer_for(db: AsyncSession, tenant_id: uuid.UUID, tenant_name: str) -> tuple[Gazetteer, int]:
    """The tenant's town list (大字・町丁目 with representative points) and its size."""
    rows = (
        await db.execute(
            select(m.Town.name, m.Town.koaza, func.ST_Y(m.Town.location), func.ST_X(m.Town.location)).where(
                m.Town.tenant_id == tenant_id
            )
        )
    ).all()
    towns = [Town(f"{name}{koaza or ''}", float(lat), float(lon)) for name, koaza, lat, lon in rows]
    return Gazetteer(towns, prefixes=address_prefixes(tenant_name)), len(towns)


# ---- roster ----------------------------------------------------------------------------------

# Consent columns are read here (the roster parser does not know them): yes/no plus an optional date.
CONSENT_ALIASES: dict[str, tuple[str, ...]] = {
    "consent": (
        "同意", "同意有無", "同意の有無", "同意区分", "同意状況", "名簿提供同意", "名簿情報提供同意",
        "情報提供同意", "外部提供同意", "提供同意",
    ),
    "consent_date": ("同意日", "同意年月日", "同意取得日"),
}  # fmt: skip
_CONSENT_YES = {"1", "○", "◯", "〇", "●", "◎", "有", "あり", "有り", "同意", "同意あり", "同意有", "済", "同意済",
                "はい", "YES", "Y", "TRUE"}  # fmt: skip
_CONSENT_NO = {"", "0", "×", "✕", "-", "無", "なし", "無し", "不同意", "同意なし", "同意無", "未", "未同意",
               "いいえ", "NO", "N", "FALSE", "拒否"}  # fmt: skip
_DB_KANA = re.compile(r"^[ァ-ヶー・\u3000 ]*$")  # the person table's CHECK constraint
_PHONE_IN_TEXT = re.compile(r"(?:\+81|0)[\d\-‐－ー()（） ]{8,}\d")
_PARENS = re.compile(r"[(（]([^)）]{1,20})[)）]")
_RELATIONSHIPS = ("長男", "長女", "次男", "次女", "三男", "三女", "妻", "夫", "息子", "娘", "父", "母", "兄", "姉",
                  "弟", "妹", "孫", "甥", "姪", "嫁", "婿", "義理の娘", "義理の息子", "親戚", "知人", "友人",
                  "隣人", "ケアマネ", "ケアマネジャー")  # fmt: skip


@dataclass(frozen=True)
class RosterOptions:
    mapping: Mapping[str, str] | None = None  # file header → canonical field (parser fields, consent, consent_date)
    consent_source: str | None = None
    consent_classes: Sequence[str] = tuple(RECIPIENT_CLASSES)
    filename: str | None = None


@dataclass(frozen=True)
class _ConsentCell:
    given: bool
    on: date | None


def _split_mapping(mapping: Mapping[str, str] | None) -> tuple[dict[str, str], dict[str, str]]:
    parser, consent = {}, {}
    for header, fld in (mapping or {}).items():
        (consent if fld in CONSENT_ALIASES else parser)[header] = fld
    return parser, consent


def _roster_header(
    data: bytes, parser_mapping: Mapping[str, str], consent_mapping: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, tuple[int, str]], list[ImportIssue], list[tuple[int, list[str]]]]:
    """The header row as the parser finds it: labels of its fields, plus our consent columns and rows."""
    decoded = decode_csv_bytes(data)
    if isinstance(decoded, ImportIssue):
        return {}, {}, [], []
    rows_or_issue = read_rows(decoded[0])
    if isinstance(rows_or_issue, ImportIssue):
        return {}, {}, [], []
    rows = list(rows_or_issue)
    if not rows:
        return {}, {}, [], []
    aliases = {header_key(alias): fld for fld, names in HEADER_ALIASES.items() for alias in names}
    aliases.update({header_key(h): f for h, f in parser_mapping.items()})
    h = locate_header(rows, aliases)
    header_row, header = rows[h]
    fields, _ = map_columns(header, aliases, header_row)
    consent_aliases = {header_key(alias): fld for fld, names in CONSENT_ALIASES.items() for alias in names}
    consent_aliases.update({header_key(hd): f for hd, f in consent_mapping.items()})
    consent_cols, issues = map_columns(header, consent_aliases, header_row)
    return {f: label for f, (_, label) in fields.items()}, consent_cols, issues, rows[h + 1 :]


def _consent_cells(
    report: ImportReport,
    columns: dict[str, tuple[int, str]],
    rows: list[tuple[int, list[str]]],
    wanted: set[int],
    today: date,
) -> dict[int, _ConsentCell]:
    """Per data row: consent given or not, and when; issues for unreadable cells."""
    out: dict[int, _ConsentCell] = {}
    given_col, date_col = columns.get("consent"), columns.get("consent_date")
    for number, cells in rows:
        if number not in wanted:
            continue

        def cell(col: tuple[int, str] | None, cells: list[str] = cells) -> str:
            return clean_cell(cells[col[0]]) if col and col[0] < len(cells) else ""

        on: date | None = None
        raw_date = cell(date_col)
        if raw_date:
            try:
                on = parse_japanese_date(raw_date)
            except CellError as exc:
                report.issues.append(error(number, date_col[1] if date_col else None, "bad_date", exc.ja, exc.en))
                continue
            if on > today:
                report.issues.append(
                    error(
                        number,
                        date_col[1] if date_col else None,
                        "future_consent_date",
                        f"同意日「{raw_date}」（{on.isoformat()}）が未来の日付です。",
                        f"Consent date '{raw_date}' ({on.isoformat()}) is in the future.",
                    )
                )
                continue
        if given_col is None:
            given = on is not None  # only a date column: a date means consent was given
        else:
            raw = cell(given_col)
            key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw)).upper()
            if key in _CONSENT_YES:
                given = True
            elif key in _CONSENT_NO:
                given = False
            else:
                report.issues.append(
                    error(
                        number,
                        given_col[1],
                        "bad_consent",
                        f"同意欄「{raw}」を読めません。同意ありは「有」「○」「1」、なしは「無」「×」「0」か空欄にしてください。",
                        f"Consent cell '{raw}' is not understood; use 有/○/1 for consent, 無/×/0 or empty for none.",
                    )
                )
                continue
        if given and on is None:
            report.issues.append(
                warning(
                    number,
                    date_col[1] if date_col else given_col[1] if given_col else None,
                    "consent_date_missing",
                    f"同意日がないため、取り込み日（{today.isoformat()}）を同意日とします。",
                    f"No consent date: the import date ({today.isoformat()}) is recorded.",
                )
            )
        out[number] = _ConsentCell(given, on)
    return out


def _contact(raw: str) -> dict[str, str]:
    """緊急連絡先 as written (長男 笠間太郎 090-1234-5678) → {name, phone, relationship}."""
    phone = ""
    rest = raw
    if (found := _PHONE_IN_TEXT.search(raw)) is not None:
        try:
            phone = normalise_phone(found.group(0)) or ""
            rest = raw[: found.start()] + raw[found.end() :]
        except CellError:
            phone = ""
    relationship = ""
    if (paren := _PARENS.search(rest)) is not None:
        relationship = paren.group(1).strip()
        rest = rest[: paren.start()] + rest[paren.end() :]
    parts = re.split(r"[\s\u3000、,:：]+", rest.strip(" \u3000、,:："))
    if not relationship and len(parts) > 1 and parts[0] in _RELATIONSHIPS:
        relationship = parts.pop(0)
    name = "\u3000".join(p for p in parts if p) if not rest.isascii() else " ".join(p for p in parts if p)
    return {"name": name[:100], "phone": phone[:32], "relationship": relationship[:50]}


def _notes(rec: RosterRecord) -> str | None:
    """備考, plus the original wording of reasons/devices that only mapped to その他."""
    parts = [rec.note] if rec.note else []
    if "other" in rec.support_reasons and rec.support_reasons_raw:
        parts.append(f"避難支援等を必要とする事由（原文）: {rec.support_reasons_raw}")
    if "other" in rec.medical_devices and rec.medical_devices_raw:
        parts.append(f"医療機器（原文）: {rec.medical_devices_raw}")
    return "\n".join(parts) or None


async def _registry_duplicates(
    db: AsyncSession,
    tenant_id: uuid.UUID,
    records: list[RosterRecord],
    gazetteer: Gazetteer,
    report: ImportReport,
    name_label: str | None,
) -> None:
    """Rows naming someone already registered (same name, birth date and address)."""
    dates = sorted({r.birth_date for r in records})
    if not dates:
        return
    rows = await db.execute(
        select(m.Person.id, m.Person.name, m.Person.birth_date, m.Household.address)
        .join(m.Household, (m.Household.tenant_id == m.Person.tenant_id) & (m.Household.id == m.Person.household_id))
        .where(
            m.Person.tenant_id == tenant_id,
            m.Person.birth_date == any_(bindparam("dates", dates, type_=ARRAY(Date))),
        )
        .order_by(m.Person.created_at, m.Person.id)
    )
    existing: dict[tuple[str, date, str], list[uuid.UUID]] = {}
    for pid, name, birth, address in rows:
        existing.setdefault(_person_key(name, birth, address, gazetteer), []).append(pid)
    for rec in records:
        found = existing.get(_person_key(rec.name, rec.birth_date, rec.address, gazetteer))
        if not found:
            continue
        ids = ", ".join(str(i) for i in found)
        report.referenced_ids.extend(found)
        report.issues.append(
            error(
                rec.row,
                name_label,
                "duplicate_in_registry",
                f"すでに登録されている人（ID {ids}）と同じ人です（氏名・生年月日・住所が同じ）。"
                "二重登録を避けるため、この行を削除してください（変更は登録済みの情報を画面で更新します）。",
                f"Already registered as person {ids} (same name, birth date and address); remove this row "
                "(update the registered person on screen instead).",
            )
        )


def _person_key(name: str, birth: date, address: str, gazetteer: Gazetteer) -> tuple[str, date, str]:
    return header_key(name), birth, address_key(gazetteer.strip_prefixes(address))


def _household_groups(records: list[RosterRecord], gazetteer: Gazetteer) -> dict[tuple[str, str], list[RosterRecord]]:
    """Rows sharing a 世帯番号 form one household; rows without one, one household per address."""
    groups: dict[tuple[str, str], list[RosterRecord]] = {}
    for rec in records:
        key = (
            ("key", rec.household_key)
            if rec.household_key
            else ("address", address_key(gazetteer.strip_prefixes(rec.address)))
        )
        groups.setdefault(key, []).append(rec)
    return groups


def _check_roster_record(report: ImportReport, rec: RosterRecord, labels: dict[str, str]) -> None:
    """What the database would refuse, reported per cell instead of as a failed transaction."""
    _too_long(report, rec.row, labels.get("name"), labels.get("name", "氏名"), rec.name, 100)
    _too_long(report, rec.row, labels.get("address"), labels.get("address", "住所"), rec.address, 300)
    _too_long(report, rec.row, labels.get("kana"), labels.get("kana", "フリガナ"), rec.kana, 200)
    _too_long(report, rec.row, labels.get("phone"), labels.get("phone", "電話番号"), rec.phone, 32)
    _too_long(report, rec.row, labels.get("care_level"), labels.get("care_level", "要介護度"), rec.care_level, 32)
    _too_long(report, rec.row, labels.get("note"), labels.get("note", "備考"), _notes(rec), NOTE_MAX)
    if rec.kana and not _DB_KANA.match(rec.kana):
        report.issues.append(
            error(
                rec.row,
                labels.get("kana"),
                "bad_kana",
                f"フリガナ「{rec.kana}」に登録できない文字があります。通常のカタカナで入力してください。",
                f"Kana '{rec.kana}' contains characters that cannot be stored; use ordinary katakana.",
            )
        )
    unknown = [c for c in rec.support_reasons if c not in SUPPORT_REASONS]
    if unknown:  # the parser maps to the vocabulary; a guard should it ever drift
        report.issues.append(
            error(rec.row, labels.get("support_reasons"), "unknown_support_reason", f"不明な事由: {unknown}",
                  f"Unknown support reasons: {unknown}")
        )


async def import_roster(
    db: AsyncSession, tenant_id: uuid.UUID, data: bytes, options: RosterOptions, *, dry_run: bool
) -> ImportReport:
    """避難行動要支援者名簿 CSV → households and people (and consents when the file has consent columns)."""
    if not dry_run:
        await _lock(db, "roster", tenant_id)
    tenant = await _tenant(db, tenant_id)
    today = _today(tenant)
    gazetteer, town_count = await gazetteer_for(db, tenant_id, tenant.name)
    area = await tenant_area(db, tenant_id)
    parser_mapping, consent_mapping = _split_mapping(options.mapping)
    result = parse_roster_csv(
        data, towns=gazetteer if town_count else None, area=area, mapping=parser_mapping, today=today
    )
    report = ImportReport("roster", dry_run, total_rows=result.total_rows, issues=list(result.issues),
                          households_created=0, encoding=result.encoding)
    if report.has_file_error():  # encoding, header: nothing per row to add
        report.skipped = report.total_rows
        return report

    labels, consent_cols, header_issues, data_rows = _roster_header(data, parser_mapping, consent_mapping)
    report.issues.extend(header_issues)
    records = result.records
    for rec in records:
        _check_roster_record(report, rec, labels)
    consents: dict[int, _ConsentCell] = {}
    if consent_cols:
        consents = _consent_cells(report, consent_cols, data_rows, {r.row for r in records}, today)
    else:
        report.issues.append(
            warning(
                None,
                None,
                "no_consent_columns",
                "同意の列がないため、同意は登録しません。登録した人は、画面で同意を記録するまで職員以外には表示されません。"
                + ("（指定された同意の取得方法は使いません）" if options.consent_source else ""),
                "The file has no consent column, so no consent is recorded; the people stay hidden from everyone "
                "but staff until consent is recorded on screen."
                + (" (The consent source given is not used.)" if options.consent_source else ""),
            )
        )
    await _registry_duplicates(db, tenant_id, records, gazetteer, report, labels.get("name"))

    failed = report.error_rows()
    good = [r for r in records if r.row not in failed]
    groups = _household_groups(good, gazetteer)
    report.approximate_locations = [
        {"row": r.row, "address": r.address, "town": r.town} for r in records if r.location_approximate
    ]
    report.created = len(good)
    report.households_created = len(groups)
    report.skipped = report.total_rows - len(good)
    if report.stop_before_writing(dry_run):
        return report

    source = (options.consent_source or f"名簿取込 {options.filename or ''} {today.isoformat()}").strip()[:200]
    household_ids: list[uuid.UUID] = []
    people: list[tuple[uuid.UUID, uuid.UUID, RosterRecord]] = []
    for recs in groups.values():
        first = recs[0]
        hid = uuid7()
        household_ids.append(hid)
        db.add(
            m.Household(
                tenant_id=tenant_id, id=hid, address=first.address, town=first.town,
                location=to_db(Point(first.lon, first.lat)), location_approximate=first.location_approximate,
            )
        )
        people.extend((uuid7(), hid, rec) for rec in recs)
    await db.flush()
    for pid, hid, rec in people:
        db.add(
            m.Person(
                tenant_id=tenant_id, id=pid, household_id=hid, name=rec.name, kana=rec.kana or "",
                birth_date=rec.birth_date, sex=rec.sex, phone=rec.phone,
                support_reasons=sorted(set(rec.support_reasons)), care_level=rec.care_level,
                medical_devices=sorted(set(rec.medical_devices)),
                emergency_contacts=[_contact(rec.emergency_contact)] if rec.emergency_contact else [],
                notes=_notes(rec),
            )
        )
    await db.flush()
    consent_count = 0
    for pid, hid, rec in people:
        cell = consents.get(rec.row)
        if cell is None or not cell.given:
            continue
        for cls in options.consent_classes:
            db.add(
                m.Consent(
                    tenant_id=tenant_id, id=uuid7(), person_id=pid, household_id=hid, recipient_class=cls,
                    dataset="roster", consented_on=cell.on or today, source=source,
                )
            )
            consent_count += 1
    await db.flush()
    await reassign_households(db, tenant_id, household_ids)
    person_ids = [pid for pid, _, _ in people]
    report.written_ids = [*household_ids, *person_ids]
    await audit(
        db,
        "import.roster",
        object_type="household",
        object_ids=report.written_ids,
        details={
            "filename": options.filename,
            "encoding": result.encoding,
            "rows": report.total_rows,
            "households": len(household_ids),
            "people": len(person_ids),
            "consents": consent_count,
            "consent_classes": list(options.consent_classes) if consent_count else [],
            "approximate_locations": len(report.approximate_locations),
            "warnings": sum(i.severity == "warning" for i in report.issues),
        },
    )
    return report


# ---- districts and hazard zones --------------------------------------------------------------

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
        await _lock(db, "districts", tenant_id)
    parent: m.District | None = None
    if options.parent_code:
        parent = (
            await db.execute(
                select(m.District).where(m.District.tenant_id == tenant_id, m.District.code == options.parent_code)
            )
        ).scalar_one_or_none()
        if parent is None:
            raise Problem("validation_failed", errors=[FieldError(
                "parent_code", "not_found", f"コード「{options.parent_code}」の地区がありません。",
                f"There is no district with code '{options.parent_code}'.")])
        if _LEVEL_ORDER[parent.level] >= _LEVEL_ORDER[options.level]:
            raise Problem("validation_failed", errors=[FieldError(
                "parent_code", "invalid",
                f"親の地区（{DISTRICT_LEVELS[parent.level]}）は{DISTRICT_LEVELS[options.level]}より上の階層にしてください。",
                f"The parent ({parent.level}) must be a higher level than {options.level}.")])
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
                error(rec.row, "properties", "missing_name",
                      "地区の名前もコードもありません（properties の name / code）。",
                      "The district has neither a name nor a code (properties name / code).")
            )
            continue
        if not code:
            code = _code_from_name(name or "")
        if not name:
            name = code
            report.issues.append(
                warning(rec.row, "properties", "missing_name",
                        f"名前がないため、コード「{code}」を地区名にしました。取り込み後に画面で直してください。",
                        f"No name: the code '{code}' is used as the district name; rename it on screen.")
            )
        bad = _too_long(report, rec.row, "code", "コード", code, 64)
        bad |= _too_long(report, rec.row, "name", "名前", name, 200)
        if code in seen:
            report.issues.append(
                error(rec.row, "code", "duplicate_in_file", f"コード「{code}」は{seen[code]}件目と重複しています。",
                      f"Code '{code}' repeats feature {seen[code]}.")
            )
            bad = True
        else:
            seen[code] = rec.row
        if options.parent_code and code == options.parent_code:
            report.issues.append(
                error(rec.row, "code", "parent_is_self", "地区を自分自身の下に置くことはできません。",
                      "A district cannot be its own parent.")
            )
            bad = True
        entirely, share = _outside(area, rec.geometry)
        if entirely:
            report.issues.append(
                error(rec.row, "geometry", "outside_area", "地区が市の区域の外にあります。座標系や範囲を確認してください。",
                      "The district lies outside the municipality; check the coordinates.")
            )
            bad = True
        elif share > 0.05:
            report.issues.append(
                warning(rec.row, "geometry", "partly_outside_area",
                        f"地区の約{round(share * 100)}%が市の区域の外にあります。",
                        f"About {round(share * 100)}% of the district lies outside the municipality.")
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
    await audit(db, "import.districts", object_type="district", object_ids=ids, details={
        "filename": options.filename, "level": options.level, "parent_code": options.parent_code,
        "created": report.created, "updated": report.updated,
    })
    return report


async def import_hazard_zones(
    db: AsyncSession, tenant_id: uuid.UUID, data: bytes, options: HazardZoneOptions, *, dry_run: bool
) -> ImportReport:
    """Hazard-zone GeoJSON → new hazard_zone rows; features wholly outside the municipality are skipped."""
    result = parse_geojson_areas(data, name_keys=_keys(options.name_key, DEFAULT_NAME_KEYS))
    report = ImportReport("hazard-zones", dry_run, total_rows=result.total_rows, issues=list(result.issues))
    area = await _prepared_area(db, tenant_id)
    source = options.source or options.filename
    _too_long(report, None, "source", "出典", source, 300)
    planned: list[tuple[str | None, str | None, Any]] = []
    outside = 0
    for rec in result.records:
        level: str | None = None
        if options.level_key:
            raw = rec.properties.get(options.level_key)
            if raw in (None, ""):
                report.issues.append(
                    warning(rec.row, options.level_key, "missing_level", f"「{options.level_key}」の値がありません。",
                            f"The feature has no '{options.level_key}' value.")
                )
            else:
                level = unicodedata.normalize("NFKC", str(raw)).strip()
        bad = _too_long(report, rec.row, options.level_key, options.level_key or "level", level, 64)
        bad |= _too_long(report, rec.row, "name", "名前", rec.name, 200)
        if _outside(area, rec.geometry)[0]:
            outside += 1
            continue
        if not bad:
            planned.append((level, rec.name, rec.geometry))
    if outside:
        report.issues.append(
            warning(None, "geometry", "outside_area_skipped",
                    f"市の区域と重ならない{outside}件の区域は取り込みません。",
                    f"{outside} zones that do not overlap the municipality are skipped.")
        )
    report.created = len(planned)
    report.skipped = report.total_rows - len(planned)
    if report.stop_before_writing(dry_run):
        return report
    ids = []
    for level, name, geom in planned:
        z = m.HazardZone(tenant_id=tenant_id, id=uuid7(), kind=options.hazard_kind, level=level, name=name,
                         source=source, geom=to_db(geom))
        db.add(z)
        ids.append(z.id)
    await db.flush()
    report.written_ids = ids
    await audit(db, "import.hazard_zones", object_type="hazard_zone", object_ids=ids, details={
        "filename": options.filename, "kind": options.hazard_kind, "created": len(ids), "skipped_outside": outside,
    })
    return report


# ---- shelters --------------------------------------------------------------------------------


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
        await _lock(db, "shelters", tenant_id)
    area = await tenant_area(db, tenant_id)
    result = parse_gsi_shelters_csv(data, area=area, municipality=options.municipality)
    report = ImportReport("shelters", dry_run, total_rows=result.total_rows, issues=list(result.issues),
                          encoding=result.encoding)
    planned: list[ShelterRecord] = []
    for rec in result.records:
        bad = _too_long(report, rec.row, "共通ID", "共通ID", rec.source_id, 64)
        bad |= _too_long(report, rec.row, "施設・場所名", "施設・場所名", rec.name, 200)
        bad |= _too_long(report, rec.row, "住所", "住所", rec.address, 300)
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
