"""Operations and visits: idempotent ingest, out-of-order arrivals, batches, authorisation,
escalation routing, drill separation. World: tests/helpers/world.py (watcher assigned to H1, H2)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from server.db.base import uuid7
from tests.conftest import as_tenant
from tests.helpers.db import fetch_rows
from tests.helpers.operations import start_operation, visit_body
from tests.helpers.world import World, new_world, signed_in


@pytest.fixture
async def world(sessionmaker) -> World:
    return await new_world(sessionmaker)


async def test_operation_targets_and_labels(world: World, client_factory) -> None:
    op = await start_operation(client_factory, world, mode="drill")
    assert op["status"] == "active" and op["targets"] == 4 and op["label"] == "【訓練】"
    assert op["first_report_minutes"] == 180 and op["completion_minutes"] == 1440
    watcher = await signed_in(client_factory, world, "watcher")
    mine = (await watcher.get(f"/api/operations/{op['id']}/my-households")).json()
    # Assigned to H1 and H2, but H2's person gave no consent and a drill never widens disclosure.
    assert [h["id"] for h in mine["households"]] == [str(world.households["H1"])]
    assert mine["households"][0]["status"] == "unreached" and mine["operation"]["label"] == "【訓練】"


async def test_same_visit_twice_is_one_record_and_a_changed_retry_is_a_conflict(
    world: World, client_factory, sessionmaker
) -> None:
    op = await start_operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    body = visit_body(world, "H1", "safe", note="玄関で確認")
    first = await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", body)
    assert first.status_code == 201, first.text
    again = await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", body)
    assert again.status_code == 200 and again.json() == first.json()
    changed = await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", dict(body, outcome="injured"))
    assert changed.status_code == 409 and changed.json()["code"] == "visit_conflict"
    rows = await fetch_rows(sessionmaker, world, "SELECT outcome FROM visit WHERE client_id = :c", c=body["client_id"])
    assert [r[0] for r in rows] == ["safe"]


async def test_parallel_retries_of_one_visit_make_exactly_one_row(world: World, client_factory, sessionmaker) -> None:
    op = await start_operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    body = visit_body(world, "H1", "safe")
    responses = await asyncio.gather(
        *[watcher.send_json("POST", f"/api/operations/{op['id']}/visits", body) for _ in range(20)]
    )
    assert sorted({r.status_code for r in responses}) in ([200, 201], [201])
    assert sum(r.status_code == 201 for r in responses) == 1
    assert len({r.json()["id"] for r in responses}) == 1
    rows = await fetch_rows(sessionmaker, world, "SELECT count(*) FROM visit WHERE client_id = :c", c=body["client_id"])
    assert rows[0][0] == 1


async def test_out_of_order_visits_do_not_regress_the_status(world: World, client_factory, sessionmaker) -> None:
    op = await start_operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    now = datetime.now(UTC)
    later = visit_body(world, "H1", "evacuated", at=now - timedelta(minutes=5), shelter_unknown=True)
    earlier = visit_body(world, "H1", "unknown", at=now - timedelta(minutes=30))
    assert (await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", later)).status_code == 201
    assert (await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", earlier)).status_code == 201
    status = await fetch_rows(
        sessionmaker,
        world,
        "SELECT status FROM operation_target WHERE operation_id = :o AND household_id = :h",
        o=op["id"],
        h=world.households["H1"],
    )
    assert status[0][0] == "evacuated"
    newest = visit_body(world, "H1", "injured", at=now)
    assert (await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", newest)).status_code == 201
    status = await fetch_rows(
        sessionmaker,
        world,
        "SELECT status FROM operation_target WHERE operation_id = :o AND household_id = :h",
        o=op["id"],
        h=world.households["H1"],
    )
    assert status[0][0] == "injured"


async def test_watchers_only_record_their_own_households_disaster_or_not(world: World, client_factory) -> None:
    """A declaration widens nothing for a watcher outside an operation of that declaration
    (PRODUCT.md §3; the declaration's own safety check: tests/registry/test_scope_and_audit_modes.py)."""
    op = await start_operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    r = await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H4", "safe"))
    assert r.status_code == 404  # not assigned and not consented: the household is not even revealed
    assert r.json()["reason"] == "not_in_operation"
    staff = await signed_in(client_factory, world, "staff")
    decl = await staff.send_json(
        "POST",
        "/api/disaster-declarations",
        {"reason": "震度6弱", "district_ids": [str(world.districts["D1"])], "confirm": True},
    )
    assert decl.status_code == 201
    for household in ("H4", "H3"):  # in the declared area or not: still not theirs, still not revealed
        r = await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", visit_body(world, household, "safe"))
        assert r.status_code == 404, r.text
        assert r.json()["reason"] == "not_in_operation"
    assert (
        await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H1", "safe"))
    ).status_code == 201
    vc = await signed_in(client_factory, world, "vc_volunteer")
    assert (
        await vc.send_json("POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H1", "safe"))
    ).status_code == 403
    await staff.send_json("POST", f"/api/disaster-declarations/{decl.json()['id']}/lift", {"reason": "解除"})


