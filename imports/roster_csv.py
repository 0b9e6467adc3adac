"""Roster (避難行動要支援者名簿) CSV → typed records plus a per-row report, without touching the database.

The files come from municipal systems and hand-kept Excel sheets: Shift_JIS or UTF-8, 和暦 dates,
half-width kana, several support reasons in one cell, addresses without coordinates. Every row is
checked on its own so the clerk gets the full list of problems from one dry run. The consent
columns, when the file has them, are read in the same pass (`imports.consent`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TypeVar

import msgspec
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from imports.consent import CONSENT_ALIASES, consent_given
from imports.csvtext import clean_cell, csv_rows, header_key, locate_header, map_columns
from imports.fields import (
    check_in_japan,
    normalise_kana,
    normalise_name,
    normalise_phone,
    normalise_sex,
    parse_coordinate,
)
from imports.jpdate import parse_japanese_date
from imports.reasons import map_medical_devices, map_support_reasons
from imports.report import FieldError, ImportIssue, ParseResult, error, warning
from imports.towns import Gazetteer, Town, address_key


class RosterRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One person from the roster, normalised. `lat`/`lon` are WGS84/JGD2011 degrees."""

    row: int
    household_key: str | None  # 世帯番号/世帯ID: rows sharing it form one household
    name: str
    kana: str | None
    birth_date: date
    sex: str  # vocab.SEXES code
    address: str
    phone: str | None
    support_reasons: list[str]  # vocab.SUPPORT_REASONS codes
    support_reasons_raw: str | None
    care_level: str | None  # e.g. "要介護3", NFKC-normalised text as written
    medical_devices: list[str]  # vocab.MEDICAL_DEVICES codes
    medical_devices_raw: str | None
    emergency_contact: str | None
    note: str | None
    lat: float
    lon: float
    location_approximate: bool  # True: the town's representative point, to be corrected by staff
    town: str | None  # gazetteer town name the address lies in, when found
    consent: bool = False  # the file's consent column says yes (or, without one, its consent date is filled)
    consented_on: date | None = None  # the file's consent date, when given


# Canonical field → header spellings seen in municipal exports (matched after NFKC, without spaces).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("氏名", "名前", "対象者氏名", "要支援者氏名", "氏名(漢字)"),
    "kana": ("フリガナ", "ふりがな", "カナ", "氏名カナ", "カナ氏名", "氏名(カナ)", "氏名(フリガナ)", "ﾌﾘｶﾞﾅ"),
    "birth_date": ("生年月日", "誕生日"),
    "sex": ("性別",),
    "address": ("住所", "所在地", "現住所"),
    "phone": ("電話番号", "電話", "連絡先電話番号", "電話番号(自宅)"),
    "support_reasons": ("避難支援等を必要とする事由", "避難支援等を必要とする理由", "要支援事由", "事由", "支援理由"),
    "lat": ("緯度", "lat", "latitude"),
    "lon": ("経度", "lon", "lng", "longitude"),
    "household_key": ("世帯番号", "世帯ID", "世帯コード"),
    "care_level": ("要介護度", "介護度", "要介護状態区分"),
    "medical_devices": ("医療機器", "使用医療機器", "医療機器等"),
    "emergency_contact": ("緊急連絡先",),
    "note": ("備考",),
}
FIELDS = frozenset(HEADER_ALIASES) | frozenset(CONSENT_ALIASES)
REQUIRED: dict[str, str] = {"name": "氏名", "birth_date": "生年月日", "address": "住所"}
MAX_AGE_YEARS = 120
V = TypeVar("V")


def _aliases(mapping: Mapping[str, str] | None) -> tuple[dict[str, str], dict[str, str]]:
    """(header key → person field, header key → consent field). The header row is found by the
    person fields alone; the consent columns are then looked up in it."""
    fields = {header_key(alias): fld for fld, names in HEADER_ALIASES.items() for alias in names}
    consent = {header_key(alias): fld for fld, names in CONSENT_ALIASES.items() for alias in names}
    for header, fld in (mapping or {}).items():
        if fld not in FIELDS:
            raise ValueError(f"mapping: unknown field {fld!r}; expected one of {sorted(FIELDS)}")
        # an explicit mapping wins over the built-in spellings
        (consent if fld in CONSENT_ALIASES else fields)[header_key(header)] = fld
    return fields, consent


