"""国土地理院 (GSI) national shelter CSVs → typed shelter records plus a per-row report.

Two national layouts exist, one per legal category (災害対策基本法): 指定緊急避難場所 (where to flee
from a given hazard, with one suitability flag per hazard) and 指定避難所 (where to stay). The
layout is recognised from the header, so a clerk can upload either file as downloaded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Literal

import msgspec
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from imports.csvtext import clean_cell, csv_rows, header_key, map_columns
from imports.fields import check_in_japan, parse_coordinate
from imports.report import FieldError, ImportIssue, ParseResult, error, warning
from vocab import SHELTER_HAZARDS

ShelterKind = Literal["emergency_site", "designated", "welfare"]
Layout = Literal["emergency_site", "designated"]

# 共通ID as seen in GSI data: "E" + 5-digit municipality code + 5-digit facility number + 3-digit suffix
# (E0821600016201 is the emergency site at facility 00016, E0821600016111/112/113 the shelters there).
# Inferred from the data, not from a published specification.
_COMMON_ID = re.compile(r"^[A-Z]\d{13}$")


class ShelterRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One shelter or evacuation site. `lat`/`lon` are WGS84/JGD2011 degrees."""

    row: int
    source_id: str  # 共通ID
    kind: ShelterKind  # vocab.SHELTER_KINDS code
    name: str
    address: str
    lat: float
    lon: float
    hazards: list[str]  # vocab.SHELTER_HAZARDS codes flagged as suitable (emergency sites only)
    note: str | None
    municipality: str | None  # 都道府県名及び市町村名
    same_address_as_other_kind: bool  # 指定避難所との住所同一 / 指定緊急避難場所との住所同一
    accepted_persons: str | None  # 受入対象者 (designated layout)
    other_matters: str | None  # その他市町村長が必要と認める事項 (designated layout)

    @property
    def facility_key(self) -> str | None:
        """The facility part of 共通ID (E + municipality + facility number), shared by an emergency site
        and the designated shelter(s) at the same facility; None if the ID has another shape."""
        return self.source_id[:11] if _COMMON_ID.match(self.source_id) else None


_COMMON = {
    "no": ("NO", "No", "番号"),
    "source_id": ("共通ID",),
    "municipality": ("都道府県名及び市町村名",),
    "name": ("施設・場所名", "施設名", "名称"),
    "address": ("住所", "所在地"),
    "lat": ("緯度",),
    "lon": ("経度",),
    "note": ("備考",),
}
_EMERGENCY_ONLY = {
    **{f"hazard:{code}": (label,) for code, label in SHELTER_HAZARDS.items()},
    "same_address": ("指定避難所との住所同一",),
}
_DESIGNATED_ONLY = {
    "same_address": ("指定緊急避難場所との住所同一",),
    "other_matters": ("その他市町村長が必要と認める事項",),
    "accepted_persons": ("受入対象者",),
}
_REQUIRED = {"source_id": "共通ID", "name": "施設・場所名", "address": "住所", "lat": "緯度", "lon": "経度"}

# What GSI and municipalities write in a flag cell. Unrecognised values count as "not set" with a
# warning: claiming a site is safe for a hazard it was not designated for would be the worse error.
_FLAG_SET = {"1", "○", "◯", "〇", "●", "◎", "有", "あり", "可", "TRUE", "YES", "Y"}
_FLAG_UNSET = {"", "0", "×", "✕", "-", "無", "なし", "不可", "FALSE", "NO", "N"}
_WELFARE = re.compile(r"要配慮者|福祉|高齢者|障害|障がい|妊産婦|乳幼児")