async def test_a_batch_answers_each_item_on_its_own(world: World, client_factory, sessionmaker) -> None:
    op = await start_operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    done = visit_body(world, "H1", "safe")
    assert (await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", done)).status_code == 201

    def m(v: dict) -> dict:
        return {"type": "visit", "operation_id": op["id"], **v}

    batch = [
        m(visit_body(world, "H1", "injured", at=datetime.now(UTC) + timedelta(seconds=1))),  # good
        m(done),  # duplicate
        m(dict(done, note="別の内容")),  # conflict
        m(visit_body(world, "H1", "fine-ish")),  # invalid outcome
        {"type": "visit", "operation_id": "not-a-uuid", "client_id": str(uuid7())},  # malformed
        m(visit_body(world, "H3", "safe")),  # not visible to this watcher
        m(visit_body(world, "H1", "safe", at=datetime.now(UTC) + timedelta(days=2))),  # broken clock
    ]
    r = await watcher.send_json("POST", "/api/sync/push", {"mutations": batch})
    assert r.status_code == 200, r.text
    statuses = [(x["status"], x.get("code")) for x in r.json()["results"]]
    assert statuses == [
        ("accepted", None),
        ("duplicate", None),
        ("conflict", "visit_conflict"),
        ("invalid", "invalid_outcome"),
        ("invalid", "invalid"),
        ("invalid", "not_in_operation"),
        ("invalid", "bad_device_time"),
    ]
    count = await fetch_rows(sessionmaker, world, "SELECT count(*) FROM visit WHERE operation_id = :o", o=op["id"])
    assert count[0][0] == 2
    # One catalogue: the conflict reads the same in a batch and as a single visit's 409.
    single = await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", dict(done, note="別の内容"))
    assert single.status_code == 409 and single.json()["message"] == r.json()["results"][2]["message"]
    too_many = await watcher.send_json(
        "POST", "/api/sync/push", {"mutations": [m(visit_body(world, "H1", "safe"))] * 1001}
    )
    assert too_many.status_code == 413


async def test_urgent_outcomes_escalate_to_the_commissioner_and_coordinators(world: World, client_factory) -> None:
    op = await start_operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    r = await watcher.send_json(
        "POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H1", "rescue", note="倒れた家具")
    )
    assert r.status_code == 201
    commissioner = await signed_in(client_factory, world, "commissioner")
    mine = (await commissioner.get("/api/escalations", params={"operation_id": op["id"]})).json()
    assert len(mine) == 1 and mine[0]["level"] == "urgent" and mine[0]["status"] == "open"
    coordinator = await signed_in(client_factory, world, "coordinator")
    assert len((await coordinator.get("/api/escalations", params={"operation_id": op["id"]})).json()) == 1
    ack = await commissioner.send_json("POST", f"/api/escalations/{mine[0]['id']}/acknowledge", {"note": "向かいます"})
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    done = await coordinator.send_json("POST", f"/api/escalations/{mine[0]['id']}/resolve", {"note": "救助完了"})
    assert done.json()["status"] == "resolved" and "救助完了" in done.json()["notes"]
    assert (await coordinator.send_json("POST", f"/api/escalations/{mine[0]['id']}/resolve", {})).status_code == 409
    # a watcher sees no escalation queue; a safe outcome raises none
    assert (await watcher.get("/api/escalations")).status_code == 403
    await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H2", "safe"))
    assert len((await commissioner.get("/api/escalations", params={"operation_id": op["id"]})).json()) == 1


