"""Bad input answers a 4xx problem document naming the field, never a 500, and writes nothing.

One test per root cause the #14 probe found (NUL, lone surrogates, deep JSON, offsets and integers
beyond their column, missing references, the untyped district PATCH, strings longer than their
column, a multipart part that is not text), plus the database-error mapping of server/core/errors.py.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from server.registry.models import Household, Shelter, Watcher
from tests.conftest import as_tenant
from tests.helpers.world import World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body = r.json()
    assert body["status"] == status and body["code"] and body["message"]["ja"] and body["message"]["en"]
    return body


def _fields(body: dict) -> dict[str, str]:
    return {e["field"]: e["code"] for e in body.get("errors", [])}


async def _count(sessionmaker, world: World, model) -> int:
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            return int(
                (
                    await db.execute(select(func.count()).select_from(model).where(model.tenant_id == world.tenant_id))
                ).scalar_one()
            )


HOUSEHOLD = {"address": "茨城県笠間市テスト町9", "lon": 140.22, "lat": 36.36, "people": [{"name": "試験 花子"}]}


# ---- NUL and unpaired surrogates ---------------------------------------------------------------


async def test_nul_in_a_json_string_is_a_field_error_and_nothing_is_written(
    world, client_factory, sessionmaker
) -> None:
    staff = await signed_in(client_factory, world, "staff")
    before = await _count(sessionmaker, world, Household)
    body = {**HOUSEHOLD, "people": [{"name": "試験\x00花子"}]}
    problem = _problem(await staff.send_json("POST", "/api/households", body), 400)
    assert problem["code"] == "validation_failed"
    assert _fields(problem) == {"people[0].name": "invalid_character"}
    assert await _count(sessionmaker, world, Household) == before


async def test_nul_in_an_anonymous_sign_in(client) -> None:
    problem = _problem(await client.login("ad\x00min", "x"), 400)
    assert _fields(problem) == {"login": "invalid_character"}


async def test_nul_in_a_json_key_is_named(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    ring = [[140.2, 36.3], [140.21, 36.3], [140.21, 36.31], [140.2, 36.3]]
    body = {"reason": "豪雨のため", "mode": "drill", "geometry": {"type": "Polygon", "coordinates": [ring], "\x00": 1}}
    problem = _problem(await staff.send_json("POST", "/api/disaster-declarations", body), 400)
    assert _fields(problem) == {"geometry.\\u0000": "invalid_character"}


async def test_an_unpaired_surrogate_is_a_field_error(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    raw = json.dumps({**HOUSEHOLD, "address": "x"}).replace('"x"', '"\\ud800x"')
    r = await staff.post(
        "/api/households",
        content=raw.encode(),
        headers={"Content-Type": "application/json", "X-CSRF-Token": await staff.ensure_csrf()},
    )
    assert _fields(_problem(r, 400)) == {"address": "invalid_character"}


async def test_an_escaped_backslash_before_u0000_is_not_a_nul(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json("POST", "/api/households", {**HOUSEHOLD, "address": "笠間\\u0000番地"})
    assert r.status_code == 201, r.text
    assert r.json()["address"] == "笠間\\u0000番地"


async def test_nul_in_a_query_parameter(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    problem = _problem(await staff.get("/api/households", params={"q": "笠\x00間"}), 400)
    assert _fields(problem) == {"q": "invalid_character"}
    problem = _problem(await staff.get("/api/audit", params={"action": "\x00"}), 400)
    assert _fields(problem) == {"action": "invalid_character"}


async def test_nul_in_the_path(client) -> None:
    problem = _problem(await client.get("/some%00where"), 400)
    assert _fields(problem) == {"path": "invalid_character"}


# ---- deep JSON ---------------------------------------------------------------------------------


async def test_ten_thousand_deep_json_is_refused(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    deep = b'{"mutations": [' + b"[" * 10_000 + b"]" * 10_000 + b"]}"
    for method, url in (("POST", "/api/sync/push"), ("PATCH", f"/api/districts/{world.districts['D1']}")):
        r = await staff.request(
            method,
            url,
            content=deep,
            headers={"Content-Type": "application/json", "X-CSRF-Token": await staff.ensure_csrf()},
        )
        assert _problem(r, 400)["code"] == "json_too_deep"


def test_depth_check_counts_brackets_not_strings() -> None:
    from server.core.input import MAX_JSON_DEPTH, json_too_deep

    assert not json_too_deep(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert json_too_deep(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert json_too_deep(b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1))
    many = json.dumps({"items": [{"note": "[[[[" * 40 + '\\"{{{' * 40} for _ in range(200)]}).encode()
    assert not json_too_deep(many)
    assert not json_too_deep(json.dumps({"s": "\\" * 9 + "[" * 50}).encode())


# ---- numbers beyond their column ---------------------------------------------------------------


async def test_offset_beyond_int64(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    for url in ("/api/households", "/api/persons", "/api/watchers", "/api/watch/links"):
        problem = _problem(await staff.get(url, params={"offset": str(10**20)}), 400)
        assert _fields(problem) == {"offset": "out_of_range"}, url


async def test_integers_beyond_their_column(world, client_factory, sessionmaker) -> None:
    staff = await signed_in(client_factory, world, "staff")
    before = await _count(sessionmaker, world, Shelter)
    body = {"kind": "designated", "name": "大きな避難所", "lon": 140.22, "lat": 36.36, "capacity": 10**10}
    assert _fields(_problem(await staff.send_json("POST", "/api/shelters", body), 400)) == {"capacity": "out_of_range"}
    assert await _count(sessionmaker, world, Shelter) == before
    problem = _problem(await staff.get("/api/audit", params={"before_id": str(2**63)}), 400)
    assert _fields(problem) == {"before_id": "out_of_range"}


# ---- references to missing rows ----------------------------------------------------------------


async def test_a_plan_naming_a_missing_shelter_is_422_naming_the_field(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json(
        "PUT", f"/api/persons/{world.persons['P1']}/plan", {"destination_shelter_id": str(uuid.uuid4())}
    )
    problem = _problem(r, 422)
    assert problem["code"] == "invalid_reference"
    assert _fields(problem) == {"destination_shelter_id": "unknown_reference"}


async def test_a_watcher_moved_to_a_missing_district_is_422(world, client_factory, sessionmaker) -> None:
    staff = await signed_in(client_factory, world, "staff")
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            wid = (await db.execute(select(Watcher.id).where(Watcher.tenant_id == world.tenant_id))).scalars().first()
    r = await staff.send_json("PATCH", f"/api/watchers/{wid}", {"district_id": str(uuid.uuid4())})
    assert _fields(_problem(r, 422)) == {"district_id": "unknown_reference"}


# ---- the district PATCH body ---------------------------------------------------------------------


async def test_district_patch_is_typed(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    url = f"/api/districts/{world.districts['D1']}"
    for body, field in (
        ({"walking_radius_m": "far"}, "walking_radius_m"),
        ({"parent_id": "not-a-uuid"}, "parent_id"),
        ({"code": 7}, "code"),
        ({"name": "x" * 201}, "name"),
        ({"walking_radius_m": 10**12}, "walking_radius_m"),
        ({"geometry": {"type": "Point", "coordinates": [140.2, 36.3]}}, "geometry.type"),
        ({"level": "unit"}, "level"),
    ):
        problem = _problem(await staff.send_json("PATCH", url, body), 400)
        assert field in _fields(problem), (body, problem)
    r = await staff.send_json("PATCH", url, {"name": "第一支部（改）", "kana": None})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "第一支部（改）" and r.json()["kana"] is None


# ---- strings longer than their column ----------------------------------------------------------


async def test_strings_longer_than_their_column(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    hid = world.households["H1"]
    problem = _problem(
        await staff.send_json("PATCH", f"/api/households/{hid}", {"version": 1, "town": "町" * 101}), 400
    )
    assert _fields(problem) == {"town": "too_long"}
    wid_body = {"name": "見守り 次郎", "lon": 140.22, "lat": 36.36, "kana": "ア" * 201}
    assert _fields(_problem(await staff.send_json("POST", "/api/watchers", wid_body), 400)) == {"kana": "too_long"}


# ---- multipart -----------------------------------------------------------------------------------


async def test_a_multipart_part_that_is_not_text_and_has_no_filename(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    boundary = "tonari-boundary"
    body = (
        (f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n').encode()
        + "氏名,住所\r\n".encode("cp932")
        + f"\r\n--{boundary}--\r\n".encode()
    )
    r = await staff.post(
        "/api/imports/roster?dry_run=true",
        content=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-CSRF-Token": await staff.ensure_csrf(),
        },
    )
    assert _fields(_problem(r, 400)) == {"file": "not_text"}


async def test_nul_in_a_multipart_text_field(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.post(
        "/api/imports/roster?dry_run=true",
        files={"file": ("roster.csv", "氏名\r\n".encode())},
        data={"consent_source": "同意書\x00"},
        headers={"X-CSRF-Token": await staff.ensure_csrf()},
    )
    assert _fields(_problem(r, 400)) == {"consent_source": "invalid_character"}


# ---- the field's writes ------------------------------------------------------------------------


async def _running_check(world: World, client_factory):
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.send_json(
        "POST",
        "/api/operations",
        {
            "kind": "safety_check",
            "mode": "drill",
            "name": "訓練",
            "district_ids": [str(world.districts["D1"])],
            "start": True,
        },
    )
    assert r.status_code == 201, r.text
    return staff, r.json()["id"]


def _visit(hid: uuid.UUID, **over: object) -> dict[str, object]:
    return {
        "client_id": str(uuid.uuid4()),
        "household_id": str(hid),
        "outcome": "evacuated",
        "device_time": datetime.now(UTC).isoformat(),
        **over,
    }


async def test_a_bad_sync_push_item_is_refused_alone_never_500(world, client_factory, sessionmaker) -> None:
    """Each item of a push is judged alone (issue #16): a NUL or a nested note makes that item
    invalid and the good one is stored; only a body nested past any sane depth is refused whole."""
    staff, op = await _running_check(world, client_factory)
    good = {"type": "visit", "operation_id": op, **_visit(world.households["H2"], outcome="safe")}
    nul = {"type": "visit", "operation_id": op, **_visit(world.households["H1"], outcome="safe", note="メモ\x00")}
    deep = {
        "type": "visit",
        "operation_id": op,
        **_visit(world.households["H1"], outcome="safe", note=json.loads("[" * 40 + "]" * 40)),
    }
    r = await staff.send_json("POST", "/api/sync/push", {"mutations": [good, nul, deep]})
    assert r.status_code == 200, r.text
    assert [(x["status"], x.get("code")) for x in r.json()["results"]] == [
        ("accepted", None),
        ("invalid", "invalid_character"),
        ("invalid", "invalid"),
    ]
    body = b'{"mutations": [' + b"[" * 5000 + b"]" * 5000 + b"]}"
    r = await staff.post(
        "/api/sync/push",
        content=body,
        headers={"Content-Type": "application/json", "X-CSRF-Token": await staff.ensure_csrf()},
    )
    assert _problem(r, 400)["code"] == "json_too_deep"
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            n = (
                await db.execute(text("SELECT count(*) FROM visit WHERE tenant_id = :t"), {"t": world.tenant_id})
            ).scalar_one()
    assert n == 1  # the good item, once


async def test_a_geojson_upload_with_an_escaped_nul_or_deep_nesting(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    ring = [[140.2, 36.3], [140.21, 36.3], [140.21, 36.31], [140.2, 36.3]]
    nul = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "区\x00域"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    headers = {"X-CSRF-Token": await staff.ensure_csrf()}
    r = await staff.post(
        "/api/imports/hazard-zones?dry_run=true",
        files={"file": ("zones.geojson", json.dumps(nul).encode())},
        data={"hazard_kind": "flood"},
        headers=headers,
    )
    assert _fields(_problem(r, 400)) == {"file:features[0].properties.name": "invalid_character"}
    deep = b'{"type": "FeatureCollection", "features": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = await staff.post(
        "/api/imports/districts?dry_run=true",
        files={"file": ("d.geojson", deep)},
        data={"level": "unit"},
        headers=headers,
    )
    assert _fields(_problem(r, 400)) == {"file": "too_deep"}


async def test_a_deep_roster_mapping_is_a_field_error(world, client_factory) -> None:
    staff = await signed_in(client_factory, world, "staff")
    r = await staff.post(
        "/api/imports/roster?dry_run=true",
        files={"file": ("roster.csv", "氏名\r\n".encode())},
        data={"mapping": "[" * 5000 + "]" * 5000},
        headers={"X-CSRF-Token": await staff.ensure_csrf()},
    )
    assert _fields(_problem(r, 400)) == {"mapping": "invalid"}


async def test_an_empty_area_is_still_named_geometry(world, client_factory) -> None:
    """The staff forms show area errors under `geometry`: a typed body keeps that name."""
    staff = await signed_in(client_factory, world, "staff")
    body = {"code": "X1", "name": "新地区", "level": "unit", "geometry": {"type": "Polygon", "coordinates": []}}
    assert _fields(_problem(await staff.send_json("POST", "/api/districts", body), 400)) == {"geometry": "invalid"}
    three = [[140.2, 36.3], [140.21, 36.3], [140.2, 36.3]]
    body["geometry"] = {"type": "Polygon", "coordinates": [three]}
    assert list(_fields(_problem(await staff.send_json("POST", "/api/districts", body), 400))) == ["geometry"]
