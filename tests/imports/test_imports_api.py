"""`POST /api/imports/{kind}` end to end: upload, per-row report, all-or-nothing commit, audit.

Every test runs against its own tenant whose boundary is the real Kasama outline and whose town
list is the real Geolonia list (both from tests/data, credited in tests/data/README.md), and
checks what actually reached the database, not only the response.
"""

from __future__ import annotations

import functools
import json
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from geo.geojson_areas import parse_geojson_areas
from server.registry.imports.roster import address_prefixes
from tests.conftest import ApiClient, TenantFixture, as_tenant
from tests.helpers.public_data import GSI_DESIGNATED as DESIGNATED
from tests.helpers.public_data import GSI_EMERGENCY as EMERGENCY
from tests.helpers.public_data import KASAMA_OUTLINE as KASAMA
from tests.helpers.public_data import KASAMA_TOWNS as TOWNS

TABLES = ("household", "person", "consent", "district", "shelter", "hazard_zone")

HEADER = "世帯番号,氏名,フリガナ,生年月日,性別,住所,電話番号,避難支援等を必要とする事由,緯度,経度,緊急連絡先,備考"
ASAHI = (140.3305, 36.3259)  # 旭町, near 友部第二中学校
ROWS = [
    "H001,友部 一郎,トモベ イチロウ,昭和10年4月1日,男,茨城県笠間市旭町510-1,0296-77-0001,要介護3,36.3259,140.3305,"
    "長男 友部太郎 090-1234-5678,",
    "H001,友部 花子,トモベ ハナコ,昭和12年5月2日,女,茨城県笠間市旭町510-1,0296-77-0001,高齢者のみ世帯,36.3259,140.3305,,",
    ",稲田 次郎,イナダ ジロウ,1940/06/03,男,茨城県笠間市稲田2145-3,,身体障害1級,36.3605,140.2040,,",
    ",石井 三子,イシイ ミツコ,S16.7.4,女,笠間市石井2068-1,,要介護4,,,,玄関にスロープ",
]
GOOD = "\n".join([HEADER, *ROWS]) + "\n"


@functools.cache
def kasama_outline_wkt() -> str:
    res = parse_geojson_areas(KASAMA.read_bytes())
    assert res.ok and len(res.records) == 1, res.issues
    return res.records[0].geometry.wkt


def square(lon: float, lat: float, d: float = 0.005) -> list[list[float]]:
    return [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]


def feature(ring: list[list[float]], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def collection(*features: dict[str, Any], **extra: Any) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features), **extra}, ensure_ascii=False).encode()


# ---- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def make_city(make_tenant, sessionmaker):
    """A tenant for 笠間市: the real outline as boundary, optionally the real town list."""

    async def make(roles: tuple[str, ...] = ("staff", "coordinator"), towns: bool = True) -> TenantFixture:
        tenant = await make_tenant(roles)
        with as_tenant(tenant.id, role="system"):
            async with sessionmaker() as db, db.begin():
                await db.execute(
                    text(
                        "UPDATE tenant SET name = :name, boundary = ST_Multi(ST_GeomFromText(:wkt, 4326)) WHERE id = :t"
                    ),
                    {
                        "name": f"笠間市社会福祉協議会（テスト {tenant.code}）",
                        "wkt": kasama_outline_wkt(),
                        "t": tenant.id,
                    },
                )
                if towns:
                    for it in json.loads(TOWNS.read_text(encoding="utf-8")):
                        await db.execute(
                            text(
                                "INSERT INTO town (tenant_id, id, name, koaza, location)"
                                " VALUES (:t, :id, :name, :koaza, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
                            ),
                            {
                                "t": tenant.id,
                                "id": uuid.uuid4(),
                                "name": it["town"],
                                "koaza": it.get("koaza") or "",
                                "lon": float(it["lng"]),
                                "lat": float(it["lat"]),
                            },
                        )
        return tenant

    return make


@pytest.fixture
async def city(make_city) -> TenantFixture:
    return await make_city()


async def sign_in(client_factory, tenant: TenantFixture, role: str = "staff") -> ApiClient:
    c = client_factory()
    acct = tenant.accounts[role]
    assert (await c.login(acct.login, acct.password)).status_code == 200
    return c


@pytest.fixture
async def staff(city, client_factory) -> ApiClient:
    return await sign_in(client_factory, city)