async def test_escalations_of_one_batch_each_reach_their_own_district(
    world: World, client_factory, sessionmaker
) -> None:
    """Escalations raised together (one sync push, one flush) are routed per household: the D1
    commissioner hears of H1 but not of H3 (D2); the coordinator hears of both."""
    op = await start_operation(client_factory, world)
    staff = await signed_in(client_factory, world, "staff")
    m = lambda v: {"type": "visit", "operation_id": op["id"], **v}  # noqa: E731
    pushed = await staff.send_json(
        "POST",
        "/api/sync/push",
        {
            "mutations": [
                m(visit_body(world, "H1", "injured")),
                m(visit_body(world, "H3", "rescue")),
                m(visit_body(world, "H2", "safe")),
            ]
        },
    )
    assert pushed.status_code == 200 and pushed.json()["counts"]["accepted"] == 3
    rows = await fetch_rows(
        sessionmaker, world, "SELECT household_id, recipient_ids FROM escalation WHERE operation_id = :o", o=op["id"]
    )
    audience = {h: {str(u) for u in r} for h, r in rows}
    commissioner = str(world.accounts["commissioner"].user_id)
    coordinator = str(world.accounts["coordinator"].user_id)
    assert set(audience) == {world.households["H1"], world.households["H3"]}
    assert commissioner in audience[world.households["H1"]] and commissioner not in audience[world.households["H3"]]
    assert all(coordinator in a for a in audience.values())


async def test_drill_operations_stay_out_of_real_figures(world: World, client_factory) -> None:
    real = await start_operation(client_factory, world, mode="real")
    drill = await start_operation(client_factory, world, mode="drill")
    watcher = await signed_in(client_factory, world, "watcher")
    await watcher.send_json("POST", f"/api/operations/{drill['id']}/visits", visit_body(world, "H1", "rescue"))
    staff = await signed_in(client_factory, world, "staff")
    real_ops = (await staff.get("/api/operations", params={"mode": "real"})).json()
    assert {o["id"] for o in real_ops} == {real["id"]}
    progress = (await staff.get(f"/api/operations/{real['id']}/progress")).json()
    assert sum(d["confirmed"] for d in progress["districts"]) == 0 and progress["label"] == ""
    drill_progress = (await staff.get(f"/api/operations/{drill['id']}/progress")).json()
    assert sum(d["need_help"] for d in drill_progress["districts"]) == 1 and drill_progress["label"] == "【訓練】"
    export = (await staff.get("/api/exports/visits.csv")).content.decode("utf-8-sig")
    assert "rescue" not in export and "要救助" not in export
    drill_export = (await staff.get("/api/exports/visits.csv", params={"mode": "drill"})).content.decode("utf-8-sig")
    assert "【訓練】" in drill_export and "要救助" in drill_export


async def test_pull_returns_what_changed_for_me(world: World, client_factory) -> None:
    op = await start_operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    first = (await watcher.get("/api/sync/pull")).json()
    assert {a["household_id"] for a in first["assignments"]} == {str(world.households["H1"])}
    assert first["households"][0]["people"][0]["name"].startswith("試験")
    assert any(o["id"] == op["id"] for o in first["operations"])
    await asyncio.sleep(0.05)
    await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H1", "safe"))
    later = (await watcher.get("/api/sync/pull", params={"cursor": first["cursor"]})).json()
    assert [a["status"] for a in later["assignments"]] == ["safe"]
    assert (await watcher.get("/api/sync/pull", params={"cursor": "yesterday"})).status_code == 400


