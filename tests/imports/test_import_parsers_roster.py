"""Roster CSV parser: encodings, headers, 和暦 dates, kana, phones, reasons, locations, duplicates.

No database: the parser turns bytes into records plus a per-row report. The town list is the real
Geolonia list for 笠間市 (tests/data, credited in tests/data/README.md).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from shapely.geometry import box

from imports.jpdate import DateError, parse_japanese_date
from imports.roster_csv import RosterRecord, parse_roster_csv
from imports.towns import Gazetteer, Town, towns_from_geolonia
from tests.helpers.public_data import DATA
from vocab import MEDICAL_DEVICES, SUPPORT_REASONS

TODAY = date(2025, 6, 1)
HEADER = "氏名,フリガナ,生年月日,性別,住所,電話番号,避難支援等を必要とする事由,緯度,経度"


@pytest.fixture(scope="module")
def towns() -> list[Town]:
    path = DATA / "geolonia_kasama_towns.json"
    return towns_from_geolonia(json.loads(path.read_text(encoding="utf-8")))


def parse(text: str, encoding: str = "utf-8", **kw):
    kw.setdefault("today", TODAY)
    return parse_roster_csv(text.encode(encoding), **kw)


def row(
    name: str = "笠間 花子",
    kana: str = "カサマ ハナコ",
    birth: str = "昭和15年3月2日",
    sex: str = "女",
    address: str = "茨城県笠間市石井2068-1",
    phone: str = "0296-72-1111",
    reasons: str = "要介護3",
    lat: str = "36.3852",
    lon: str = "140.2464",
) -> str:
    return ",".join([name, kana, birth, sex, address, phone, reasons, lat, lon])


def only(result, code: str):
    found = [i for i in result.issues if i.code == code]
    assert len(found) == 1, (code, result.issues)
    return found[0]


# --- good files -----------------------------------------------------------------------------


def test_plain_utf8_row_becomes_a_record() -> None:
    res = parse(f"{HEADER}\n{row()}\n")
    assert res.ok and res.issues == [] and res.total_rows == 1 and res.encoding == "utf-8"
    rec = res.records[0]
    assert isinstance(rec, RosterRecord)
    assert rec.row == 2
    assert rec.name == "笠間\u3000花子"
    assert rec.kana == "カサマ\u3000ハナコ"
    assert rec.birth_date == date(1940, 3, 2)
    assert rec.sex == "female"
    assert rec.phone == "0296-72-1111"
    assert rec.support_reasons == ["care_level_3_5"] and rec.support_reasons_raw == "要介護3"
    assert (rec.lat, rec.lon, rec.location_approximate) == (36.3852, 140.2464, False)


def test_cp932_file_with_crlf_and_trailing_blank_lines() -> None:
    first = row(name="友部　一郎", kana="ﾄﾓﾍﾞ ｲﾁﾛｳ", sex="1")
    second = row(name="岩間 ①子", sex="2")  # ① exists in CP932, not in plain Shift_JIS
    text = f"{HEADER}\r\n{first}\r\n{second}\r\n\r\n,,,\r\n\r\n"
    res = parse(text, "cp932")
    assert res.encoding == "cp932"
    assert res.ok, res.issues
    assert res.total_rows == 2
    assert [r.name for r in res.records] == ["友部\u3000一郎", "岩間\u3000①子"]
    assert res.records[0].kana == "トモベ\u3000イチロウ"  # half-width kana normalised
    assert [r.sex for r in res.records] == ["male", "female"]


def test_utf8_bom_file_and_header_spacing_variants() -> None:
    header = "\u3000氏　名 ,ふりがな, 生年月日 ,性別,所在地,電話,要支援事由,緯度,経度"
    text = "\ufeff" + header + "\n" + row(kana="かさま はなこ") + "\n"
    res = parse_roster_csv(text.encode("utf-8"), today=TODAY)
    assert res.encoding == "utf-8-sig"
    assert res.ok, res.issues
    assert res.records[0].kana == "カサマ\u3000ハナコ"  # hiragana converted without a warning
    assert res.issues == []


def test_quoted_field_with_newline_keeps_spreadsheet_row_numbers() -> None:
    text = (
        "氏名,生年月日,住所,備考,緯度,経度\n"
        '山田 一郎,1940/3/2,笠間市笠間1668,"玄関は裏\n犬がいます",36.38,140.25\n'
        "\n"
        "山田 二郎,1941/13/2,笠間市笠間1668,,36.38,140.25\n"
    )
    res = parse(text)
    assert res.records[0].note == "玄関は裏\n犬がいます"
    issue = only(res, "bad_date")
    assert issue.row == 4 and issue.column == "生年月日"  # the blank row 3 still counts
    assert res.total_rows == 2


def test_title_row_above_header_and_explicit_mapping() -> None:
    text = "避難行動要支援者名簿（令和6年4月1日現在）\n" + f"{HEADER}\n{row()}\n"
    res = parse(text)
    assert res.ok and res.records[0].row == 3

    other = "対象者,誕生,居所,lat,lng\n鈴木 三郎,S20.8.15,笠間市中央3-3-6,36.3443,140.3032\n"
    unmapped = parse(other)
    assert [(i.code, i.column) for i in unmapped.issues] == [
        ("missing_column", "氏名"),
        ("missing_column", "生年月日"),
        ("missing_column", "住所"),
    ]
    res = parse(other, mapping={"対象者": "name", "誕生": "birth_date", "居所": "address"})
    assert res.ok, res.issues
    assert res.records[0].birth_date == date(1945, 8, 15)
    with pytest.raises(ValueError, match="unknown field"):
        parse(other, mapping={"対象者": "no_such_field"})


def test_consent_columns_are_read_with_the_rows() -> None:
    text = "\n".join(
        [
            HEADER + ",同意の有無,同意日",
            row(name="一 一") + ",有,令和6年4月1日",
            row(name="二 二") + ",無,",
            row(name="三 三") + ",○,",
            row(name="四 四") + ",たぶん,",
            row(name="五 五") + ",有,令和9年1月1日",
        ]
    )
    res = parse(text)
    assert [(r.row, r.consent, r.consented_on) for r in res.records] == [
        (2, True, date(2024, 4, 1)),
        (3, False, None),
        (4, True, None),
    ]
    assert (only(res, "consent_date_missing").row, only(res, "consent_date_missing").column) == (4, "同意日")
    assert (only(res, "bad_consent").row, only(res, "bad_consent").column) == (5, "同意の有無")
    assert (only(res, "future_consent_date").row, only(res, "future_consent_date").column) == (6, "同意日")
    assert res.columns["consent"] == "同意の有無" and res.columns["name"] == "氏名"
    # A date column alone: a date means consent; a mapping may name the columns.
    dated = parse(
        HEADER + ",提供OK日\n" + row() + ",2024/5/1\n" + row(name="別 人") + ",\n", mapping={"提供OK日": "consent_date"}
    )
    assert [(r.consent, r.consented_on) for r in dated.records] == [(True, date(2024, 5, 1)), (False, None)]
    assert all(not r.consent for r in parse(HEADER + "\n" + row()).records)


def test_optional_columns_household_care_devices_contact() -> None:
    text = (
        "世帯番号,氏名,生年月日,住所,要介護度,医療機器,緊急連絡先,備考,緯度,経度\n"
        "H-1,笠間 一,1930/1/1,笠間市笠間1,要介護４,在宅酸素・透析,長男 090-1111-2222,,36.38,140.25\n"
        "H-1,笠間 二,1931/1/1,笠間市笠間1,,なし,,,36.38,140.25\n"
        "H-1,笠間 三,1932/1/1,笠間市石井1,,ペースメーカー,,,36.38,140.25\n"
    )
    res = parse(text)
    assert res.ok, res.issues
    one, two, three = res.records
    assert one.household_key == two.household_key == "H-1"
    assert one.care_level == "要介護4"
    assert one.medical_devices == ["home_oxygen", "dialysis"]
    assert set(one.medical_devices) <= set(MEDICAL_DEVICES)
    assert one.emergency_contact == "長男 090-1111-2222"
    assert two.medical_devices == []
    assert three.medical_devices == ["other"] and three.medical_devices_raw == "ペースメーカー"
    assert {i.code for i in res.issues} == {"unknown_medical_device", "household_address_mismatch"}
    assert only(res, "household_address_mismatch").row == 4


# --- file-level errors ------------------------------------------------------------------------


def test_undecodable_bytes_give_one_bad_encoding_error() -> None:
    res = parse_roster_csv(HEADER.encode("utf-8") + b"\n\x81\x7f\x82\xff,1940/1/1\n")
    assert [(i.code, i.row, i.severity) for i in res.issues] == [("bad_encoding", None, "error")]
    assert res.records == [] and not res.ok


def test_utf16_file_is_refused_with_advice() -> None:
    res = parse_roster_csv(f"{HEADER}\n{row()}\n".encode("utf-16"))
    issue = only(res, "bad_encoding")
    assert "UTF-16" in issue.message_ja


def test_missing_required_column() -> None:
    text = "氏名,フリガナ,住所\n笠間 花子,カサマ ハナコ,笠間市笠間1\n"
    res = parse(text)
    issue = only(res, "missing_column")
    assert issue.row is None and issue.column == "生年月日" and issue.severity == "error"
    assert res.records == [] and not res.ok


def test_empty_required_cells() -> None:
    res = parse(f"{HEADER}\n{row(name='', address='')}\n")
    assert sorted(i.column for i in res.issues if i.code == "missing_value") == ["住所", "氏名"]
    assert res.records == []


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1940-03-02", date(1940, 3, 2)),
        ("1940/3/2", date(1940, 3, 2)),
        ("1940年3月2日", date(1940, 3, 2)),
        ("19400302", date(1940, 3, 2)),
        ("１９４０／３／２", date(1940, 3, 2)),
        ("1940/03/02 0:00:00", date(1940, 3, 2)),
        ("昭和15年3月2日", date(1940, 3, 2)),
        ("S15.3.2", date(1940, 3, 2)),
        ("S15/3/2", date(1940, 3, 2)),
        ("s15.3.2", date(1940, 3, 2)),
        ("㍼15年3月2日", date(1940, 3, 2)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("H元.1.8", date(1989, 1, 8)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("H31.4.30", date(2019, 4, 30)),
        ("R1.5.1", date(2019, 5, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("大正15年12月24日", date(1926, 12, 24)),
        ("T1.7.30", date(1912, 7, 30)),
        ("明治45年7月29日", date(1912, 7, 29)),
    ],
)
def test_dates_seireki_and_wareki(text: str, expected: date) -> None:
    assert parse_japanese_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "昭和64年1月8日",  # Heisei had begun
        "平成1年1月7日",  # still Showa
        "平成元年1月7日",
        "平成31年5月1日",  # Reiwa had begun
        "令和1年4月30日",
        "大正15年12月25日",
        "昭和1年12月24日",
        "H0.1.1",
        "1940/2/30",
        "1940/13/1",
        "明治5年1月1日",  # before the solar calendar
        "昭和十五年",
        "不明",
    ],
)
def test_bad_dates(text: str) -> None:
    with pytest.raises(DateError):
        parse_japanese_date(text)


def test_bad_wareki_date_in_file_names_the_era_span() -> None:
    res = parse(f"{HEADER}\n{row(birth='昭和64年1月8日')}\n")
    issue = only(res, "bad_date")
    assert (issue.row, issue.column, issue.severity) == (2, "生年月日", "error")
    assert "1989年1月7日" in issue.message_ja
    assert res.records == []


def test_future_birth_date() -> None:
    res = parse(f"{HEADER}\n{row(birth='令和9年1月1日')}\n")
    assert only(res, "future_birth_date").row == 2
    assert res.records == []


# --- kana, sex, phone -------------------------------------------------------------------------


@pytest.mark.parametrize("kana", ["山田 花子", "yamada", "カサマ1"])
def test_bad_kana(kana: str) -> None:
    res = parse(f"{HEADER}\n{row(kana=kana)}\n")
    issue = only(res, "bad_kana")
    assert (issue.row, issue.column) == (2, "フリガナ")


def test_kana_with_long_vowel_dot_and_vu_is_fine() -> None:
    res = parse(f"{HEADER}\n{row(kana='ヴァレリー・ジョーンズ')}\n")
    assert res.ok and res.records[0].kana == "ヴァレリー・ジョーンズ"


@pytest.mark.parametrize(
    ("raw", "code"), [("男性", "male"), ("M", "male"), ("女性", "female"), ("F", "female"), ("", "unknown")]
)
def test_sex_values(raw: str, code: str) -> None:
    assert parse(f"{HEADER}\n{row(sex=raw)}\n").records[0].sex == code


def test_bad_sex() -> None:
    assert only(parse(f"{HEADER}\n{row(sex='3')}\n"), "bad_sex").column == "性別"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("０２９６－７２－１１１１", "0296-72-1111"),
        ("(0296)72-1111", "0296-72-1111"),
        ("090-1234-5678", "090-1234-5678"),
        ("09012345678", "09012345678"),
        ("029 672 1111", "029-672-1111"),
        ("", None),
    ],
)
def test_phone_normalised(raw: str, normalised: str | None) -> None:
    res = parse(f"{HEADER}\n{row(phone=raw)}\n")
    assert res.ok, res.issues
    assert res.records[0].phone == normalised


@pytest.mark.parametrize("raw", ["12345", "090-1234-567", "296721111", "0296-72-1111/090-1234-5678", "内線12"])
def test_bad_phone(raw: str) -> None:
    issue = only(parse(f"{HEADER}\n{row(phone=raw)}\n"), "bad_phone")
    assert (issue.row, issue.column, issue.severity) == (2, "電話番号", "error")


def test_phone_without_leading_zero_gets_a_hint() -> None:
    issue = only(parse(f"{HEADER}\n{row(phone='296721111')}\n"), "bad_phone")
    assert "先頭の0" in issue.message_ja


# --- support reasons --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "codes"),
    [
        ("要介護5", ["care_level_3_5"]),
        ("要介護３、独居高齢者", ["care_level_3_5", "elderly_alone"]),
        ("身体障害者手帳1級/療育Ⓐ", ["physical_disability_1_2", "intellectual_a"]),
        ("身体障害2級・精神1級", ["physical_disability_1_2", "mental_1"]),
        ("精神障害者保健福祉手帳1級 指定難病", ["mental_1", "intractable_disease"]),
        ("ひとり暮らし高齢者", ["elderly_alone"]),
        ("高齢者のみ世帯", ["elderly_only_household"]),
        ("高齢世帯,その他", ["elderly_only_household", "other"]),
        ("療育手帳A", ["intellectual_a"]),
    ],
)
def test_support_reasons_mapped_to_vocab(cell: str, codes: list[str]) -> None:
    quoted = '"' + cell + '"'
    res = parse(f"{HEADER}\n{row(reasons=quoted)}\n")
    assert res.ok and res.issues == [], res.issues
    assert res.records[0].support_reasons == codes
    assert set(codes) <= set(SUPPORT_REASONS)


def test_unknown_support_reason_is_a_warning_mapped_to_other() -> None:
    res = parse(f"{HEADER}\n{row(reasons='要介護2・独居')}\n")
    issue = only(res, "unknown_support_reason")
    assert issue.severity == "warning" and "要介護2" in issue.message_ja
    assert res.ok
    rec = res.records[0]
    assert rec.support_reasons == ["other", "elderly_alone"]
    assert rec.support_reasons_raw == "要介護2・独居"


# --- coordinates and area ---------------------------------------------------------------------


def test_full_width_coordinates() -> None:
    res = parse(f"{HEADER}\n{row(lat='３６．３８５２', lon='１４０．２４６４')}\n")
    assert res.ok and (res.records[0].lat, res.records[0].lon) == (36.3852, 140.2464)


@pytest.mark.parametrize(
    ("lat", "lon", "hint"),
    [
        ("140.2464", "36.3852", "入れ替わ"),
        ("51.5", "-0.12", "日本"),
        ("北緯36", "140.2", "数値"),
        ("36.38", "", "両方"),
    ],
)
def test_bad_coordinates(lat: str, lon: str, hint: str) -> None:
    issue = only(parse(f"{HEADER}\n{row(lat=lat, lon=lon)}\n"), "bad_coordinate")
    assert issue.row == 2 and issue.severity == "error" and hint in issue.message_ja


def test_point_outside_given_area() -> None:
    area = box(140.16, 36.26, 140.38, 36.45)  # roughly Kasama's bounding box
    text = f"{HEADER}\n{row()}\n{row(name='水戸 太郎', lat='36.3659', lon='140.4710')}\n"
    res = parse(text, area=area)
    issue = only(res, "outside_area")
    assert issue.row == 3 and issue.severity == "error"
    assert [r.row for r in res.records] == [2]


def test_point_outside_the_real_kasama_polygon() -> None:
    from geo.geojson_areas import parse_geojson_areas

    kasama = parse_geojson_areas((DATA / "kasama_08216.geojson").read_bytes()).records[0].geometry
    # inside the bounding box but outside the city (north-east corner, in 城里町 / 水戸市 direction)
    text = f"{HEADER}\n{row()}\n{row(name='外 一郎', lat='36.44', lon='140.37')}\n"
    res = parse(text, area=kasama)
    assert only(res, "outside_area").row == 3


# --- town lookup ------------------------------------------------------------------------------


def test_town_lookup_gives_approximate_location(towns: list[Town]) -> None:
    text = (
        f"{HEADER}\n"
        + row(address="茨城県笠間市中央3-3-6", lat="", lon="")
        + "\n"
        + row(name="二", address="笠間市大字石井2068-1", lat="", lon="")
        + "\n"
        + row(name="三", address="中央一丁目1-1", lat="", lon="")
        + "\n"
        + row(name="四", address="茨城県 笠間市 美原３丁目３－１", lat="", lon="")
        + "\n"
    )
    res = parse(text, towns=towns)
    assert res.ok, res.issues
    assert [r.town for r in res.records] == ["中央三丁目", "石井", "中央一丁目", "美原三丁目"]
    assert all(r.location_approximate for r in res.records)
    chuo3 = res.records[0]
    assert (chuo3.lat, chuo3.lon) == (36.344334, 140.303234)
    warnings = [i for i in res.issues if i.code == "approximate_location"]
    assert [i.row for i in warnings] == [2, 3, 4, 5] and all(i.severity == "warning" for i in warnings)


def test_town_spelling_variant_nikota_nagatoro(towns: list[Town]) -> None:
    """GSI writes 仁古田長兎路入会地; the town list has 長兎路仁古田入会地 (same common land)."""
    text = (
        f"{HEADER}\n"
        + row(address="茨城県笠間市仁古田長兎路入会地1-171", lat="", lon="")
        + "\n"
        + row(name="二", address="茨城県笠間市長兎路仁古田入会地5", lat="", lon="")
        + "\n"
        + row(name="三", address="茨城県笠間市仁古田100", lat="", lon="")
        + "\n"
    )
    res = parse(text, towns=towns)
    assert res.ok, res.issues
    assert [r.town for r in res.records] == ["長兎路仁古田入会地", "長兎路仁古田入会地", "仁古田"]
    assert (res.records[0].lat, res.records[0].lon) == (36.312881, 140.365412)


def test_swapped_compound_is_found_without_the_alias_table(towns: list[Town]) -> None:
    gazetteer = Gazetteer(towns, aliases={})
    import imports.towns as towns_module

    saved = dict(towns_module.KNOWN_ALIASES)
    towns_module.KNOWN_ALIASES.clear()
    try:
        generic = Gazetteer(towns)
    finally:
        towns_module.KNOWN_ALIASES.update(saved)
    for g in (gazetteer, generic):
        found = g.lookup("茨城県笠間市仁古田長兎路入会地1-171")
        assert found is not None and found.name == "長兎路仁古田入会地"


def test_town_not_found(towns: list[Town]) -> None:
    mito = row(address="茨城県水戸市中央1-1", lat="", lon="")
    no_such_chome = row(name="二", address="笠間市中央9-1", lat="", lon="")
    text = f"{HEADER}\n{mito}\n{no_such_chome}\n"
    res = parse(text, towns=towns)
    assert [(i.row, i.code, i.column) for i in res.errors] == [
        (2, "town_not_found", "住所"),
        (3, "town_not_found", "住所"),
    ]
    assert res.records == []


def test_no_coordinates_and_no_town_list() -> None:
    assert only(parse(f"{HEADER}\n{row(lat='', lon='')}\n"), "no_location").severity == "error"


def test_explicit_coordinates_still_record_the_town(towns: list[Town]) -> None:
    res = parse(f"{HEADER}\n{row()}\n", towns=towns)
    assert res.issues == [] and res.records[0].town == "石井" and not res.records[0].location_approximate


# --- duplicates -------------------------------------------------------------------------------


def test_duplicate_in_file_names_the_earlier_row() -> None:
    text = (
        f"{HEADER}\n"
        + row()
        + "\n"
        + row(name="友部 一郎", birth="1950/1/1")
        + "\n"
        + row(name="笠間　花子", birth="1940/03/02", address="茨城県笠間市石井２０６８－１", phone="")
        + "\n"
    )
    res = parse(text)
    issue = only(res, "duplicate_in_file")
    assert issue.row == 4 and issue.severity == "error" and "2行目" in issue.message_ja
    assert [r.row for r in res.records] == [2, 3]


def test_same_name_different_birth_date_is_not_a_duplicate() -> None:
    res = parse(f"{HEADER}\n{row()}\n{row(birth='1941/3/2')}\n")
    assert res.ok and len(res.records) == 2


def test_duplicate_is_reported_alongside_other_errors_of_the_row() -> None:
    res = parse(f"{HEADER}\n{row()}\n{row(phone='12345')}\n")
    assert sorted(i.code for i in res.errors) == ["bad_phone", "duplicate_in_file"]
    assert all(i.row == 3 for i in res.errors)


def test_empty_file() -> None:
    assert [i.code for i in parse_roster_csv(b"").issues] == ["empty_file"]
    assert [i.code for i in parse_roster_csv(b"\r\n\r\n").issues] == ["empty_file"]