class _Row:
    """Issues of one row; `failed` once any error was added."""

    def __init__(self, number: int, cells: list[str], columns: dict[str, tuple[int, str]]) -> None:
        self.number = number
        self.cells = cells
        self.columns = columns
        self.issues: list[ImportIssue] = []
        self.failed = False

    def get(self, fld: str) -> str:
        col = self.columns.get(fld)
        return clean_cell(self.cells[col[0]]) if col and col[0] < len(self.cells) else ""

    def label(self, fld: str) -> str | None:
        col = self.columns.get(fld)
        return col[1] if col else None

    def error(self, fld: str | None, code: str, ja: str, en: str) -> None:
        self.issues.append(error(self.number, self.label(fld) if fld else None, code, ja, en))
        self.failed = True

    def warn(self, fld: str | None, code: str, ja: str, en: str) -> None:
        self.issues.append(warning(self.number, self.label(fld) if fld else None, code, ja, en))

    def normalise(self, fld: str, code: str, fn: Callable[[str], V], raw: str) -> V | None:
        """fn(raw), or None after recording its FieldError as an error with `code`."""
        try:
            return fn(raw)
        except FieldError as exc:
            self.error(fld, code, exc.ja, exc.en)
            return None


def parse_roster_csv(
    data: bytes,
    *,
    towns: Sequence[Town] | Gazetteer | None = None,
    area: BaseGeometry | None = None,
    mapping: Mapping[str, str] | None = None,
    today: date | None = None,
) -> ParseResult[RosterRecord]:
    """Parse a roster CSV.

    towns: the municipality's gazetteer, used to place rows without 緯度/経度 at their town's point.
    area: the tenant's area (lon/lat); points outside it are `outside_area` errors.
    mapping: file header → canonical field (see FIELDS) for other layouts.
    today: reference day for the future birth and consent date checks, and the consent date of a
      "yes" without one (tests pass a fixed day).
    """
    result: ParseResult[RosterRecord] = ParseResult()
    rows = csv_rows(data, result)
    if rows is None:
        return result
    aliases, consent_aliases = _aliases(mapping)
    h = locate_header(rows, aliases)
    header_row, header = rows[h]
    data_rows = rows[h + 1 :]
    result.total_rows = len(data_rows)
    columns, col_issues = map_columns(header, aliases, header_row)
    result.issues.extend(col_issues)
    missing = [ja for fld, ja in REQUIRED.items() if fld not in columns]
    for ja in missing:
        result.issues.append(
            error(
                None,
                ja,
                "missing_column",
                f"必須の列「{ja}」が見つかりません。見出し行（{header_row}行目）の列名を確認してください。",
                f"Required column '{ja}' is missing; check the header row (row {header_row}).",
            )
        )
    if ("lat" in columns) != ("lon" in columns):
        only = "緯度" if "lat" in columns else "経度"
        result.issues.append(
            warning(
                None,
                columns["lat" if "lat" in columns else "lon"][1],
                "incomplete_coordinates",
                f"「{only}」の列しかないため、座標は使わず住所から位置を求めます。",
                f"Only the '{only}' column exists, so coordinates are ignored and addresses are used.",
            )
        )
        columns.pop("lat", None)
        columns.pop("lon", None)
    if missing:
        return result
    consent_columns, consent_issues = map_columns(header, consent_aliases, header_row)
    result.issues.extend(consent_issues)
    columns.update(consent_columns)
    result.columns = {fld: label for fld, (_, label) in columns.items()}

    gazetteer = towns if isinstance(towns, Gazetteer) or towns is None else Gazetteer(towns)
    if area is not None:
        shapely.prepare(area)
    today = today or date.today()  # noqa: DTZ011 - the server passes the tenant's date; scripts may not
    seen: dict[tuple[str, date, str], int] = {}
    households: dict[str, tuple[int, str]] = {}
    for number, cells in data_rows:
        r = _Row(number, cells, columns)
        record = _parse_row(r, len(header), gazetteer, area, today)
        key = _person_key(r, gazetteer)
        if key is not None:
            if key in seen:
                r.error(
                    "name",
                    "duplicate_in_file",
                    f"{seen[key]}行目と同じ人（氏名・生年月日・住所が同じ）です。どちらかの行を削除してください。",
                    f"Same person (name, birth date, address) as row {seen[key]}; remove one of the rows.",
                )
            else:
                seen[key] = number
        if record is not None:
            if record.household_key is not None and not r.failed:
                addr = _address_key(record.address, gazetteer)
                first = households.setdefault(record.household_key, (number, addr))
                if first[1] != addr:
                    r.warn(
                        "household_key",
                        "household_address_mismatch",
                        f"世帯番号「{record.household_key}」は{first[0]}行目と同じですが、住所が異なります。",
                        f"Household '{record.household_key}' matches row {first[0]} but the address differs.",
                    )
            if consent_columns and not r.failed:
                consent = _consent(r, today)
                if consent is not None:
                    record = msgspec.structs.replace(record, consent=consent[0], consented_on=consent[1])
        result.issues.extend(r.issues)
        if record is not None and not r.failed:
            result.records.append(record)
    return result


