"""Simulated actors and the after-action report: the shipped M6.8 earthquake scenario run with
watcher and coordinator bots completes, bots record as their watcher users under the drill
disclosure rule, and every figure of the report equals a count made here from the rows."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from shapely.geometry import MultiPolygon, box
from sqlalchemy import text

from server.accounts.provision import ensure_tenant, ensure_user
from server.registry.models import District
from tests.conftest import Account, as_tenant, tenant_code
from tests.helpers.drills import add_walks, wait_for

AREAS = {  # name → (box, parent)
    "笠間地区": ((140.30, 36.36, 140.37, 36.40), None),
    "笠間小学校区": ((140.30, 36.36, 140.32, 36.40), "笠間地区"),
    "友部地区": ((140.24, 36.33, 140.30, 36.36), None),
    "岩間地区": ((140.24, 36.28, 140.30, 36.33), None),
}
# Watcher homes and their three households each (lon, lat); the first watcher's walk crosses the
# road the scenario closes at T+25:00 (140.34–140.36, 36.374–36.382).
WALKS = [
    ((140.345, 36.386), [(140.346, 36.384), (140.350, 36.372), (140.352, 36.371)]),
    ((140.335, 36.390), [(140.334, 36.391), (140.336, 36.392), (140.333, 36.389)]),
    ((140.310, 36.380), [(140.311, 36.381), (140.309, 36.382), (140.312, 36.379)]),
    ((140.270, 36.345), [(140.271, 36.346), (140.269, 36.344), (140.272, 36.347)]),
    ((140.280, 36.340), [(140.281, 36.341), (140.279, 36.342), (140.282, 36.339)]),
    ((140.270, 36.300), [(140.271, 36.301), (140.269, 36.302), (140.272, 36.299)]),
    ((140.280, 36.310), [(140.281, 36.311), (140.279, 36.309), (140.282, 36.312)]),
]
UNCONSENTED = (1, 2)  # (walk, household): no consent for watchers — hidden from its watcher in a drill


async def kasama_like_world(sessionmaker) -> tuple[uuid.UUID, dict[str, Account], dict[str, Any]]:
    tag = secrets.token_hex(3)
    async with sessionmaker() as db:
        async with db.begin():
            tenant = await ensure_tenant(db, f"訓練テスト社協 {tag}", tenant_code())
        t = tenant.id
        accounts: dict[str, Account] = {}
        with as_tenant(t, role="system"):
            async with db.begin():
                for role in ("staff", "coordinator", "commissioner"):
                    pw = secrets.token_urlsafe(10)
                    user, _ = await ensure_user(
                        db, tenant, f"b-{role}-{tag}", role, f"テスト {role}", pw, all_districts=True
                    )
                    accounts[role] = Account(t, user.id, f"b-{role}-{tag}", pw, role)
                ids = {name: uuid.uuid4() for name in AREAS}
                for name, (bounds, parent) in AREAS.items():
                    db.add(
                        District(
                            tenant_id=t,
                            id=ids[name],
                            code=f"{name}-{tag}",
                            name=name,
                            kana="テスト",
                            level="branch" if parent else "area",
                            parent_id=ids[parent] if parent else None,
                            geom=f"SRID=4326;{MultiPolygon([box(*bounds)]).wkt}",
                        )
                    )
                    await db.flush()

                def district_of(lon: float, lat: float) -> uuid.UUID:
                    for name in ("笠間小学校区", "笠間地区", "友部地区", "岩間地区"):
                        x0, y0, x1, y1 = AREAS[name][0]
                        if x0 <= lon < x1 and y0 <= lat < y1:
                            return ids[name]
                    raise AssertionError((lon, lat))

                walkers, households = await add_walks(
                    db,
                    tenant,
                    WALKS,
                    login_prefix=f"b-watcher-{tag}-",
                    address_prefix="茨城県笠間市テスト",
                    district_of=district_of,
                    hidden=(UNCONSENTED,),
                    consent_classes=("commissioner", "council", "watcher"),
                )
                accounts.update(walkers)
    return t, accounts, {"districts": ids, "households": households}


async def counts(sessionmaker, tenant: uuid.UUID, run_id: str, op_id: str) -> dict[str, Any]:
    """The report's figures, counted here straight from the rows."""
    p = {"t": tenant, "r": uuid.UUID(run_id), "op": uuid.UUID(op_id)}
    with as_tenant(tenant):
        async with sessionmaker() as db:
            q = lambda sql: db.execute(text(sql), p)  # noqa: E731
            return {
                "targets": (
                    await q("SELECT count(*) FROM operation_target WHERE tenant_id = :t AND operation_id = :op")
                ).scalar(),
                "confirmed": (
                    await q(
                        "SELECT count(*) FROM operation_target WHERE tenant_id = :t AND operation_id = :op"
                        " AND status IN ('safe', 'injured', 'rescue', 'evacuated')"
                    )
                ).scalar(),
                "by_status": dict(
                    (
                        await q(
                            "SELECT status, count(*) FROM operation_target WHERE tenant_id = :t"
                            " AND operation_id = :op GROUP BY 1"
                        )
                    ).all()
                ),
                "visits": (await q("SELECT count(*) FROM visit WHERE tenant_id = :t AND operation_id = :op")).scalar(),
                "by_outcome": dict(
                    (
                        await q(
                            "SELECT outcome, count(*) FROM visit WHERE tenant_id = :t AND operation_id = :op GROUP BY 1"
                        )
                    ).all()
                ),
                "bot_visits": (
                    await q(
                        "SELECT count(*) FROM drill_bot_step WHERE tenant_id = :t AND run_id = :r"
                        " AND kind = 'visit' AND result IN ('accepted', 'blocked')"
                    )
                ).scalar(),
                "refused": dict(
                    (
                        await q(
                            "SELECT household_id, result FROM drill_bot_step WHERE tenant_id = :t"
                            " AND run_id = :r AND result LIKE 'refused:%'"
                        )
                    ).all()
                ),
                "escalations": (
                    await q("SELECT count(*) FROM escalation WHERE tenant_id = :t AND operation_id = :op")
                ).scalar(),
                "acknowledged": (
                    await q(
                        "SELECT count(*) FROM escalation WHERE tenant_id = :t AND operation_id = :op"
                        " AND acknowledged_at IS NOT NULL"
                    )
                ).scalar(),
                "fired": (
                    await q("SELECT count(*) FROM drill_inject_fired WHERE tenant_id = :t AND run_id = :r")
                ).scalar(),
                "pending_steps": (
                    await q(
                        "SELECT count(*) FROM drill_bot_step WHERE tenant_id = :t AND run_id = :r AND done_at IS NULL"
                    )
                ).scalar(),
                "modes": set(
                    (await q("SELECT DISTINCT mode FROM visit WHERE tenant_id = :t AND operation_id = :op")).scalars()
                ),
            }