async def test_declaration_starts_a_safety_check_and_the_live_tile_shows_statuses(world: World, client_factory) -> None:
    import mapbox_vector_tile

    from tests.helpers.disclosure import tile_of
    from tests.helpers.world import HOUSEHOLD_SPOTS

    staff = await signed_in(client_factory, world, "staff")
    decl = (
        await staff.send_json(
            "POST",
            "/api/disaster-declarations",
            {"reason": "震度6強の地震", "district_ids": [str(world.districts["D1"])], "confirm": True},
        )
    ).json()
    r = await staff.send_json("POST", f"/api/disaster-declarations/{decl['id']}/safety-check", {})
    assert r.status_code == 201, r.text
    op = r.json()
    assert op["kind"] == "safety_check" and op["mode"] == "real" and op["status"] == "active" and op["targets"] == 3
    await staff.send_json("POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H1", "rescue"))
    x, y = tile_of(*HOUSEHOLD_SPOTS["H1"], 14)
    tile = await staff.get(f"/api/tiles/households/14/{x}/{y}.mvt", params={"operation_id": op["id"]})
    features = mapbox_vector_tile.decode(tile.content)["households"]["features"]
    statuses = {f["properties"]["id"]: f["properties"]["status"] for f in features}
    assert statuses[str(world.households["H1"])] == "rescue"
    assert "試験" not in tile.content.decode("latin-1")
    await staff.send_json("POST", f"/api/disaster-declarations/{decl['id']}/lift", {"reason": "解除"})


async def test_starting_a_large_operation_refreshes_the_planner_statistics(
    world: World, client_factory, sessionmaker, monkeypatch
) -> None:
    """A start that adds many targets ANALYZEs operation_target: the first flushes of visits were
    otherwise planned against a table the planner believed empty (bench/HISTORY.md). Small starts
    leave it to autovacuum (not asserted: autovacuum may run at any moment). The app's role is not
    the table's owner: it asks the owner's tonari_analyze_operation_targets(), and cannot ANALYZE
    (nor VACUUM) the table itself (decision 0002, addendum #14)."""
    from server.operations import service

    async def last_analyzed():
        rows = await fetch_rows(
            sessionmaker, world, "SELECT pg_stat_get_last_analyze_time('operation_target'::regclass)"
        )
        return rows[0][0]

    before = await last_analyzed()
    monkeypatch.setattr(service, "ANALYZE_MIN_TARGETS", 1)
    # The shared test database holds every earlier test's targets: 4 new ones may be under 10 %
    # of what the planner knows (it failed that way once, after autovacuum had counted them).
    monkeypatch.setattr(service, "ANALYZE_MIN_SHARE", 0.0)
    await start_operation(client_factory, world)
    after = await last_analyzed()
    assert after is not None and (before is None or after > before)
    # Directly, the app's role is only told "skipping" (a warning, and no statistics).
    async with sessionmaker() as db:
        await db.execute(text("ANALYZE operation_target"))
    assert await last_analyzed() == after


async def test_a_visit_keeps_its_reported_position_and_a_retry_matches_it(
    world: World, client_factory, sessionmaker
) -> None:
    op = await start_operation(client_factory, world)
    staff = await signed_in(client_factory, world, "staff")
    url = f"/api/operations/{op['id']}/visits"
    with_gps = visit_body(world, "H1", "safe", note="玄関先で確認", lon=140.2601234, lat=36.3851234)
    without = visit_body(world, "H2", "unknown")
    assert (await staff.send_json("POST", url, with_gps)).status_code == 201
    assert (await staff.send_json("POST", url, without)).status_code == 201
    assert (await staff.send_json("POST", url, with_gps)).status_code == 200  # the same content again
    moved = dict(with_gps, lon=140.27)
    assert (await staff.send_json("POST", url, moved)).status_code == 409  # same id, another position
    rows = await fetch_rows(
        sessionmaker,
        world,
        "SELECT client_id::text, note, ST_X(location), ST_Y(location), ST_SRID(location)"
        " FROM visit WHERE client_id = ANY(CAST(:c AS uuid[])) ORDER BY note NULLS LAST",
        c=[with_gps["client_id"], without["client_id"]],
    )
    assert rows[0][0] == with_gps["client_id"] and rows[0][1] == "玄関先で確認"
    assert abs(rows[0][2] - 140.2601234) < 1e-9 and abs(rows[0][3] - 36.3851234) < 1e-9 and rows[0][4] == 4326
    assert rows[1][0] == without["client_id"] and rows[1][2] is None


