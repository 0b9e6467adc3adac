"""The roster import: 避難行動要支援者名簿 CSV → households, people and their consents.

The parser (`imports.roster_csv`) reads the file, consent columns included; here is what needs the
tenant's data: its town list and outline, the people already registered, and the write.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shapely.geometry import Point
from sqlalchemy import Date, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from imports import Gazetteer, RosterRecord, Town, parse_roster_csv
from imports.csvtext import header_key
from imports.fields import normalise_phone
from imports.report import FieldError as CellError
from imports.report import error, warning
from imports.towns import address_key
from server.audit.record import record as audit
from server.core.problems import Problem
from server.core.types import NOTE_MAX
from server.db.base import uuid7
from server.registry import models as m
from server.registry.imports.common import ImportReport, lock, too_long
from server.registry.validation import reassign_households, tenant_area, to_db
from vocab import RECIPIENT_CLASSES, SUPPORT_REASONS


async def _tenant_row(db: AsyncSession, tenant_id: uuid.UUID) -> Any:
    from server.tenancy.models import Tenant

    tenant = await db.get(Tenant, tenant_id)
    if tenant is None:  # the session's tenant always exists; a guard against misuse
        raise Problem("not_found")
    return tenant


def _today(tenant: Any) -> date:
    try:
        return datetime.now(ZoneInfo(tenant.time_zone)).date()
    except Exception:  # noqa: BLE001 - an unknown zone name must not block an import
        return date.today()  # noqa: DTZ011 - the zone is unknown: the server's date is the best guess


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


# ---- the roster --------------------------------------------------------------------------------

_DB_KANA = re.compile(r"^[ァ-ヶー・\u3000 ]*$")  # the person table's CHECK constraint
_PHONE_IN_TEXT = re.compile(r"(?:\+81|0)[\d\-‐－ー()（） ]{8,}\d")
_PARENS = re.compile(r"[(（]([^)）]{1,20})[)）]")
_RELATIONSHIPS = ("長男", "長女", "次男", "次女", "三男", "三女", "妻", "夫", "息子", "娘", "父", "母", "兄", "姉",
                  "弟", "妹", "孫", "甥", "姪", "嫁", "婿", "義理の娘", "義理の息子", "親戚", "知人", "友人",
                  "隣人", "ケアマネ", "ケアマネジャー")  # fmt: skip


@dataclass(frozen=True)
class RosterOptions:
    mapping: Mapping[str, str] | None = None  # file header → canonical field (imports.roster_csv.FIELDS)
    consent_source: str | None = None
    consent_classes: Sequence[str] = tuple(RECIPIENT_CLASSES)
    filename: str | None = None


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
        assert birth is not None  # matched on a birth date above
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
    too_long(report, rec.row, labels.get("name"), labels.get("name", "氏名"), rec.name, 100)
    too_long(report, rec.row, labels.get("address"), labels.get("address", "住所"), rec.address, 300)
    too_long(report, rec.row, labels.get("kana"), labels.get("kana", "フリガナ"), rec.kana, 200)
    too_long(report, rec.row, labels.get("phone"), labels.get("phone", "電話番号"), rec.phone, 32)
    too_long(report, rec.row, labels.get("care_level"), labels.get("care_level", "要介護度"), rec.care_level, 32)
    too_long(report, rec.row, labels.get("note"), labels.get("note", "備考"), _notes(rec), NOTE_MAX)
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
            error(
                rec.row,
                labels.get("support_reasons"),
                "unknown_support_reason",
                f"不明な事由: {unknown}",
                f"Unknown support reasons: {unknown}",
            )
        )


async def import_roster(
    db: AsyncSession, tenant_id: uuid.UUID, data: bytes, options: RosterOptions, *, dry_run: bool
) -> ImportReport:
    """避難行動要支援者名簿 CSV → households and people (and consents when the file has consent columns)."""
    if not dry_run:
        await lock(db, "roster", tenant_id)
    tenant = await _tenant_row(db, tenant_id)
    today = _today(tenant)
    gazetteer, town_count = await gazetteer_for(db, tenant_id, tenant.name)
    area = await tenant_area(db, tenant_id)
    result = parse_roster_csv(
        data, towns=gazetteer if town_count else None, area=area, mapping=options.mapping, today=today
    )
    report = ImportReport(
        "roster",
        dry_run,
        total_rows=result.total_rows,
        issues=list(result.issues),
        households_created=0,
        encoding=result.encoding,
    )
    if report.has_file_error():  # encoding, header: nothing per row to add
        report.skipped = report.total_rows
        return report

    labels = result.columns
    records = result.records
    for rec in records:
        _check_roster_record(report, rec, labels)
    if "consent" not in labels and "consent_date" not in labels:
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
                tenant_id=tenant_id,
                id=hid,
                address=first.address,
                town=first.town,
                location=to_db(Point(first.lon, first.lat)),
                location_approximate=first.location_approximate,
            )
        )
        people.extend((uuid7(), hid, rec) for rec in recs)
    await db.flush()
    for pid, hid, rec in people:
        db.add(
            m.Person(
                tenant_id=tenant_id,
                id=pid,
                household_id=hid,
                name=rec.name,
                kana=rec.kana or "",
                birth_date=rec.birth_date,
                sex=rec.sex,
                phone=rec.phone,
                support_reasons=sorted(set(rec.support_reasons)),
                care_level=rec.care_level,
                medical_devices=sorted(set(rec.medical_devices)),
                emergency_contacts=[_contact(rec.emergency_contact)] if rec.emergency_contact else [],
                notes=_notes(rec),
            )
        )
    await db.flush()
    consent_count = 0
    for pid, hid, rec in people:
        if not rec.consent:
            continue
        for cls in options.consent_classes:
            db.add(
                m.Consent(
                    tenant_id=tenant_id,
                    id=uuid7(),
                    person_id=pid,
                    household_id=hid,
                    recipient_class=cls,
                    dataset="roster",
                    consented_on=rec.consented_on or today,
                    source=source,
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