async def test_the_earthquake_scenario_with_bots_completes_and_its_report_matches_the_rows(
    app, client_factory, sessionmaker
) -> None:
    tenant, accounts, world = await kasama_like_world(sessionmaker)
    staff = client_factory()
    assert (await staff.login(accounts["staff"].login, accounts["staff"].password)).status_code == 200
    started = await staff.send_json("POST", "/api/drills/runs", {"scenario": "kasama-earthquake-m68", "speed": "60x"})
    assert started.status_code == 201, started.text
    run = started.json()
    path = f"/api/drills/runs/{run['id']}"

    async def at_least(n: int):
        body = (await staff.get(path)).json()
        return body if body["fired"] >= n else None

    await wait_for(lambda: at_least(2), "the first two injects at 60×", timeout=60)  # T+0:00 and T+12:00 (12 s)
    faster = await staff.send_json("POST", f"{path}/clock", {"action": "speed", "speed": "max"})
    assert faster.status_code == 200 and faster.json()["speed"] == "max"

    async def finished():
        body = (await staff.get(path)).json()
        return body if body["status"] == "finished" else None

    done = await wait_for(finished, "the run to finish", timeout=60)
    assert done["fired"] == done["injects"] == 6

    rows = await counts(sessionmaker, tenant, run["id"], run["operation_id"])
    report = (await staff.get(f"{path}/report")).json()
    totals = report["totals"]
    assert totals["targets"] == rows["targets"] == 21
    assert totals["confirmed"] == rows["confirmed"]
    assert totals["by_status"] == rows["by_status"]
    assert totals["visits"] == rows["visits"] and totals["visits_by_outcome"] == rows["by_outcome"]
    assert totals["visits_by_bots"] == rows["bot_visits"] > 0
    assert report["escalations"]["total"] == rows["escalations"] >= 2  # the two household-report injects at least
    assert report["escalations"]["acknowledged"] == rows["acknowledged"] == rows["escalations"]  # coordinator bots
    assert report["injects"]["fired"] == rows["fired"] == 6
    assert rows["pending_steps"] == 0 and rows["modes"] == {"drill"}
    assert sum(d["total"] for d in report["districts"]) == rows["targets"]
    assert sum(d["confirmed"] for d in report["districts"]) == rows["confirmed"]
    for d in report["districts"]:
        assert len(d["curve"]) <= d["total"] and [p[1] for p in d["curve"]] == list(range(1, len(d["curve"]) + 1))

    # Consent-bound: the unconsented household is hidden from its watcher in a drill, bot or not.
    hidden = world["households"][UNCONSENTED]
    assert rows["refused"] == {hidden: "refused:not_in_operation"}

    # Expectations: coordinator bots acknowledge after 4 minutes → ○; the rest judged from the rows.
    marks = {e["kind"]: e for e in report["expectations"]}
    ack = marks["escalations_acknowledged_within"]
    assert ack["passed"] is True and len(ack["evidence"]) == rows["escalations"]
    # 4 minutes of drill time after it was raised (at 60× a job's few ms of lateness are seconds of drill time)
    assert all(240 - 1 <= s <= 240 + 30 for s in report["escalations"]["acknowledge_s"]), report["escalations"]
    assert marks["first_report_by"]["passed"] == (totals["first_report_s"] <= 30 * 60)
    iwama = marks["district_confirmed_by"]["evidence"][0]
    assert iwama["households"] == 6 and marks["district_confirmed_by"]["passed"] == (iwama["confirmed_by"] == 6)
    assert marks["evaluator"]["passed"] is None and marks["evaluator"]["mark"] == "—"

    # The road closed at T+25:00 lies across the first watcher's later legs: those report 不明.
    with as_tenant(tenant):
        async with sessionmaker() as db:
            blocked = (
                await db.execute(
                    text(
                        "SELECT count(*) FROM drill_bot_step WHERE tenant_id = :t AND run_id = :r"
                        " AND result = 'blocked'"
                    ),
                    {"t": tenant, "r": uuid.UUID(run["id"])},
                )
            ).scalar()
    assert blocked >= 1

    csv = await staff.get(f"{path}/report.csv")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + len(report["timeline"])