def _person_key(r: _Row, gazetteer: Gazetteer | None) -> tuple[str, date, str] | None:
    """Normalised (name, birth date, address), also for rows with other errors, so duplicates show at once."""
    name, address = r.get("name"), r.get("address")
    try:
        birth = parse_japanese_date(r.get("birth_date"))
    except FieldError:
        return None
    if not name or not address:
        return None
    return header_key(name), birth, _address_key(address, gazetteer)


def _address_key(address: str, gazetteer: Gazetteer | None) -> str:
    return address_key(gazetteer.strip_prefixes(address) if gazetteer else address)


def _consent(r: _Row, today: date) -> tuple[bool, date | None] | None:
    """(consent given, its date) from a row that is otherwise fine; None after an error."""
    on: date | None = None
    raw_date = r.get("consent_date")
    if raw_date:
        on = r.normalise("consent_date", "bad_date", parse_japanese_date, raw_date)
        if on is None:
            return None
        if on > today:
            r.error(
                "consent_date",
                "future_consent_date",
                f"同意日「{raw_date}」（{on.isoformat()}）が未来の日付です。",
                f"Consent date '{raw_date}' ({on.isoformat()}) is in the future.",
            )
            return None
    if "consent" not in r.columns:
        given: bool | None = on is not None  # only a date column: a date means consent was given
    else:
        raw = r.get("consent")
        given = consent_given(raw)
        if given is None:
            r.error(
                "consent",
                "bad_consent",
                f"同意欄「{raw}」を読めません。同意ありは「有」「○」「1」、なしは「無」「×」「0」か空欄にしてください。",
                f"Consent cell '{raw}' is not understood; use 有/○/1 for consent, 無/×/0 or empty for none.",
            )
            return None
    if given and on is None:
        r.warn(
            "consent_date" if "consent_date" in r.columns else "consent",
            "consent_date_missing",
            f"同意日がないため、取り込み日（{today.isoformat()}）を同意日とします。",
            f"No consent date: the import date ({today.isoformat()}) is recorded.",
        )
    return bool(given), on


def _parse_row(
    r: _Row, header_len: int, gazetteer: Gazetteer | None, area: BaseGeometry | None, today: date
) -> RosterRecord | None:
    if len(r.cells) > header_len and any(clean_cell(c) for c in r.cells[header_len:]):
        r.warn(
            None,
            "extra_cells",
            "見出しのない列に値があります（無視します）。列がずれていないか確認してください。",
            "Cells beyond the header's columns are ignored; check that the columns are not shifted.",
        )
    for fld, ja in REQUIRED.items():
        if not r.get(fld):
            r.error(fld, "missing_value", f"「{ja}」が空です。", f"'{ja}' is empty.")

    name = normalise_name(r.get("name"))
    kana = r.normalise("kana", "bad_kana", normalise_kana, r.get("kana")) if r.get("kana") else None
    birth_raw = r.get("birth_date")
    birth = r.normalise("birth_date", "bad_date", parse_japanese_date, birth_raw) if birth_raw else None
    if birth is not None:
        if birth > today:
            r.error(
                "birth_date",
                "future_birth_date",
                f"生年月日「{birth_raw}」（{birth.isoformat()}）が未来の日付です。",
                f"Birth date '{birth_raw}' ({birth.isoformat()}) is in the future.",
            )
        elif today.year - birth.year > MAX_AGE_YEARS:
            r.warn(
                "birth_date",
                "implausible_birth_date",
                f"生年月日「{birth_raw}」では{MAX_AGE_YEARS}歳を超えます。元号や年を確認してください。",
                f"Birth date '{birth_raw}' means an age over {MAX_AGE_YEARS}; check the era and year.",
            )
    sex = r.normalise("sex", "bad_sex", normalise_sex, r.get("sex"))
    phone = r.normalise("phone", "bad_phone", normalise_phone, r.get("phone")) if r.get("phone") else None
    address = normalise_name(r.get("address"))

    reasons_raw = r.get("support_reasons") or None
    reasons, unknown = map_support_reasons(reasons_raw or "")
    for token in unknown:
        r.warn(
            "support_reasons",
            "unknown_support_reason",
            f"事由「{token}」は決められた区分に当てはまらないため「その他」とします（元の記載は残ります）。",
            f"Support reason '{token}' is not a known category; recorded as 'other' (original text kept).",
        )
    if "support_reasons" in r.columns and not reasons:
        r.warn(
            "support_reasons",
            "missing_support_reason",
            "避難支援等を必要とする事由が空です。",
            "The reason for needing evacuation support is empty.",
        )
    devices_raw = r.get("medical_devices") or None
    devices, unknown_devices = map_medical_devices(devices_raw or "")
    for token in unknown_devices:
        r.warn(
            "medical_devices",
            "unknown_medical_device",
            f"医療機器「{token}」は決められた区分にないため「その他」とします（元の記載は残ります）。",
            f"Medical device '{token}' is not a known category; recorded as 'other' (original text kept).",
        )

    location = _locate(r, address, gazetteer, area)
    if r.failed or birth is None or sex is None or location is None:
        return None
    lat, lon, approximate, town = location
    household = unicodedata.normalize("NFKC", r.get("household_key")) or None
    care = unicodedata.normalize("NFKC", r.get("care_level")).replace(" ", "") or None
    return RosterRecord(
        row=r.number,
        household_key=household,
        name=name,
        kana=kana,
        birth_date=birth,
        sex=sex,
        address=address,
        phone=phone,
        support_reasons=reasons,
        support_reasons_raw=reasons_raw,
        care_level=care,
        medical_devices=devices,
        medical_devices_raw=devices_raw,
        emergency_contact=r.get("emergency_contact") or None,
        note=r.get("note") or None,
        lat=lat,
        lon=lon,
        location_approximate=approximate,
        town=town,
    )


