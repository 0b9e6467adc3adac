"""Registry CRUD through the API: validation with clear errors, versions, district assignment, audit."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from server.registry.models import Household, Person
from tests.conftest import as_tenant

KASAMA_BOX = "SRID=4326;MULTIPOLYGON(((140.16 36.26,140.38 36.26,140.38 36.45,140.16 36.45,140.16 36.26)))"


@pytest.fixture
async def staff(make_tenant, client_factory, sessionmaker):
    tenant = await make_tenant(("staff", "watcher", "coordinator"))
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                text("UPDATE tenant SET boundary = ST_GeomFromEWKT(:b) WHERE id = :t"),
                {"b": KASAMA_BOX, "t": tenant.id},
            )
    c = client_factory()
    acct = tenant.accounts["staff"]
    assert (await c.login(acct.login, acct.password)).status_code == 200
    c.tenant = tenant
    return c


def _household(**over):
    body = {
        "address": "茨城県笠間市笠間1234",
        "lon": 140.26,
        "lat": 36.38,
        "town": "笠間",
        "people": [
            {
                "name": "見本　花子",
                "kana": "みほん　はなこ",
                "birth_date": "1938-05-01",
                "sex": "female",
                "phone": "０２９６－７２－１２３４",
                "support_reasons": ["elderly_alone", "care_level_3_5"],
                "medical_devices": ["home_oxygen"],
                "mobility": "wheelchair",
                "emergency_contacts": [{"name": "見本 一郎", "phone": "090-1234-5678", "relationship": "長男"}],
            }
        ],
    }
    body.update(over)
    return body


async def test_create_read_update_delete_a_household(staff, sessionmaker) -> None:
    r = await staff.send_json("POST", "/api/households", _household())
    assert r.status_code == 201, r.text
    h = r.json()
    person = h["people"][0]
    assert person["kana"] == "ミホン\u3000ハナコ"  # hiragana and spacing normalised
    assert person["phone"] == "0296-72-1234"  # full-width folded
    assert person["name"] == "見本 花子"
    assert person["medical_devices"] == ["home_oxygen"]
    assert h["version"] == 1

    r = await staff.send_json("PATCH", f"/api/households/{h['id']}", {"version": 1, "notes": "玄関は裏手"})
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["notes"] == "玄関は裏手"
    stale = await staff.send_json("PATCH", f"/api/households/{h['id']}", {"version": 1, "notes": "上書き"})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict" and stale.json()["current_version"] == 2

    audit = (await staff.get("/api/audit", params={"object_id": h["id"]})).json()["items"]
    assert {"household.create", "household.update", "household.read"} & {a["action"] for a in audit} >= {
        "household.create",
        "household.update",
    }

    assert (await staff.send_json("DELETE", f"/api/households/{h['id']}")).status_code == 204
    assert (await staff.get(f"/api/households/{h['id']}")).status_code == 404
    with as_tenant(staff.tenant.id):
        async with sessionmaker() as db:
            assert (
                await db.execute(select(func.count()).select_from(Person).where(Person.household_id == h["id"]))
            ).scalar() == 0


IN_THREE_DAYS = (date.today() + timedelta(days=3)).isoformat()  # noqa: DTZ011 - in the future in any zone


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"lon": 139.70, "lat": 35.68}, "lon", "outside_area"),
        ({"people": [{"name": "未来 太郎", "birth_date": IN_THREE_DAYS}]}, "people[0].birth_date", "invalid"),
        ({"people": [{"name": "英字 太郎", "kana": "Taro"}]}, "people[0].kana", "invalid"),
        ({"people": [{"name": "電話 太郎", "phone": "12345"}]}, "people[0].phone", "invalid"),
        ({"people": [{"name": "事由 太郎", "support_reasons": ["made_up"]}]}, "people[0].support_reasons", "invalid"),
    ],
)
async def test_bad_input_gets_a_field_error_and_nothing_is_written(staff, sessionmaker, override, field, code) -> None:
    r = await staff.send_json("POST", "/api/households", _household(**override))
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "validation_failed"
    assert any(e["field"] == field and e["code"] == code and e["message"]["ja"] for e in body["errors"]), body
    with as_tenant(staff.tenant.id):
        async with sessionmaker() as db:
            assert (
                await db.execute(
                    select(func.count()).select_from(Household).where(Household.tenant_id == staff.tenant.id)
                )
            ).scalar() == 0


async def test_households_follow_district_changes(staff) -> None:
    h = (await staff.send_json("POST", "/api/households", _household())).json()
    assert h["district_id"] is None
    poly = {
        "type": "Polygon",
        "coordinates": [[[140.25, 36.37], [140.27, 36.37], [140.27, 36.39], [140.25, 36.39], [140.25, 36.37]]],
    }
    area = (
        await staff.send_json(
            "POST",
            "/api/districts",
            {"code": "A1", "name": "笠間地区", "kana": "かさまちく", "level": "area", "geometry": poly},
        )
    ).json()
    assert area["kana"] == "カサマチク"
    assert (await staff.get(f"/api/households/{h['id']}")).json()["district_id"] == area["id"]
    small = {
        "type": "Polygon",
        "coordinates": [
            [[140.255, 36.375], [140.265, 36.375], [140.265, 36.385], [140.255, 36.385], [140.255, 36.375]]
        ],
    }
    branch = (
        await staff.send_json(
            "POST",
            "/api/districts",
            {"code": "A1-B1", "name": "笠間小学校区", "level": "branch", "parent_id": area["id"], "geometry": small},
        )
    ).json()
    assert (await staff.get(f"/api/households/{h['id']}")).json()["district_id"] == branch["id"]  # the deepest wins
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[140.2, 36.3], [140.3, 36.4], [140.3, 36.3], [140.2, 36.4], [140.2, 36.3]]],
    }
    r = await staff.send_json(
        "POST", "/api/districts", {"code": "X", "name": "壊れた", "level": "area", "geometry": bowtie}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "invalid_geometry"
    dup = await staff.send_json(
        "POST", "/api/districts", {"code": "A1", "name": "重複", "level": "area", "geometry": poly}
    )
    assert dup.status_code == 409
    tree = (await staff.get("/api/districts")).json()
    assert {d["code"] for d in tree} == {"A1", "A1-B1"}
    fc = (await staff.get("/api/districts/geojson")).json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 2


async def test_consent_and_plan_round_trip(staff) -> None:
    h = (await staff.send_json("POST", "/api/households", _household())).json()
    pid = h["people"][0]["id"]
    r = await staff.send_json(
        "PUT",
        f"/api/persons/{pid}/consents",
        [
            {"recipient_class": "commissioner", "dataset": "roster", "consented_on": "2026-04-01", "source": "同意書"},
            {
                "recipient_class": "watcher",
                "dataset": "roster",
                "consented_on": "2026-04-01",
                "source": "同意書",
                "withdrawn_on": "2026-06-01",
            },
        ],
    )
    assert r.status_code == 200, r.text
    consents = {(c["recipient_class"], c["dataset"]): c for c in r.json()["consents"]}
    assert consents[("watcher", "roster")]["withdrawn_on"] == "2026-06-01"
    bad = await staff.send_json(
        "PUT",
        f"/api/persons/{pid}/consents",
        [{"recipient_class": "neighbours", "dataset": "roster", "consented_on": "2026-04-01", "source": "x"}],
    )
    assert bad.status_code == 400
    plan = await staff.send_json(
        "PUT",
        f"/api/persons/{pid}/plan",
        {
            "route_notes": "北側の道を通る",
            "supporters": [{"name": "支援 太郎", "consented_on": "2026-04-01"}, {"name": "未同意 次郎"}],
        },
    )
    assert plan.status_code == 200
    supporters = plan.json()["plan"]["supporters"]
    assert supporters[0]["name"] == "支援 太郎" and supporters[1] == {"name": None, "consent": "not_given"}


async def test_shelters_and_watchers(staff) -> None:
    r = await staff.send_json(
        "POST",
        "/api/shelters",
        {"kind": "designated", "name": "笠間小学校", "lon": 140.26, "lat": 36.38, "hazards": ["earthquake"]},
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = await staff.send_json(
        "PATCH", f"/api/shelters/{sid}/status", {"is_open": True, "occupancy": 12, "capacity": 200}
    )
    assert r.json()["is_open"] is True and r.json()["occupancy"] == 12
    bad = await staff.send_json(
        "POST", "/api/shelters", {"kind": "hotel", "name": "x", "lon": 140.26, "lat": 36.38, "hazards": ["meteor"]}
    )
    assert bad.status_code == 400 and {e["field"] for e in bad.json()["errors"]} == {"kind", "hazards"}
    fc = (await staff.get("/api/shelters/geojson")).json()
    assert fc["features"][0]["geometry"]["coordinates"] == [140.26, 36.38]

    w = await staff.send_json(
        "POST",
        "/api/watchers",
        {
            "name": "見守 三郎",
            "kana": "ミマモリ サブロウ",
            "lon": 140.261,
            "lat": 36.381,
            "user_id": str(staff.tenant.accounts["watcher"].user_id),
        },
    )
    assert w.status_code == 201, w.text
    assert w.json()["capacity"] == 5 and w.json()["load"] == 0
    listed = (await staff.get("/api/watchers")).json()
    assert [x["name"] for x in listed] == ["見守 三郎"]
    twice = await staff.send_json(
        "POST",
        "/api/watchers",
        {"name": "重複", "lon": 140.261, "lat": 36.381, "user_id": str(staff.tenant.accounts["watcher"].user_id)},
    )
    assert twice.status_code == 409


async def test_exports_in_utf8_bom_and_cp932_are_audited(staff) -> None:
    body = _household()
    body["people"][0]["name"] = "髙橋 はしご"  # 髙 (はしご高) is not in JIS X 0208 but is in CP932
    body["people"][0]["kana"] = "タカハシ ハシゴ"
    assert (await staff.send_json("POST", "/api/households", body)).status_code == 201
    utf8 = await staff.get("/api/exports/households.csv")
    assert utf8.status_code == 200 and utf8.content.startswith(b"\xef\xbb\xbf")
    assert "髙橋 はしご" in utf8.content.decode("utf-8-sig")
    assert utf8.headers["cache-control"] == "private, no-store"
    sjis = await staff.get("/api/exports/households.csv", params={"encoding": "cp932"})
    text = sjis.content.decode("cp932")
    header = next(csv.reader(io.StringIO(text)))
    assert header[:3] == ["世帯ID", "住所", "町字"] and "要支援事由" in header
    assert "髙橋 はしご" in text and "独居高齢" in text
    assert sjis.headers["x-encoding-replacements"] == "0"
    geo = await staff.get("/api/exports/households.geojson")
    assert geo.json()["features"][0]["geometry"]["coordinates"] == [140.26, 36.38]
    bad = await staff.get("/api/exports/households.csv", params={"encoding": "latin-1"})
    assert bad.status_code == 400
    vias = {
        a["details"].get("via")
        for a in (await staff.get("/api/audit", params={"action": "household.read"})).json()["items"]
    }
    assert {"export.csv", "export.geojson"} <= vias


async def test_today_in_japan_is_not_a_future_date(staff) -> None:
    """00:00-09:00 JST is still yesterday in UTC: a consent given (or a child born) today in
    Kasama must be accepted whatever the server's clock; a date after today everywhere is not."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    today_jst = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    h = (await staff.send_json("POST", "/api/households", _household())).json()
    pid = h["people"][0]["id"]
    r = await staff.send_json(
        "PUT",
        f"/api/persons/{pid}/consents",
        [
            {
                "recipient_class": "commissioner",
                "dataset": "roster",
                "consented_on": today_jst.isoformat(),
                "source": "同意書",
            }
        ],
    )
    assert r.status_code == 200, r.text
    newborn = _household()
    newborn["people"][0]["birth_date"] = today_jst.isoformat()
    r = await staff.send_json("POST", "/api/households", newborn)
    assert r.status_code == 201, r.text
    future = ((datetime.now(UTC) + timedelta(hours=14)).date() + timedelta(days=1)).isoformat()
    r = await staff.send_json(
        "PUT",
        f"/api/persons/{pid}/consents",
        [{"recipient_class": "commissioner", "dataset": "roster", "consented_on": future, "source": "同意書"}],
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "[0].consented_on"
    unborn = _household()
    unborn["people"][0]["birth_date"] = future
    r = await staff.send_json("POST", "/api/households", unborn)
    assert r.status_code == 400 and r.json()["errors"][0]["field"].endswith("birth_date"), r.text


async def test_plan_supporters_are_validated_and_nothing_is_half_written(staff) -> None:
    h = (await staff.send_json("POST", "/api/households", _household())).json()
    pid = h["people"][0]["id"]
    good = {
        "supporters": [
            {
                "name": "支援 太郎",
                "phone": "０９０－１２３４－５６７８",
                "relationship": "近所",
                "role": "primary",
                "consented_on": "2026-04-01",
            }
        ]
    }
    r = await staff.send_json("PUT", f"/api/persons/{pid}/plan", good)
    assert r.status_code == 200, r.text
    plan = r.json()["plan"]
    assert plan["supporters"][0]["phone"] == "090-1234-5678" and plan["supporters"][0]["role"] == "primary"
    bad = {
        "version": plan["version"],
        "supporters": [
            {"name": "　", "consented_on": "2026-04-01"},
            {"name": "支援 花子", "phone": "12", "consented_on": "2026-05-01", "withdrawn_on": "2026-04-01"},
        ],
    }
    r = await staff.send_json("PUT", f"/api/persons/{pid}/plan", bad)
    assert r.status_code == 400, r.text
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"supporters[0].name", "supporters[1].phone", "supporters[1].withdrawn_on"}
    assert all(e["message"]["ja"] for e in r.json()["errors"])
    r = await staff.send_json("PUT", f"/api/persons/{pid}/plan", {"supporters": [{"name": "x", "nickname": "y"}]})
    assert r.status_code == 400  # unknown fields are refused, not silently dropped
    after = (await staff.get(f"/api/persons/{pid}")).json()["plan"]
    assert after == plan  # nothing of the refused edits was stored