async def upload(
    c: ApiClient,
    kind: str,
    content: bytes | str,
    *,
    filename: str = "upload.csv",
    dry_run: bool = False,
    csrf: bool = True,
    **fields: str,
) -> httpx.Response:
    if isinstance(content, str):
        content = content.encode("utf-8")
    headers = {"X-CSRF-Token": await c.ensure_csrf()} if csrf else {}
    params = {"dry_run": "true"} if dry_run else {}
    return await c.post(
        f"/api/imports/{kind}",
        params=params,
        headers=headers,
        files={"file": (filename, content, "application/octet-stream")},
        data=fields,
    )


async def counts(sessionmaker, tenant_id: uuid.UUID) -> dict[str, int]:
    with as_tenant(tenant_id, role="system"):
        async with sessionmaker() as db:
            return {
                t: (
                    await db.execute(text(f"SELECT count(*) FROM {t} WHERE tenant_id = :t"), {"t": tenant_id})
                ).scalar_one()
                for t in TABLES
            }


async def rows(sessionmaker, tenant_id: uuid.UUID, sql: str, **params: Any) -> list[Any]:
    with as_tenant(tenant_id, role="system"):
        async with sessionmaker() as db:
            return list((await db.execute(text(sql), {"t": tenant_id, **params})).mappings())


async def audit_entries(sessionmaker, tenant_id: uuid.UUID, action: str) -> list[Any]:
    return await rows(
        sessionmaker,
        tenant_id,
        "SELECT action, object_type, object_ids, details, actor_login FROM audit_log"
        " WHERE tenant_id = :t AND action = :a ORDER BY id",
        a=action,
    )