def _locate(
    r: _Row, address: str, gazetteer: Gazetteer | None, area: BaseGeometry | None
) -> tuple[float, float, bool, str | None] | None:
    """(lat, lon, approximate, town) from 緯度/経度, else from the address's town; None after an error."""
    town = gazetteer.lookup(address) if gazetteer and address else None
    lat_raw, lon_raw = r.get("lat"), r.get("lon")
    if lat_raw or lon_raw:
        if not (lat_raw and lon_raw):
            empty = "lat" if not lat_raw else "lon"
            r.error(
                empty,
                "bad_coordinate",
                "緯度と経度は両方入力するか、両方空にしてください（空なら住所から位置を求めます）。",
                "Give both latitude and longitude, or neither (then the address is used).",
            )
            return None
        lat = r.normalise("lat", "bad_coordinate", lambda s: parse_coordinate(s, "緯度"), lat_raw)
        lon = r.normalise("lon", "bad_coordinate", lambda s: parse_coordinate(s, "経度"), lon_raw)
        if lat is None or lon is None:
            return None
        try:
            check_in_japan(lat, lon)
        except FieldError as exc:
            r.error("lat", "bad_coordinate", exc.ja, exc.en)
            return None
        approximate = False
    elif not address:
        return None  # already reported as missing_value
    elif gazetteer is None:
        r.error(
            "address",
            "no_location",
            "緯度・経度がありません（町名一覧がないため住所からも位置を決められません）。",
            "No latitude/longitude, and no town list was given to place the address.",
        )
        return None
    elif town is None:
        r.error(
            "address",
            "town_not_found",
            f"住所「{address}」の町名（大字・町丁目）が市の町名一覧に見つかりません。"
            "住所の表記を確認するか、緯度・経度を入力してください。",
            f"The town (大字/町丁目) of address '{address}' is not in the municipality's town list; "
            "check the spelling or give latitude/longitude.",
        )
        return None
    else:
        lat, lon, approximate = town.lat, town.lon, True
        r.warn(
            "address",
            "approximate_location",
            f"緯度・経度がないため、町名「{town.name}」の代表点に置きました。地図上で正しい位置に直してください。",
            f"No coordinates: placed at the representative point of {town.name}; correct it on the map.",
        )
    if area is not None and not area.covers(Point(lon, lat)):
        r.error(
            "lat" if not approximate else "address",
            "outside_area",
            f"位置（緯度 {lat}・経度 {lon}）が対象区域の外です。座標または住所を確認してください。",
            f"The location (lat {lat}, lon {lon}) lies outside the tenant's area; "
            "check the coordinates or the address.",
        )
        return None
    return lat, lon, approximate, town.name if town else None
