"""GSI shelter CSV parser, against the real Kasama extracts (tests/data, credited in tests/data/README.md)."""

from __future__ import annotations

import pytest

from geo.geojson_areas import parse_geojson_areas
from imports.gsi_shelters import ShelterRecord, pair_with_designated, parse_flag, parse_gsi_shelters_csv
from tests.helpers.public_data import DATA
from tests.helpers.public_data import GSI_DESIGNATED as DESIGNATED
from tests.helpers.public_data import GSI_EMERGENCY as EMERGENCY
from vocab import SHELTER_HAZARDS, SHELTER_KINDS


@pytest.fixture(scope="module")
def emergency() -> list[ShelterRecord]:
    res = parse_gsi_shelters_csv(EMERGENCY.read_bytes())
    assert res.ok and res.issues == [], res.issues
    return res.records


@pytest.fixture(scope="module")
def designated() -> list[ShelterRecord]:
    res = parse_gsi_shelters_csv(DESIGNATED.read_bytes())
    assert res.ok and res.issues == [], res.issues
    return res.records


def test_real_emergency_sites(emergency: list[ShelterRecord]) -> None:
    assert len(emergency) == 8
    assert {r.kind for r in emergency} == {"emergency_site"}
    assert [r.row for r in emergency] == list(range(2, 10))
    first = emergency[0]
    assert (first.source_id, first.name, first.address) == ("E0821600001201", "友部第二中学校", "茨城県笠間市旭町510-1")
    assert (first.lat, first.lon) == (36.325894, 140.330523)
    assert first.municipality == "茨城県笠間市" and first.same_address_as_other_kind
    for r in emergency:
        assert set(r.hazards) <= set(SHELTER_HAZARDS)
        assert not {"storm_surge", "tsunami", "volcano"} & set(r.hazards), r
        assert {"landslide", "earthquake", "large_fire", "inland_flood"} <= set(r.hazards), r
    gym = next(r for r in emergency if r.name == "市民体育館")
    assert "flood" not in gym.hazards
    assert [r.name for r in emergency if "flood" not in r.hazards] == ["市民体育館"]


def test_real_designated_shelters(designated: list[ShelterRecord]) -> None:
    assert len(designated) == 30
    assert {r.kind for r in designated} == {"designated"}
    assert all(r.hazards == [] and r.accepted_persons is None for r in designated)
    assert len({r.source_id for r in designated}) == 30
    assert all(r.kind in SHELTER_KINDS for r in designated)
    yukai = next(r for r in designated if r.name == "ゆかいふれあいセンター")
    assert yukai.address == "茨城県笠間市仁古田長兎路入会地1-171"
    # exactly the facilities that also are emergency sites carry 指定緊急避難場所との住所同一 = 1
    assert sum(r.same_address_as_other_kind for r in designated) == 10


def test_every_emergency_site_is_a_designated_facility(
    emergency: list[ShelterRecord], designated: list[ShelterRecord]
) -> None:
    """The IDs differ in the suffix (E…201 vs E…111); the facility part and the name match."""
    designated_ids = {r.source_id for r in designated}
    assert not {r.source_id for r in emergency} & designated_ids  # not literally equal
    assert {r.facility_key for r in emergency} <= {r.facility_key for r in designated}
    pairs = pair_with_designated(emergency, designated)
    assert len(pairs) == 8
    for site in emergency:
        match = pairs[site.source_id]
        assert match is not None and match.name == site.name and match.address == site.address
    # three shelters share facility 00016 (石井2068-1); the name picks the gymnasium
    assert pairs["E0821600016201"] is not None and pairs["E0821600016201"].source_id == "E0821600016111"


def test_all_real_points_lie_inside_kasama() -> None:
    kasama = parse_geojson_areas((DATA / "kasama_08216.geojson").read_bytes()).records[0].geometry
    for path in (EMERGENCY, DESIGNATED):
        res = parse_gsi_shelters_csv(path.read_bytes(), area=kasama)
        assert res.ok, res.issues


def test_cp932_copy_parses_the_same(designated: list[ShelterRecord]) -> None:
    text = DESIGNATED.read_bytes().decode("utf-8").replace("\n", "\r\n")
    res = parse_gsi_shelters_csv(text.encode("cp932"))
    assert res.encoding == "cp932" and res.ok
    assert res.records == designated