async def test_an_operation_names_only_this_tenants_districts_and_coordinators(
    world: World, client_factory, sessionmaker
) -> None:
    other = await new_world(sessionmaker)
    staff = await signed_in(client_factory, world, "staff")
    body = {
        "kind": "safety_check",
        "mode": "real",
        "name": "地震後の安否確認",
        "start": True,
        "district_ids": [str(world.districts["D1"]), str(other.districts["D1"])],
        "coordinator_ids": [
            str(world.accounts["coordinator"].user_id),
            str(other.accounts["coordinator"].user_id),
            str(world.accounts["watcher"].user_id),
            str(world.accounts["vc_volunteer"].user_id),
            str(uuid7()),
        ],
    }
    r = await staff.send_json("POST", "/api/operations", body)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "invalid_reference"
    assert {(e["field"], e["code"]) for e in r.json()["errors"]} == {
        ("district_ids[1]", "unknown_reference"),  # another council's district
        ("coordinator_ids[1]", "unknown_reference"),  # another council's coordinator
        ("coordinator_ids[2]", "role_not_allowed"),  # a watcher cannot coordinate
        ("coordinator_ids[3]", "role_not_allowed"),
        ("coordinator_ids[4]", "unknown_reference"),
    }
    assert all(e["message"]["ja"] and e["message"]["en"] for e in r.json()["errors"])
    assert await fetch_rows(sessionmaker, world, "SELECT id FROM operation") == []  # nothing half-written

    ok = await staff.send_json(
        "POST",
        "/api/operations",
        {
            **body,
            "district_ids": [str(world.districts["D1"])],
            "coordinator_ids": [str(world.accounts["coordinator"].user_id), str(world.accounts["staff"].user_id)],
        },
    )
    assert ok.status_code == 201, ok.text


async def test_a_household_with_operation_records_is_not_deleted(world: World, client_factory, sessionmaker) -> None:
    op = await start_operation(client_factory, world, districts=("D1",))  # H1, H2, H4
    watcher = await signed_in(client_factory, world, "watcher")
    assert (
        await watcher.send_json("POST", f"/api/operations/{op['id']}/visits", visit_body(world, "H1", "safe"))
    ).status_code == 201
    staff = await signed_in(client_factory, world, "staff")

    r = await staff.send_json("DELETE", f"/api/households/{world.households['H1']}")
    assert r.status_code == 409 and r.json()["code"] == "household_has_records", r.text
    assert r.json()["dependents"] == {"visits": 1, "operation_targets": 1}
    assert "1件" in r.json()["message"]["ja"] and "1 visit" in r.json()["message"]["en"]
    r = await staff.send_json("DELETE", f"/api/households/{world.households['H2']}")  # a target, not yet visited
    assert r.status_code == 409 and r.json()["dependents"] == {"visits": 0, "operation_targets": 1}
    assert (await staff.get(f"/api/households/{world.households['H1']}")).status_code == 200
    assert (
        len(
            await fetch_rows(
                sessionmaker, world, "SELECT id FROM visit WHERE household_id = :h", h=world.households["H1"]
            )
        )
        == 1
    )

    assert (
        await staff.send_json("DELETE", f"/api/households/{world.households['H3']}")
    ).status_code == 204  # in no operation
    assert (await staff.send_json("DELETE", f"/api/households/{world.households['H3']}")).status_code == 404


async def _shelter(sessionmaker, world: World) -> uuid.UUID:
    from server.registry.models import Shelter

    sid = uuid.uuid4()
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db, db.begin():
            db.add(
                Shelter(
                    tenant_id=world.tenant_id,
                    id=sid,
                    kind="designated",
                    name="笠間小学校",
                    location="SRID=4326;POINT(140.215 36.362)",
                )
            )
    return sid