def _aliases(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    # "崖崩れ、土石流及び地滑り" is sometimes written with ・ or a comma instead of 、
    out = {}
    for fld, names in table.items():
        for n in names:
            out[header_key(n)] = fld
            out[header_key(n.replace("、", ""))] = fld
    return out


def detect_layout(header: list[str]) -> Layout | None:
    keys = {header_key(clean_cell(h)) for h in header}
    if {header_key("洪水"), header_key("地震")} <= keys:
        return "emergency_site"
    if header_key("受入対象者") in keys or header_key("指定緊急避難場所との住所同一") in keys:
        return "designated"
    return None


def parse_flag(raw: str) -> bool | None:
    """True/False for a recognised flag cell, None when the value is not recognised."""
    key = unicodedata.normalize("NFKC", raw).strip().upper()
    if key in _FLAG_SET:
        return True
    if key in _FLAG_UNSET:
        return False
    return None


def parse_gsi_shelters_csv(
    data: bytes, *, area: BaseGeometry | None = None, municipality: str | None = None
) -> ParseResult[ShelterRecord]:
    """Parse a GSI 指定緊急避難場所 or 指定避難所 CSV (layout detected from the header).

    area: the tenant's area (lon/lat); points outside it are `outside_area` errors.
    municipality: e.g. "茨城県笠間市"; rows of other municipalities (the national file holds all
    of Japan) are skipped and counted in one `other_municipality_skipped` warning.
    """
    result: ParseResult[ShelterRecord] = ParseResult()
    rows = csv_rows(data, result)
    if rows is None:
        return result
    header_row, header = rows[0]
    layout = detect_layout(header)
    if layout is None:
        result.issues.append(
            error(
                None,
                None,
                "unknown_layout",
                "国土地理院の「指定緊急避難場所」または「指定避難所」のCSVの見出しではありません。",
                "The header is neither GSI's 指定緊急避難場所 nor 指定避難所 layout.",
            )
        )
        return result
    table = {**_COMMON, **(_EMERGENCY_ONLY if layout == "emergency_site" else _DESIGNATED_ONLY)}
    columns, col_issues = map_columns(header, _aliases(table), header_row)
    result.issues.extend(col_issues)
    required = dict(_REQUIRED)
    if layout == "emergency_site":
        required.update({f"hazard:{c}": label for c, label in SHELTER_HAZARDS.items()})
    missing = [ja for fld, ja in required.items() if fld not in columns]
    for ja in missing:
        result.issues.append(
            error(
                None,
                ja,
                "missing_column",
                f"必須の列「{ja}」が見つかりません。",
                f"Required column '{ja}' is missing.",
            )
        )
    if missing:
        result.total_rows = len(rows) - 1
        return result

    if area is not None:
        shapely.prepare(area)
    want = header_key(municipality) if municipality else None
    skipped = 0
    seen: dict[str, int] = {}
    for number, cells in rows[1:]:

        def get(fld: str, cells: list[str] = cells) -> str:
            col = columns.get(fld)
            return clean_cell(cells[col[0]]) if col and col[0] < len(cells) else ""

        if want is not None and header_key(get("municipality")) != want:
            skipped += 1
            continue
        result.total_rows += 1
        issues, record = _parse_row(number, get, columns, layout, area)
        if record is not None:
            if record.source_id in seen:
                issues.append(
                    error(
                        number,
                        columns["source_id"][1],
                        "duplicate_in_file",
                        f"共通ID「{record.source_id}」は{seen[record.source_id]}行目と重複しています。",
                        f"共通ID '{record.source_id}' repeats row {seen[record.source_id]}.",
                    )
                )
                record = None
            else:
                seen[record.source_id] = number
        result.issues.extend(issues)
        if record is not None:
            result.records.append(record)
    if skipped:
        result.issues.append(
            warning(
                None,
                columns.get("municipality", (0, "都道府県名及び市町村名"))[1],
                "other_municipality_skipped",
                f"{municipality}以外の{skipped}行は読み飛ばしました。",
                f"Skipped {skipped} rows of municipalities other than {municipality}.",
            )
        )
    return result


def _parse_row(
    number: int,
    get: Callable[[str], str],
    columns: dict[str, tuple[int, str]],
    layout: Layout,
    area: BaseGeometry | None,
) -> tuple[list[ImportIssue], ShelterRecord | None]:
    issues: list[ImportIssue] = []

    def label(fld: str) -> str | None:
        return columns[fld][1] if fld in columns else None

    for fld, ja in _REQUIRED.items():
        if fld in ("lat", "lon"):
            continue
        if not get(fld):
            issues.append(error(number, label(fld), "missing_value", f"「{ja}」が空です。", f"'{ja}' is empty."))

    lat = lon = None
    if not get("lat") or not get("lon"):
        issues.append(
            error(
                number,
                label("lat" if not get("lat") else "lon"),
                "no_location",
                "緯度・経度がありません。避難所は正確な位置が必要です。",
                "Latitude/longitude missing; a shelter needs an exact location.",
            )
        )
    else:
        try:
            lat = parse_coordinate(get("lat"), "緯度")
            lon = parse_coordinate(get("lon"), "経度")
            check_in_japan(lat, lon)
        except FieldError as exc:
            issues.append(error(number, label("lat"), "bad_coordinate", exc.ja, exc.en))
            lat = lon = None
        if lat is not None and lon is not None and area is not None and not area.covers(Point(lon, lat)):
            issues.append(
                error(
                    number,
                    label("lat"),
                    "outside_area",
                    f"位置（緯度 {lat}・経度 {lon}）が対象区域の外です。",
                    f"The location (lat {lat}, lon {lon}) lies outside the tenant's area.",
                )
            )
            lat = lon = None

    hazards: list[str] = []
    if layout == "emergency_site":
        for code in SHELTER_HAZARDS:
            raw = get(f"hazard:{code}")
            flag = parse_flag(raw)
            if flag is None:
                issues.append(
                    warning(
                        number,
                        label(f"hazard:{code}"),
                        "bad_flag",
                        f"「{raw}」を対応可否として読めないため、「対象外」とみなします（1 または ○ で対象）。",
                        f"'{raw}' is not a flag value; treated as not suitable (1 or ○ means suitable).",
                    )
                )
            elif flag:
                hazards.append(code)
        if not hazards:
            issues.append(
                warning(
                    number,
                    None,
                    "no_hazard_flags",
                    "どの災害にも対応の印がありません。",
                    "No hazard is flagged for this site.",
                )
            )

    if any(i.severity == "error" for i in issues) or lat is None or lon is None:
        return issues, None
    accepted = get("accepted_persons") or None
    kind: ShelterKind = "emergency_site" if layout == "emergency_site" else "designated"
    if accepted and _WELFARE.search(accepted):
        kind = "welfare"
    return issues, ShelterRecord(
        row=number,
        source_id=unicodedata.normalize("NFKC", get("source_id")),
        kind=kind,
        name=get("name"),
        address=get("address"),
        lat=lat,
        lon=lon,
        hazards=hazards,
        note=get("note") or None,
        municipality=get("municipality") or None,
        same_address_as_other_kind=parse_flag(get("same_address")) is True,
        accepted_persons=accepted,
        other_matters=get("other_matters") or None,
    )


def pair_with_designated(
    emergency_sites: list[ShelterRecord], designated: list[ShelterRecord]
) -> dict[str, ShelterRecord | None]:
    """For each emergency site's 共通ID, the designated shelter at the same facility, or None.

    The two files do not share IDs (E…201 vs E…111): the facility part (facility_key) is shared,
    and several shelters can sit at one facility (市民体育館, 武道館, 笠間公民館 at 石井2068-1), so the
    name decides among them; a lone facility match is taken even when the names differ.
    """
    by_facility: dict[str, list[ShelterRecord]] = {}
    for d in designated:
        if d.facility_key:
            by_facility.setdefault(d.facility_key, []).append(d)
    out: dict[str, ShelterRecord | None] = {}
    for e in emergency_sites:
        candidates = by_facility.get(e.facility_key or "", [])
        named = [d for d in candidates if header_key(d.name) == header_key(e.name)]
        out[e.source_id] = named[0] if named else (candidates[0] if len(candidates) == 1 else None)
    return out