def test_circle_flags_and_unknown_flag_value() -> None:
    text = EMERGENCY.read_bytes().decode("utf-8").splitlines()
    header = text[0]
    lines = [
        header,
        "1,E0821600001201,茨城県笠間市,A校,茨城県笠間市旭町1,○,◯,,〇,×,●,1,,,36.3,140.3,",
        "2,E0821600002201,茨城県笠間市,B校,茨城県笠間市旭町2,?,,,1,,,,,,36.3,140.3,",
    ]
    res = parse_gsi_shelters_csv("\n".join(lines).encode())
    assert [r.hazards for r in res.records] == [
        ["flood", "landslide", "earthquake", "large_fire", "inland_flood"],
        ["earthquake"],
    ]
    issue = next(i for i in res.issues if i.code == "bad_flag")
    assert (issue.row, issue.column, issue.severity) == (3, "洪水", "warning")
    assert parse_flag("1") is True and parse_flag("") is False and parse_flag("たぶん") is None


def test_welfare_shelter_from_accepted_persons() -> None:
    header = DESIGNATED.read_text(encoding="utf-8").splitlines()[0]
    text = header + "\n1,E0821600099111,茨城県笠間市,福祉センター,茨城県笠間市中央1-1,,,要配慮者,36.34,140.30,\n"
    rec = parse_gsi_shelters_csv(text.encode()).records[0]
    assert rec.kind == "welfare" and rec.accepted_persons == "要配慮者"


def test_row_errors_missing_location_bad_coordinate_duplicate_id() -> None:
    header = DESIGNATED.read_text(encoding="utf-8").splitlines()[0]
    rows = [
        "1,E0821600001111,茨城県笠間市,A,茨城県笠間市旭町1,,,,36.3,140.3,",
        "2,E0821600002111,茨城県笠間市,B,茨城県笠間市旭町2,,,,,,",
        "3,E0821600003111,茨城県笠間市,C,茨城県笠間市旭町3,,,,140.3,36.3,",
        "4,E0821600001111,茨城県笠間市,D,茨城県笠間市旭町4,,,,36.3,140.3,",
        "5,,茨城県笠間市,,茨城県笠間市旭町5,,,,36.3,140.3,",
    ]
    res = parse_gsi_shelters_csv("\n".join([header, *rows]).encode())
    assert [(i.row, i.code) for i in res.errors] == [
        (3, "no_location"),
        (4, "bad_coordinate"),
        (5, "duplicate_in_file"),
        (6, "missing_value"),
        (6, "missing_value"),
    ]
    assert [r.name for r in res.records] == ["A"]
    assert res.total_rows == 5 and not res.ok


def test_point_outside_area_and_municipality_filter() -> None:
    kasama = parse_geojson_areas((DATA / "kasama_08216.geojson").read_bytes()).records[0].geometry
    header = DESIGNATED.read_text(encoding="utf-8").splitlines()[0]
    rows = [
        "1,E0821600001111,茨城県笠間市,A,茨城県笠間市旭町510-1,,,,36.325894,140.330523,",
        "2,E0820100001111,茨城県水戸市,水戸の学校,茨城県水戸市中央1-1,,,,36.3659,140.4710,",
        "3,E0821600002111,茨城県笠間市,B,茨城県笠間市どこか,,,,36.3659,140.4710,",
    ]
    res = parse_gsi_shelters_csv("\n".join([header, *rows]).encode(), area=kasama, municipality="茨城県笠間市")
    assert [(i.row, i.code, i.severity) for i in res.issues] == [
        (4, "outside_area", "error"),
        (None, "other_municipality_skipped", "warning"),
    ]
    assert [r.name for r in res.records] == ["A"] and res.total_rows == 2


def test_unknown_layout_and_missing_hazard_column() -> None:
    res = parse_gsi_shelters_csv("名前,場所\nA,B\n".encode())
    assert [i.code for i in res.issues] == ["unknown_layout"]
    header = EMERGENCY.read_text(encoding="utf-8").splitlines()[0].replace(",津波", "")
    res = parse_gsi_shelters_csv((header + "\n").encode())
    assert [(i.code, i.column) for i in res.issues] == [("missing_column", "津波")]


def test_bad_encoding() -> None:
    res = parse_gsi_shelters_csv(b"NO,\x81\x7f\n")
    assert [(i.code, i.row) for i in res.issues] == [("bad_encoding", None)]