async def test_evacuated_names_a_shelter_or_says_it_is_unknown_on_every_path(
    world: World, client_factory, sessionmaker
) -> None:
    other = await new_world(sessionmaker)
    mine, theirs = await _shelter(sessionmaker, world), await _shelter(sessionmaker, other)
    op = await start_operation(client_factory, world)
    watcher = await signed_in(client_factory, world, "watcher")
    url = f"/api/operations/{op['id']}/visits"

    refused = {
        "shelter_required": visit_body(world, "H1", "evacuated"),
        "unknown_shelter": visit_body(world, "H1", "evacuated", shelter_id=str(theirs)),  # another council's
        "shelter_ambiguous": visit_body(world, "H1", "evacuated", shelter_id=str(mine), shelter_unknown=True),
    }
    for code, body in refused.items():
        r = await watcher.send_json("POST", url, body)
        assert r.status_code == 400 and r.json()["reason"] == code, r.text
        assert r.json()["message"]["ja"] and r.json()["message"]["en"]
    r = await watcher.send_json("POST", url, visit_body(world, "H1", "safe", shelter_unknown=True))
    assert r.status_code == 400 and r.json()["reason"] == "shelter_ambiguous"

    unknown = visit_body(world, "H1", "evacuated", shelter_unknown=True)
    r = await watcher.send_json("POST", url, unknown)
    assert r.status_code == 201 and r.json()["shelter_unknown"] is True and r.json()["shelter_id"] is None
    assert (await watcher.send_json("POST", url, unknown)).status_code == 200  # a retry: the same record
    changed = dict(unknown, shelter_unknown=False, shelter_id=str(mine))
    assert (await watcher.send_json("POST", url, changed)).status_code == 409  # same id, other content
    r = await watcher.send_json("POST", url, visit_body(world, "H1", "evacuated", shelter_id=str(mine)))
    assert r.status_code == 201 and r.json()["shelter_id"] == str(mine) and r.json()["shelter_unknown"] is False

    # The sync push answers per item, with the same codes; the valid items of the batch are stored.
    def item(body: dict) -> dict:
        return {"type": "visit", "operation_id": op["id"], **body}

    batch = [
        item(visit_body(world, "H1", "evacuated")),
        item(visit_body(world, "H1", "evacuated", shelter_id=str(theirs))),
        item(visit_body(world, "H1", "evacuated", shelter_unknown=True)),
        item(visit_body(world, "H1", "evacuated", shelter_id=str(mine))),
    ]
    results = (await watcher.send_json("POST", "/api/sync/push", {"mutations": batch})).json()["results"]
    assert [(x["status"], x.get("code")) for x in results] == [
        ("invalid", "shelter_required"),
        ("invalid", "unknown_shelter"),
        ("accepted", None),
        ("accepted", None),
    ]

    stored = await fetch_rows(
        sessionmaker, world, "SELECT outcome, shelter_id, shelter_unknown FROM visit WHERE outcome = 'evacuated'"
    )
    assert len(stored) == 4 and all(r.shelter_id == mine or r.shelter_unknown for r in stored)
    mine_listed = (await watcher.get("/api/field/visits", params={"household_id": str(world.households["H1"])})).json()
    assert {(v["shelter_id"], v["shelter_unknown"]) for v in mine_listed if v["outcome"] == "evacuated"} == {
        (None, True),
        (str(mine), False),
    }

    # The database holds every new visit to it too, whoever writes it.
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError, match="ck_visit_evacuated_destination"):  # noqa: PT012, SIM117 - one insert
        with as_tenant(world.tenant_id, role="system"):
            async with sessionmaker() as db, db.begin():
                await db.execute(
                    text(
                        "INSERT INTO visit (tenant_id, id, client_id, operation_id, household_id, user_id, mode, outcome,"
                        " device_time, content_hash) VALUES (:t, :id, :c, :o, :h, :u, 'real', 'evacuated', now(), 'x')"
                    ),
                    {
                        "t": world.tenant_id,
                        "id": uuid7(),
                        "c": uuid7(),
                        "o": op["id"],
                        "h": world.households["H4"],
                        "u": world.accounts["staff"].user_id,
                    },
                )