def issues_with(report: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [i for i in report["issues"] if i["code"] == code]


def refused(resp: httpx.Response) -> dict[str, Any]:
    """The 422 problem of a refused commit; returns the report it carries."""
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == "import_failed"
    assert body["message"]["ja"] == "取り込みできない行があります。エラー一覧を確認して修正してください。"
    report = body["report"]
    assert report["committed"] is False and report["dry_run"] is False and report["errors"] >= 1
    assert report["created"] == 0 and report["updated"] == 0
    return report


NOTHING = dict.fromkeys(TABLES, 0)


# ---- roster: good files ----------------------------------------------------------------------


async def test_roster_utf8_commit_groups_households_assigns_districts_and_lists_approximate_places(
    city, staff, sessionmaker, client_factory
) -> None:
    district_id = uuid.uuid4()
    with as_tenant(city.id, role="system"):
        async with sessionmaker() as db, db.begin():
            lon, lat = ASAHI
            await db.execute(
                text(
                    "INSERT INTO district (tenant_id, id, level, code, name, geom) VALUES (:t, :id, 'branch', 'TOMOBE',"
                    " '友部支部', ST_Multi(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)))"
                ),
                {
                    "t": city.id,
                    "id": district_id,
                    "x0": lon - 0.01,
                    "y0": lat - 0.01,
                    "x1": lon + 0.01,
                    "y1": lat + 0.01,
                },
            )

    resp = await upload(staff, "roster", GOOD, filename="名簿.csv")
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert (report["kind"], report["dry_run"], report["committed"]) == ("roster", False, True)
    assert (report["total_rows"], report["created"], report["households_created"], report["skipped"]) == (4, 4, 3, 0)
    assert report["errors"] == 0
    assert {i["code"] for i in report["issues"]} == {"approximate_location", "no_consent_columns"}
    assert report["approximate_locations"] == [{"row": 5, "address": "笠間市石井2068-1", "town": "石井"}]

    assert await counts(sessionmaker, city.id) == {**NOTHING, "household": 3, "person": 4, "district": 1}
    people = await rows(
        sessionmaker,
        city.id,
        """
        SELECT p.id, p.name, p.kana, p.birth_date, p.sex, p.phone, p.support_reasons, p.emergency_contacts, p.notes,
               h.id AS household_id, h.address, h.town, h.district_id, h.location_approximate,
               ST_X(h.location) AS lon, ST_Y(h.location) AS lat
        FROM person p JOIN household h ON h.tenant_id = p.tenant_id AND h.id = p.household_id
        WHERE p.tenant_id = :t ORDER BY p.birth_date""",
    )
    by_name = {p["name"]: p for p in people}
    ichiro, hanako = by_name["友部\u3000一郎"], by_name["友部\u3000花子"]
    assert ichiro["household_id"] == hanako["household_id"]  # 世帯番号 H001
    assert ichiro["district_id"] == district_id == hanako["district_id"]  # the district covers 旭町
    assert (ichiro["kana"], ichiro["birth_date"], ichiro["sex"]) == ("トモベ\u3000イチロウ", date(1935, 4, 1), "male")
    assert ichiro["support_reasons"] == ["care_level_3_5"]
    assert ichiro["emergency_contacts"] == [{"name": "友部太郎", "phone": "090-1234-5678", "relationship": "長男"}]
    jiro = by_name["稲田\u3000次郎"]
    assert jiro["district_id"] is None and jiro["household_id"] != ichiro["household_id"]
    assert jiro["support_reasons"] == ["physical_disability_1_2"] and jiro["birth_date"] == date(1940, 6, 3)
    mitsuko = by_name["石井\u3000三子"]
    assert mitsuko["location_approximate"] is True and mitsuko["town"] == "石井"
    towns = json.loads(TOWNS.read_text(encoding="utf-8"))
    ishii = next(t for t in towns if t["town"] == "石井" and not t["koaza"])
    assert (mitsuko["lon"], mitsuko["lat"]) == pytest.approx((float(ishii["lng"]), float(ishii["lat"])))
    assert mitsuko["notes"] == "玄関にスロープ"
    assert not ichiro["location_approximate"]
    # On the map the approximate location is flagged, so it can be drawn as such; an exact one
    # carries no flag (absent means false).
    import mapbox_vector_tile

    from tests.helpers.disclosure import tile_of

    for person, flag in ((mitsuko, True), (ichiro, None)):
        x, y = tile_of(person["lon"], person["lat"], 16)
        r = await staff.get(f"/api/tiles/households/16/{x}/{y}.mvt")
        assert r.status_code == 200, r.text
        [feature] = [
            f
            for f in mapbox_vector_tile.decode(r.content)["households"]["features"]
            if f["properties"]["id"] == str(person["household_id"])
        ]
        assert feature["properties"].get("approximate") is flag, feature["properties"]

    [entry] = await audit_entries(sessionmaker, city.id, "import.roster")
    written = {str(p["id"]) for p in people} | {str(p["household_id"]) for p in people}
    assert set(entry["object_ids"]) == written
    assert entry["details"]["people"] == 4 and entry["details"]["households"] == 3
    assert entry["details"]["filename"] == "名簿.csv" and entry["details"]["consents"] == 0

    # No consent columns → no consent rows → the coordinator (社協) sees nobody; staff see all four.
    coordinator = await sign_in(client_factory, city, "coordinator")
    r = await coordinator.get("/api/households")
    assert r.status_code == 200 and r.json()["total"] == 0
    r = await staff.get("/api/households", params={"limit": 50})
    assert sum(len(h["people"]) for h in r.json()["items"]) == 4


async def test_roster_cp932_file_commits(city, staff, sessionmaker) -> None:
    lines = [
        "氏名,フリガナ,生年月日,性別,住所,電話番号,避難支援等を必要とする事由,緯度,経度",
        "友部　髙子,ﾄﾓﾍﾞ ﾀｶｺ,昭和15年3月2日,2,茨城県笠間市旭町510-1,0296-77-1111,要介護３,36.3259,140.3305",
        "岩間 ①郎,ｲﾜﾏ ｲﾁﾛｳ,S9.12.24,1,茨城県笠間市中央三丁目3-6,,独居高齢,,",
    ]
    data = ("\r\n".join(lines) + "\r\n").encode("cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    resp = await upload(staff, "roster", data, filename="meibo_sjis.csv")
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["committed"] and report["created"] == 2 and report["households_created"] == 2
    assert report["approximate_locations"] == [{"row": 3, "address": "茨城県笠間市中央三丁目3-6", "town": "中央三丁目"}]
    people = await rows(
        sessionmaker, city.id, "SELECT name, kana, sex, support_reasons FROM person WHERE tenant_id = :t ORDER BY name"
    )
    assert {(p["name"], p["kana"], p["sex"]) for p in people} == {
        ("友部\u3000髙子", "トモベ\u3000タカコ", "female"),
        ("岩間\u3000①郎", "イワマ\u3000イチロウ", "male"),
    }
    [entry] = await audit_entries(sessionmaker, city.id, "import.roster")
    assert entry["details"]["encoding"] == "cp932"


async def test_rows_without_a_household_number_share_a_household_by_address(city, staff, sessionmaker) -> None:
    data = "\n".join(
        [
            "氏名,生年月日,住所,緯度,経度",
            "稲田 次郎,1940/06/03,茨城県笠間市稲田2145-3,36.3605,140.2040",
            "稲田 梅子,1942/01/15,笠間市稲田２１４５番地３,36.3605,140.2040",
            "稲田 三郎,1950/02/01,茨城県笠間市稲田2145-30,36.3606,140.2041",
        ]
    )
    report = (await upload(staff, "roster", data)).json()
    assert (report["created"], report["households_created"]) == (3, 2)
    people = await rows(sessionmaker, city.id, "SELECT name, household_id FROM person WHERE tenant_id = :t")
    household = {p["name"]: p["household_id"] for p in people}
    assert household["稲田\u3000次郎"] == household["稲田\u3000梅子"] != household["稲田\u3000三郎"]


async def test_roster_dry_run_writes_nothing_but_is_audited_as_a_read(city, staff, sessionmaker) -> None:
    resp = await upload(staff, "roster", GOOD, dry_run=True)
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert (report["dry_run"], report["committed"]) == (True, False)
    assert (report["total_rows"], report["created"], report["households_created"], report["errors"]) == (4, 4, 3, 0)
    assert report["approximate_locations"] == [{"row": 5, "address": "笠間市石井2068-1", "town": "石井"}]
    assert await counts(sessionmaker, city.id) == NOTHING
    assert await audit_entries(sessionmaker, city.id, "import.roster") == []
    [entry] = await audit_entries(sessionmaker, city.id, "import.dry_run")
    assert entry["object_type"] == "person" and entry["details"]["rows"] == 4
    assert entry["actor_login"] == city.accounts["staff"].login


# ---- roster: bad input -----------------------------------------------------------------------

OUTSIDE = ",水戸 外子,ミト ソトコ,昭和20年1月1日,女,茨城県水戸市中央1-4-1,,要介護3,36.3659,140.4710,,"
BAD_INPUTS = {
    # case: (file bytes, code, row, column)
    "wrong_encoding": (GOOD.encode("utf-16"), "bad_encoding", None, None),
    "missing_column": (
        "\n".join(
            [HEADER.replace("生年月日,", ""), "H1,笠間 花子,カサマ ハナコ,女,笠間市石井1,,,36.38,140.25,,"]
        ).encode(),
        "missing_column",
        None,
        "生年月日",
    ),
    "bad_date": (
        "\n".join([HEADER, ROWS[0], ROWS[2].replace("1940/06/03", "昭和70年1月1日")]).encode(),
        "bad_date",
        3,
        "生年月日",
    ),
    "outside_the_city": ("\n".join([HEADER, ROWS[0], OUTSIDE]).encode(), "outside_area", 3, "緯度"),
    "duplicate_in_file": ("\n".join([HEADER, ROWS[2], ROWS[0], ROWS[2]]).encode(), "duplicate_in_file", 4, "氏名"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
async def test_roster_bad_input_is_reported_per_row_and_a_commit_writes_nothing(
    case: str, city, staff, sessionmaker
) -> None:
    data, code, row, column = BAD_INPUTS[case]
    dry = await upload(staff, "roster", data, dry_run=True)
    assert dry.status_code == 200, dry.text
    found = issues_with(dry.json(), code)
    assert len(found) == 1, dry.json()["issues"]
    assert (found[0]["row"], found[0]["column"], found[0]["severity"]) == (row, column, "error")
    assert found[0]["message"]["ja"] and found[0]["message"]["en"]

    report = refused(await upload(staff, "roster", data))
    assert [(i["row"], i["column"]) for i in issues_with(report, code)] == [(row, column)]
    assert report["skipped"] == report["total_rows"]
    assert await counts(sessionmaker, city.id) == NOTHING  # the good rows of the file were not written either
    assert await audit_entries(sessionmaker, city.id, "import.roster") == []
    [rejected] = await audit_entries(sessionmaker, city.id, "import.rejected")
    assert rejected["details"]["errors"] >= 1


async def test_importing_the_same_roster_twice_fails_with_duplicates_against_the_registry(
    city, staff, sessionmaker
) -> None:
    assert (await upload(staff, "roster", GOOD)).status_code == 200
    before = await counts(sessionmaker, city.id)
    existing = {
        r["name"]: str(r["id"])
        for r in await rows(sessionmaker, city.id, "SELECT id, name FROM person WHERE tenant_id = :t")
    }

    report = refused(await upload(staff, "roster", GOOD))
    dups = issues_with(report, "duplicate_in_registry")
    assert [(i["row"], i["column"]) for i in dups] == [(2, "氏名"), (3, "氏名"), (4, "氏名"), (5, "氏名")]
    assert (
        existing["友部\u3000一郎"] in dups[0]["message"]["ja"]
        and existing["友部\u3000一郎"] in dups[0]["message"]["en"]
    )
    assert existing["石井\u3000三子"] in dups[3]["message"]["ja"]
    assert await counts(sessionmaker, city.id) == before

    # Another spelling of the same person and address is still the same person.
    respelled = "\n".join([HEADER, ",友部　一郎,,昭和10年4月1日,男,笠間市旭町５１０番地１,,,36.3259,140.3305,,"])
    report = refused(await upload(staff, "roster", respelled))
    [dup] = issues_with(report, "duplicate_in_registry")
    assert dup["row"] == 2 and existing["友部\u3000一郎"] in dup["message"]["en"]
    # A different birth date is another person.
    other = respelled.replace("昭和10年4月1日", "昭和11年4月1日")
    assert (await upload(staff, "roster", other)).status_code == 200
    assert (await counts(sessionmaker, city.id))["person"] == before["person"] + 1
    rejected = await audit_entries(sessionmaker, city.id, "import.rejected")
    assert existing["友部\u3000一郎"] in rejected[0]["object_ids"]  # the report disclosed this person's id


async def test_roster_without_a_town_list_cannot_place_rows_without_coordinates(
    make_city, client_factory, sessionmaker
) -> None:
    tenant = await make_city(towns=False)
    c = await sign_in(client_factory, tenant)
    report = refused(await upload(c, "roster", GOOD))
    [issue] = issues_with(report, "no_location")
    assert (issue["row"], issue["column"]) == (5, "住所")
    assert await counts(sessionmaker, tenant.id) == NOTHING


async def test_roster_column_mapping_and_consent_columns(city, staff, client_factory, sessionmaker) -> None:
    data = "\n".join(
        [
            "対象者名,誕生,現住所,緯度,経度,提供への同意,同意した日",
            "友部 一郎,昭和10年4月1日,茨城県笠間市旭町510-1,36.3259,140.3305,有,令和6年4月1日",
            "稲田 次郎,1940/06/03,茨城県笠間市稲田2145-3,36.3605,140.2040,無,",
            "石井 三子,S16.7.4,笠間市石井2068-1,,,○,",
        ]
    )
    mapping = json.dumps(
        {
            "対象者名": "name",
            "誕生": "birth_date",
            "現住所": "address",
            "提供への同意": "consent",
            "同意した日": "consent_date",
        },
        ensure_ascii=False,
    )
    # A bad mapping is a form error, not a file error.
    r = await upload(staff, "roster", data, mapping='{"対象者名": "nickname"}')
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "mapping"
    r = await upload(staff, "roster", data, mapping="not json")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "mapping"
    r = await upload(staff, "roster", data, mapping=mapping, consent_classes="council,nobody")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "consent_classes"

    resp = await upload(
        staff,
        "roster",
        data,
        mapping=mapping,
        consent_source="同意書（2024年4月 郵送）",
        consent_classes="council,commissioner",
    )
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["created"] == 3
    [no_date] = issues_with(report, "consent_date_missing")
    assert no_date["row"] == 4 and no_date["severity"] == "warning"
    consents = await rows(
        sessionmaker,
        city.id,
        """
        SELECT p.name, c.recipient_class, c.dataset, c.consented_on, c.source
        FROM consent c JOIN person p ON p.tenant_id = c.tenant_id AND p.id = c.person_id
        WHERE c.tenant_id = :t ORDER BY p.name, c.recipient_class""",
    )
    assert [(c["name"], c["recipient_class"], c["dataset"]) for c in consents] == [
        ("友部\u3000一郎", "commissioner", "roster"),
        ("友部\u3000一郎", "council", "roster"),
        ("石井\u3000三子", "commissioner", "roster"),
        ("石井\u3000三子", "council", "roster"),
    ]
    assert consents[0]["consented_on"] == date(2024, 4, 1) and consents[0]["source"] == "同意書（2024年4月 郵送）"
    # The 社協 coordinator now sees exactly the two who consented for 社協.
    coordinator = await sign_in(client_factory, city, "coordinator")
    seen = (await coordinator.get("/api/households")).json()["items"]
    assert sorted(p["name"] for h in seen for p in h["people"]) == ["友部\u3000一郎", "石井\u3000三子"]

    bad = data.replace(",無,", ",たぶん,")
    report = refused(await upload(staff, "roster", bad, mapping=mapping))
    [issue] = issues_with(report, "bad_consent")
    assert (issue["row"], issue["column"]) == (3, "提供への同意")


# ---- districts and hazard zones --------------------------------------------------------------


async def test_the_real_city_outline_imports_as_one_area_district(city, staff, sessionmaker) -> None:
    assert (await upload(staff, "roster", "\n".join([HEADER, ROWS[2]]))).status_code == 200
    resp = await upload(staff, "districts", KASAMA.read_bytes(), filename="08216.geojson", level="area")
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert (report["total_rows"], report["created"], report["updated"], report["errors"]) == (1, 1, 0, 0)
    [district] = await rows(
        sessionmaker,
        city.id,
        """
        SELECT id, code, name, level, parent_id, ST_IsValid(geom) AS valid, ST_NumGeometries(geom) AS parts,
               ST_Area(geom::geography) / 1e6 AS km2 FROM district WHERE tenant_id = :t""",
    )
    assert (district["code"], district["level"], district["parent_id"], district["valid"], district["parts"]) == (
        "08216",
        "area",
        None,
        True,
        1,
    )
    assert district["km2"] == pytest.approx(240.3, abs=3)
    assert district["name"] == "08216" and issues_with(report, "missing_name")[0]["severity"] == "warning"
    [household] = await rows(sessionmaker, city.id, "SELECT district_id FROM household WHERE tenant_id = :t")
    assert household["district_id"] == district["id"]  # households re-assigned after the import
    [entry] = await audit_entries(sessionmaker, city.id, "import.districts")
    assert entry["object_ids"] == [str(district["id"])]

    # Same file again: an update of the same district, not a second one; a branch can hang below it.
    again = (await upload(staff, "districts", KASAMA.read_bytes(), level="area")).json()
    assert (again["created"], again["updated"]) == (0, 1)
    branch = collection(feature(square(*ASAHI), name="友部支部", code="B01"))
    r = await upload(staff, "districts", branch, level="branch", parent_code="08216")
    assert r.status_code == 200, r.text
    tree = await rows(
        sessionmaker, city.id, "SELECT code, level, parent_id FROM district WHERE tenant_id = :t ORDER BY code"
    )
    assert [(d["code"], d["level"], d["parent_id"]) for d in tree] == [
        ("08216", "area", None),
        ("B01", "branch", district["id"]),
    ]
    r = await upload(staff, "districts", branch, level="branch", parent_code="NOPE")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "parent_code"


BOWTIE = [[140.30, 36.34], [140.31, 36.35], [140.31, 36.34], [140.30, 36.35], [140.30, 36.34]]


async def test_self_intersecting_polygon_is_repaired_with_a_warning(city, staff, sessionmaker) -> None:
    data = collection(feature(BOWTIE, name="蝶形地区", code="BOW"))
    resp = await upload(staff, "districts", data, level="unit")
    assert resp.status_code == 200, resp.text
    report = resp.json()
    [issue] = issues_with(report, "geometry_repaired")
    assert (issue["row"], issue["column"], issue["severity"]) == (1, "geometry", "warning")
    assert report["errors"] == 0 and report["created"] == 1
    [d] = await rows(
        sessionmaker,
        city.id,
        "SELECT name, ST_IsValid(geom) AS valid, ST_NumGeometries(geom) AS parts FROM district WHERE tenant_id = :t",
    )
    assert (d["name"], d["valid"], d["parts"]) == ("蝶形地区", True, 2)


@pytest.mark.parametrize(
    ("kind", "fields"), [("districts", {"level": "branch"}), ("hazard-zones", {"hazard_kind": "flood"})]
)
async def test_projected_geojson_is_rejected_as_wrong_crs(
    kind: str, fields: dict[str, Any], city, staff, sessionmaker
) -> None:
    # 平面直角座標系 IX (EPSG:6677) metres, saved with its crs member.
    ring = [[31000.0, 12000.0], [32000.0, 12000.0], [32000.0, 13000.0], [31000.0, 13000.0], [31000.0, 12000.0]]
    data = collection(
        feature(ring, name="投影", code="P1"),
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::6677"}},
    )
    dry = (await upload(staff, kind, data, dry_run=True, **fields)).json()
    [issue] = issues_with(dry, "wrong_crs")
    assert (issue["row"], issue["column"]) == (None, "crs")
    report = refused(await upload(staff, kind, data, **fields))
    assert issues_with(report, "wrong_crs")
    assert await counts(sessionmaker, city.id) == NOTHING


async def test_hazard_zones_insert_with_kind_and_level(city, staff, sessionmaker) -> None:
    data = collection(
        feature(square(140.30, 36.34), A31_001="0.5-3.0m", name="涸沼川"),
        feature(square(140.25, 36.38), A31_001="3.0-5.0m"),
        feature(square(140.60, 36.38), A31_001="0.5-3.0m"),  # 鉾田 side: outside 笠間市
    )
    r = await upload(staff, "hazard-zones", data, level_key="A31_001")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "hazard_kind"
    r = await upload(staff, "hazard-zones", data, hazard_kind="tsunami")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "hazard_kind"
    resp = await upload(staff, "hazard-zones", data, filename="A31.geojson", hazard_kind="flood", level_key="A31_001")
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert (report["total_rows"], report["created"], report["skipped"]) == (3, 2, 1)
    assert issues_with(report, "outside_area_skipped")[0]["severity"] == "warning"
    zones = await rows(
        sessionmaker, city.id, "SELECT kind, level, name, source FROM hazard_zone WHERE tenant_id = :t ORDER BY level"
    )
    assert [(z["kind"], z["level"], z["name"], z["source"]) for z in zones] == [
        ("flood", "0.5-3.0m", "涸沼川", "A31.geojson"),
        ("flood", "3.0-5.0m", None, "A31.geojson"),
    ]


# ---- shelters --------------------------------------------------------------------------------


async def test_real_gsi_shelter_files_import_and_reimport_updates(city, staff, sessionmaker) -> None:
    """The national data lists a school that is both 指定避難所 and 指定緊急避難場所 once per layout
    (same facility number in the 共通ID, same name): it becomes one shelter with both designations."""
    designated = (await upload(staff, "shelters", DESIGNATED.read_bytes(), municipality="茨城県笠間市")).json()
    assert (designated["total_rows"], designated["created"], designated["updated"], designated["errors"]) == (
        30,
        30,
        0,
        0,
    )
    emergency = (await upload(staff, "shelters", EMERGENCY.read_bytes())).json()
    assert (emergency["total_rows"], emergency["created"], emergency["updated"], emergency["errors"]) == (8, 0, 8, 0)

    by_kind = await rows(
        sessionmaker, city.id, "SELECT kind, count(*) AS n FROM shelter WHERE tenant_id = :t GROUP BY kind"
    )
    assert {r["kind"]: r["n"] for r in by_kind} == {"designated": 30}
    sites = {
        r["name"]: r
        for r in await rows(
            sessionmaker,
            city.id,
            """
        SELECT name, source_id, other_source_ids, hazards, address, ST_X(location) AS lon, ST_Y(location) AS lat
        FROM shelter WHERE tenant_id = :t AND designations @> ARRAY['designated', 'emergency_site']""",
        )
    }
    assert len(sites) == 8
    assert "flood" not in sites["市民体育館"]["hazards"]
    assert {"landslide", "earthquake", "large_fire", "inland_flood"} <= set(sites["市民体育館"]["hazards"])
    assert [n for n, s in sites.items() if "flood" not in s["hazards"]] == ["市民体育館"]
    assert all(not {"storm_surge", "tsunami", "volcano"} & set(s["hazards"]) for s in sites.values())
    first = sites["友部第二中学校"]  # the designated shelter's id and place, the site's id kept beside it
    assert (first["source_id"], first["other_source_ids"], first["address"]) == (
        "E0821600001111",
        ["E0821600001201"],
        "茨城県笠間市旭町510-1",
    )
    only_designated = await rows(
        sessionmaker,
        city.id,
        "SELECT name, hazards, designations FROM shelter WHERE tenant_id = :t"
        " AND NOT designations @> ARRAY['emergency_site']",
    )
    assert len(only_designated) == 22 and all(
        r["hazards"] == [] and r["designations"] == ["designated"] for r in only_designated
    )
    # 武道館 and 笠間公民館 share an address (and a facility number) with 市民体育館
    # but not the name: they stay facilities of their own.
    assert {r["name"] for r in only_designated} >= {"武道館", "笠間公民館"}
    listed = (await staff.get("/api/shelters")).json()
    assert len(listed) == 30
    gym_out = next(s for s in listed if s["name"] == "市民体育館")
    assert gym_out["kind"] == "designated" and gym_out["designations"] == ["designated", "emergency_site"]

    # The council's own state survives a re-import; the national facts are refreshed; a renamed
    # site is still found by its own 共通ID.
    with as_tenant(city.id, role="system"):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                text("UPDATE shelter SET capacity = 400, is_open = true WHERE tenant_id = :t AND name = '市民体育館'"),
                {"t": city.id},
            )
    renamed = EMERGENCY.read_bytes().decode("utf-8").replace("岩間海洋センター", "岩間B&G海洋センター").encode("utf-8")
    again = (await upload(staff, "shelters", renamed)).json()
    assert (again["created"], again["updated"], again["errors"]) == (0, 8, 0)
    assert (await upload(staff, "shelters", DESIGNATED.read_bytes())).json()["updated"] == 30
    assert (await counts(sessionmaker, city.id))["shelter"] == 30
    [gym] = await rows(
        sessionmaker,
        city.id,
        "SELECT capacity, is_open, hazards FROM shelter WHERE tenant_id = :t AND name = '市民体育館'",
    )
    assert (gym["capacity"], gym["is_open"]) == (400, True)
    assert {"landslide", "earthquake"} <= set(gym["hazards"])  # the designated file does not wipe the site's flags
    entries = await audit_entries(sessionmaker, city.id, "import.shelters")
    assert [e["details"]["created"] for e in entries] == [30, 0, 0, 0]


async def test_shelter_files_in_the_other_order_make_the_same_facilities(city, staff, sessionmaker) -> None:
    assert (await upload(staff, "shelters", EMERGENCY.read_bytes())).json()["created"] == 8
    designated = (await upload(staff, "shelters", DESIGNATED.read_bytes())).json()
    assert (designated["created"], designated["updated"]) == (22, 8)
    both = await rows(
        sessionmaker,
        city.id,
        "SELECT kind, source_id, other_source_ids, hazards, ST_Y(location) AS lat"
        " FROM shelter WHERE tenant_id = :t AND designations @> ARRAY['designated', 'emergency_site']"
        " ORDER BY source_id",
    )
    assert len(both) == 8 and (await counts(sessionmaker, city.id))["shelter"] == 30
    assert all(
        r["kind"] == "designated"
        and r["source_id"].endswith("111")
        and r["other_source_ids"][0].endswith("201")
        and r["hazards"]
        for r in both
    )
    assert both[0]["lat"] == pytest.approx(36.325894, abs=0.01)


async def test_shelter_row_outside_the_city_fails_the_whole_file(city, staff, sessionmaker) -> None:
    text_ = EMERGENCY.read_bytes().decode("utf-8")
    bad = text_.replace("36.325894,140.330523", "36.3659,140.4710")  # 友部第二中学校 moved to 水戸
    report = refused(await upload(staff, "shelters", bad.encode("utf-8")))
    [issue] = issues_with(report, "outside_area")
    assert (issue["row"], issue["column"]) == (2, "緯度")
    assert await counts(sessionmaker, city.id) == NOTHING


# ---- request handling and access -------------------------------------------------------------


async def test_only_staff_and_admins_may_import(make_city, client_factory, sessionmaker) -> None:
    tenant = await make_city(("admin", "staff", "coordinator", "commissioner", "watcher", "vc_volunteer"))
    for role in ("coordinator", "commissioner", "watcher", "vc_volunteer"):
        c = await sign_in(client_factory, tenant, role)
        for kind in ("roster", "districts", "hazard-zones", "shelters"):
            r = await upload(c, kind, GOOD)
            assert r.status_code == 403, (role, kind, r.text)
            assert r.json()["code"] == "forbidden"
    anonymous = client_factory()
    r = await upload(anonymous, "roster", GOOD)
    assert r.status_code == 401
    admin = await sign_in(client_factory, tenant, "admin")
    assert (await upload(admin, "roster", GOOD, dry_run=True)).status_code == 200
    staff = await sign_in(client_factory, tenant, "staff")
    r = await upload(staff, "roster", GOOD, csrf=False)
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert await counts(sessionmaker, tenant.id) == NOTHING


async def test_unknown_kind_missing_file_and_missing_options(city, staff, sessionmaker) -> None:
    r = await upload(staff, "people", GOOD)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    token = await staff.ensure_csrf()
    r = await staff.post("/api/imports/roster", headers={"X-CSRF-Token": token}, files={"mapping": (None, "{}")})
    assert r.status_code == 400 and r.json()["code"] == "validation_failed"
    assert r.json()["errors"][0]["field"] == "file"
    r = await staff.post("/api/imports/roster", headers={"X-CSRF-Token": token})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "file"
    r = await upload(staff, "districts", KASAMA.read_bytes())
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "level"
    r = await upload(staff, "districts", KASAMA.read_bytes(), level="city")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "level"
    assert await counts(sessionmaker, city.id) == NOTHING


async def test_a_file_over_the_body_limit_gets_413(staff, settings) -> None:
    big = (HEADER + "\n").encode() + b"x" * (settings.max_body_bytes + 10)
    r = await upload(staff, "roster", big)
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_address_prefixes_come_from_the_council_name() -> None:
    assert address_prefixes("笠間市社会福祉協議会")[-1:] == ["笠間市"]
    assert "茨城県" in address_prefixes("笠間市社会福祉協議会") and "沖縄県" in address_prefixes("x")
    assert address_prefixes("社会福祉法人 四日市市社会福祉協議会")[-1] == "四日市市"
    assert address_prefixes("社会福祉法人茨城県東茨城郡城里町社会福祉協議会")[-2:] == ["東茨城郡城里町", "城里町"]
    assert address_prefixes("テスト社協 abc") == address_prefixes("")  # prefectures only
