"""The 災害VC rules (#18): two desks lending the last pressure washer, drill isolation, bad input
refused with nothing stored, roles and disclosure (the VC desk sees no registry, a volunteer sees
only their own team's dispatch), the public pre-registration page."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from server.db.base import uuid7
from tests.helpers.vc_world import VcWorld, client_for, need_body, new_vc_world, open_centre, rows, volunteer_body


@pytest.fixture
async def world(sessionmaker) -> VcWorld:
    return await new_vc_world(sessionmaker)


async def _ready_team(desk: Any, op: str, world: VcWorld, name: str, n: int = 3, **member: Any) -> dict:
    """n volunteers checked in today, formed into a team."""
    ids = []
    for i in range(n):
        r = await desk.send_json(
            "POST",
            f"/api/vc/centres/{op}/volunteers",
            volunteer_body(i, prefecture=world.code[:2], **(member if i == 0 else {})),
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = await desk.send_json(
        "POST", f"/api/vc/centres/{op}/teams", {"name": name, "leader_id": ids[0], "member_ids": ids}
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _waiting_need(desk: Any, op: str, i: int) -> dict:
    r = await desk.send_json("POST", f"/api/vc/centres/{op}/needs", need_body(i))
    assert r.status_code == 201, r.text
    r = await desk.send_json("POST", f"/api/vc/needs/{r.json()['id']}/state", {"state": "waiting"})
    return r.json()


async def test_two_desks_lending_the_last_pressure_washer_at_once(world: VcWorld, client_factory, sessionmaker) -> None:
    op = await open_centre(client_factory, world, stock={"pressure_washer": 1, "shovel": 10})
    desk1 = await client_for(client_factory, world, "vc_desk")
    desk2 = await client_for(client_factory, world, "staff")
    teams = [await _ready_team(desk1, op, world, f"{i}班") for i in (1, 2)]
    needs = [await _waiting_need(desk1, op, i) for i in (1, 2)]
    bodies = [
        {
            "team_id": t["id"],
            "need_id": n["id"],
            "equipment": [{"code": "shovel", "quantity": 2}, {"code": "pressure_washer", "quantity": 1}],
        }
        for t, n in zip(teams, needs, strict=True)
    ]
    answers = await asyncio.gather(
        *[
            d.send_json("POST", f"/api/vc/centres/{op}/dispatches", b)
            for d, b in zip((desk1, desk2), bodies, strict=True)
        ]
    )
    assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409).json()
    assert refused["code"] == "vc_out_of_stock" and refused["code_out_of_stock"] == "pressure_washer"
    # Exactly one dispatch and one loan; the refused desk's shovels went back with its rollback.
    [[dispatches, loans, washer, shovels]] = await rows(
        sessionmaker,
        world,
        """
        SELECT (SELECT count(*) FROM vc_dispatch WHERE operation_id = :o),
               (SELECT count(*) FROM vc_equipment_move m JOIN vc_equipment e ON e.id = m.equipment_id
                 WHERE e.operation_id = :o AND m.kind = 'loan' AND e.code = 'pressure_washer'),
               (SELECT stock FROM vc_equipment WHERE operation_id = :o AND code = 'pressure_washer'),
               (SELECT stock FROM vc_equipment WHERE operation_id = :o AND code = 'shovel')""",
        o=op,
    )
    assert (dispatches, loans, washer, shovels) == (1, 1, 0, 8)
    states = {r[0] for r in await rows(sessionmaker, world, "SELECT state FROM vc_need WHERE operation_id = :o", o=op)}
    assert states == {"active", "waiting"}


async def test_the_database_refuses_negative_stock_whatever_the_caller(
    world: VcWorld, client_factory, sessionmaker
) -> None:
    op = await open_centre(client_factory, world, stock={"shovel": 1})
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        await rows(
            sessionmaker,
            world,
            "UPDATE vc_equipment SET stock = stock - 2 WHERE operation_id = :o RETURNING stock",
            o=op,
        )


async def test_a_drill_centre_never_appears_in_real_figures_boards_or_exports(
    world: VcWorld, client_factory, sessionmaker
) -> None:
    real = await open_centre(client_factory, world, "real")
    drill = await open_centre(client_factory, world, "drill", stock={"shovel": 5})
    desk = await client_for(client_factory, world, "vc_desk")
    await _waiting_need(desk, real, 0)
    for i in range(1, 4):
        await _waiting_need(desk, drill, i)
    team = await _ready_team(desk, drill, world, "訓練1班", n=4)
    need = (await desk.get(f"/api/vc/centres/{drill}/needs")).json()[0]
    r = await desk.send_json(
        "POST", f"/api/vc/centres/{drill}/dispatches", {"team_id": team["id"], "need_id": need["id"]}
    )
    assert r.status_code == 201 and r.json()["label"] == "【訓練】"

    board = (await desk.get(f"/api/vc/centres/{real}/needs")).json()
    assert len(board) == 1 and board[0]["label"] == ""
    real_day = (await desk.get(f"/api/vc/centres/{real}/statistics")).json()
    assert real_day["label"] == "" and [
        (d["needs_received"], d["volunteers"], d["activities"]) for d in real_day["days"]
    ] == [(1, 0, 0)]
    drill_day = (await desk.get(f"/api/vc/centres/{drill}/statistics")).json()
    assert drill_day["label"] == "【訓練】"
    assert [(d["needs_received"], d["volunteers"], d["activities"]) for d in drill_day["days"]] == [(3, 4, 1)]
    real_csv = (await desk.get(f"/api/vc/centres/{real}/statistics.csv")).content.decode("utf-8-sig")
    drill_csv = (await desk.get(f"/api/vc/centres/{drill}/statistics.csv")).content.decode("utf-8-sig")
    assert "【訓練】" not in real_csv and real_csv.splitlines()[1].endswith('"0","0","1","0","1"')
    assert drill_csv.splitlines()[0] == '"【訓練】"' and drill_csv.splitlines()[2].endswith('"4","4","3","0","3"')
    # Matching of the real centre never offers a drill need, and every drill event says so.
    assert all(
        s["need_id"] == board[0]["id"]
        for t in (await desk.get(f"/api/vc/centres/{real}/matching")).json()
        for s in t["suggestions"]
    )
    events = await rows(
        sessionmaker, world, "SELECT mode, payload->>'label' FROM event WHERE operation_id = :o", o=drill
    )
    assert events and {tuple(e) for e in events} == {("drill", "【訓練】")}
    # The drill's audit rows are marked drill.
    modes = {
        r[0] for r in await rows(sessionmaker, world, "SELECT mode FROM audit_log WHERE operation_id = :o", o=drill)
    }
    assert modes == {"drill"}


async def test_bad_input_is_a_clear_4xx_and_nothing_is_stored(world: VcWorld, client_factory, sessionmaker) -> None:
    op = await open_centre(client_factory, world, stock={"shovel": 3})
    desk = await client_for(client_factory, world, "vc_desk")
    base = f"/api/vc/centres/{op}"

    async def count(table: str) -> int:
        return (await rows(sessionmaker, world, f"SELECT count(*) FROM {table}"))[0][0]

    # A need outside the council's area.
    r = await desk.send_json("POST", f"{base}/needs", need_body(0, lon=139.70, lat=35.68))
    assert r.status_code == 422 and r.json()["code"] == "vc_outside_area" and await count("vc_need") == 0
    # No pin and a town not in the list.
    r = await desk.send_json("POST", f"{base}/needs", need_body(0, lon=None, lat=None, town="どこにもない町"))
    assert r.status_code == 422 and r.json()["code"] == "vc_town_unknown" and await count("vc_need") == 0
    # Impossible dates: a need received tomorrow, a volunteer born in the future, a check-in before opening.
    tomorrow = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    r = await desk.send_json("POST", f"{base}/needs", need_body(0, received_on=tomorrow))
    assert r.status_code == 400 and r.json()["code"] == "vc_bad_date" and await count("vc_need") == 0
    r = await desk.send_json("POST", f"{base}/volunteers", volunteer_body(0, prefecture="08", birth_date=tomorrow))
    assert r.status_code == 400 and r.json()["code"] == "vc_bad_date" and await count("vc_volunteer") == 0
    r = await desk.send_json("POST", f"{base}/volunteers", volunteer_body(0, prefecture="08", vc_day="2020-01-01"))
    assert r.status_code == 400 and r.json()["code"] == "vc_bad_date" and await count("vc_volunteer") == 0
    # Unknown vocabulary codes.
    r = await desk.send_json("POST", f"{base}/needs", need_body(0, work_types=["juggling"]))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "work_types" and await count("vc_need") == 0

    # A team bigger than the people checked in; a member not checked in.
    a = (await desk.send_json("POST", f"{base}/volunteers", volunteer_body(1, prefecture="08"))).json()
    b = (await desk.send_json("POST", f"{base}/volunteers", volunteer_body(2, prefecture="08"))).json()
    c = (await desk.send_json("POST", f"{base}/volunteers", volunteer_body(3, prefecture="08", check_in=False))).json()
    r = await desk.send_json(
        "POST",
        f"{base}/teams",
        {"name": "1班", "leader_id": a["id"], "member_ids": [a["id"], b["id"]], "people": 5},
    )
    assert r.status_code == 422 and r.json()["code"] == "vc_team_too_big" and await count("vc_team") == 0
    r = await desk.send_json(
        "POST", f"{base}/teams", {"name": "1班", "leader_id": a["id"], "member_ids": [a["id"], c["id"]]}
    )
    assert r.status_code == 422 and r.json()["code"] == "vc_not_checked_in" and await count("vc_team") == 0

    # A dispatch without insurance.
    u = (
        await desk.send_json("POST", f"{base}/volunteers", volunteer_body(4, prefecture="08", insurance="none"))
    ).json()
    team = (
        await desk.send_json(
            "POST",
            f"{base}/teams",
            {"name": "2班", "leader_id": a["id"], "member_ids": [a["id"], b["id"], u["id"]]},
        )
    ).json()
    need = await _waiting_need(desk, op, 1)
    r = await desk.send_json(
        "POST",
        f"{base}/dispatches",
        {"team_id": team["id"], "need_id": need["id"], "equipment": [{"code": "shovel", "quantity": 2}]},
    )
    assert r.status_code == 422 and r.json()["code"] == "vc_not_insured"
    assert await count("vc_dispatch") == 0 and await count("vc_equipment_move WHERE kind = 'loan'") == 0
    assert (await desk.get(f"/api/vc/needs/{need['id']}")).json()["state"] == "waiting"

    # A return of more than was lent (and of something never lent).
    await desk.send_json(
        "POST",
        f"/api/vc/volunteers/{u['id']}/insurance",
        {"insurance": "enrolled_here", "insurance_receipt": "R-9"},
    )
    d = (
        await desk.send_json(
            "POST",
            f"{base}/dispatches",
            {"team_id": team["id"], "need_id": need["id"], "equipment": [{"code": "shovel", "quantity": 2}]},
        )
    ).json()
    r = await desk.send_json(
        "POST",
        f"/api/vc/dispatches/{d['id']}/returns",
        {"items": [{"code": "shovel", "returned": 2, "lost": 1}]},
    )
    assert r.status_code == 422 and r.json()["code"] == "vc_return_exceeds_loan"
    r = await desk.send_json(
        "POST", f"/api/vc/dispatches/{d['id']}/returns", {"items": [{"code": "wheelbarrow", "returned": 1}]}
    )
    assert r.status_code == 422 and r.json()["code"] == "vc_return_exceeds_loan"
    # A line of zeros for something never lent changes nothing (and is no error).
    r = await desk.send_json(
        "POST", f"/api/vc/dispatches/{d['id']}/returns", {"items": [{"code": "wheelbarrow", "returned": 0}]}
    )
    assert r.status_code == 200 and r.json()["equipment"] == {"shovel": 2}
    assert await count("vc_equipment_move WHERE kind IN ('return', 'loss')") == 0
    # A report whose device clock is a day ahead; then two lent, one back and one lost.
    body = {
        "client_id": str(uuid7()),
        "outcome": "done",
        "people": 3,
        "hours": 2,
        "device_time": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    r = await desk.send_json("POST", f"/api/vc/dispatches/{d['id']}/report", body)
    assert r.status_code == 400 and r.json()["code"] == "vc_bad_date" and await count("vc_report") == 0
    r = await desk.send_json(
        "POST",
        f"/api/vc/dispatches/{d['id']}/returns",
        {"items": [{"code": "shovel", "returned": 1, "lost": 1}]},
    )
    assert r.status_code == 200 and r.json()["equipment"] == {}
    ledger = (await desk.get(f"{base}/equipment")).json()
    assert ledger == [{"code": "shovel", "stock": 2, "out": 0, "lost": 1}]
    # The generic operations API does not open VCs.
    staff = await client_for(client_factory, world, "staff")
    r = await staff.send_json(
        "POST",
        "/api/operations",
        {"kind": "vc", "mode": "real", "name": "x", "district_ids": [str(world.district_id)]},
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "kind"


async def test_under_16_only_with_their_guardian_in_the_team(world: VcWorld, client_factory) -> None:
    op = await open_centre(client_factory, world)
    desk = await client_for(client_factory, world, "vc_desk")
    base = f"/api/vc/centres/{op}"
    home = world.code[:2]
    parent = (await desk.send_json("POST", f"{base}/volunteers", volunteer_body(1, prefecture=home))).json()
    other = (await desk.send_json("POST", f"{base}/volunteers", volunteer_body(2, prefecture=home))).json()
    child_body = volunteer_body(
        3,
        prefecture=home,
        age_band="under_16",
        birth_date=(datetime.now(UTC).date() - timedelta(days=15 * 366)).isoformat(),
        guardian_consent_by="親 一郎",
        guardian_id=parent["id"],
    )
    child = (await desk.send_json("POST", f"{base}/volunteers", child_body)).json()
    r = await desk.send_json(
        "POST", f"{base}/teams", {"name": "1班", "leader_id": other["id"], "member_ids": [child["id"]]}
    )
    assert r.status_code == 422 and r.json()["code"] == "vc_minor_needs_guardian_in_team"
    r = await desk.send_json(
        "POST", f"{base}/teams", {"name": "1班", "leader_id": parent["id"], "member_ids": [child["id"]]}
    )
    assert r.status_code == 201, r.text
    # Nobody is in two teams on one day.
    r = await desk.send_json(
        "POST", f"{base}/teams", {"name": "2班", "leader_id": other["id"], "member_ids": [parent["id"]]}
    )
    assert r.status_code == 409 and r.json()["code"] == "vc_already_in_team"


async def test_roles_the_desk_sees_no_registry_and_a_volunteer_only_their_team(
    world: VcWorld, client_factory, sessionmaker
) -> None:
    op = await open_centre(client_factory, world, stock={"shovel": 10})
    desk = await client_for(client_factory, world, "vc_desk")
    staff = await client_for(client_factory, world, "staff")
    base = f"/api/vc/centres/{op}"
    for role in ("commissioner", "watcher", "vc_volunteer"):
        c = await client_for(client_factory, world, role)
        assert (await c.get(f"{base}/needs")).status_code == 403, role
        assert (await c.send_json("POST", f"{base}/needs", need_body(0))).status_code == 403, role
    # The VC desk (応援職員) works the desk but may not open centres nor read the registry.
    assert (
        await desk.send_json("POST", "/api/vc/centres", {"mode": "real", "name": "x", "lon": 140.25, "lat": 36.37})
    ).status_code == 403
    assert (await desk.get("/api/households")).status_code == 403
    r = await desk.send_json("POST", f"{base}/needs", need_body(0, household_id=str(world.household_id)))
    assert r.status_code == 422 and r.json()["code"] == "vc_household_not_visible"
    r = await staff.send_json("POST", f"{base}/needs", need_body(0, household_id=str(world.household_id)))
    assert r.status_code == 201 and r.json()["household_id"] == str(world.household_id)
    linked = r.json()["id"]
    # The link alone says the requester is on the registry: the desk never reads it back, staff do.
    for path in (f"{base}/needs", f"/api/vc/needs/{linked}"):
        for who, expected in ((desk, None), (staff, str(world.household_id))):
            body = (await who.get(path)).json()
            [need] = [n for n in body if n["id"] == linked] if isinstance(body, list) else [body]
            assert need["household_id"] == expected, (path, expected)
    r = await desk.send_json("POST", f"/api/vc/needs/{linked}/state", {"state": "waiting"})
    assert r.status_code == 200 and r.json()["household_id"] is None

    # Two teams, each led by a volunteer with a login; each phone sees its own team only.
    home = world.code[:2]
    mine = await _ready_team(desk, op, world, "1班", user_id=str(world.accounts["vc_volunteer"].user_id))
    r = await desk.send_json(
        "POST",
        f"{base}/volunteers",
        volunteer_body(9, prefecture=home, user_id=str(world.accounts["vc_volunteer2"].user_id)),
    )
    theirs = (
        await desk.send_json(
            "POST",
            f"{base}/teams",
            {"name": "2班", "leader_id": r.json()["id"], "member_ids": [r.json()["id"]]},
        )
    ).json()
    n1, n2 = await _waiting_need(desk, op, 1), await _waiting_need(desk, op, 2)
    d1 = (await desk.send_json("POST", f"{base}/dispatches", {"team_id": mine["id"], "need_id": n1["id"]})).json()
    d2 = (await desk.send_json("POST", f"{base}/dispatches", {"team_id": theirs["id"], "need_id": n2["id"]})).json()
    phone = await client_for(client_factory, world, "vc_volunteer")
    me = (await phone.get("/api/vc/me")).json()
    assert me["team"]["id"] == mine["id"] and me["dispatch"]["id"] == d1["id"]
    assert (
        me["need"]["id"] == n1["id"] and me["need"]["address"] == n1["address"] and me["need"]["phone"] == n1["phone"]
    )
    assert (await phone.get(f"/api/vc/needs/{n2['id']}")).status_code == 403
    # Nor may they report for the other team.
    report = {
        "client_id": str(uuid7()),
        "outcome": "done",
        "people": 1,
        "hours": 1,
        "device_time": datetime.now(UTC).isoformat(),
    }
    r = await phone.send_json("POST", f"/api/vc/dispatches/{d2['id']}/report", report)
    assert r.status_code == 403 and await rows(sessionmaker, world, "SELECT 1 FROM vc_report") == []
    # A login with no volunteer record sees nothing.
    nobody = client_factory()
    await nobody.login(world.accounts["admin"].login, world.accounts["admin"].password)
    assert (await nobody.get("/api/vc/me")).status_code == 403
    audited = await rows(
        sessionmaker,
        world,
        "SELECT count(*) FROM audit_log WHERE operation_id = :o"
        " AND action = 'vc.need.read' AND details->>'via' = 'volunteer'",
        o=op,
    )
    assert audited[0][0] == 1


async def test_public_pre_registration_needs_consent_and_gives_an_opaque_qr(
    world: VcWorld, client_factory, sessionmaker
) -> None:
    op = await open_centre(client_factory, world)
    public = client_factory()
    url = f"/api/public/vc/{world.code}/{op}"
    notice = await public.get(f"{url}/privacy-notice")
    assert notice.status_code == 200 and notice.json()["ja"] and notice.json()["en"]
    body = {**volunteer_body(1, prefecture="08"), "privacy_notice": notice.json()["version"]}
    r = await public.send_json("POST", f"{url}/registrations", {**body, "privacy_consent": False})
    assert r.status_code == 400 and r.json()["code"] == "vc_privacy_consent_required"
    r = await public.send_json(
        "POST", f"{url}/registrations", {**body, "privacy_consent": True, "age_band": "age_16_17"}
    )
    assert r.status_code == 422 and r.json()["code"] == "vc_minor_needs_consent"
    assert await rows(sessionmaker, world, "SELECT 1 FROM vc_volunteer") == []
    r = await public.send_json("POST", f"{url}/registrations", {**body, "privacy_consent": True})
    assert r.status_code == 201
    token = r.json()["token"]
    [[stored_hash, consented, via]] = await rows(
        sessionmaker, world, "SELECT token_hash, privacy_consented_at, registered_via FROM vc_volunteer"
    )
    assert stored_hash != token and token not in stored_hash and consented is not None and via == "preregistration"
    # A forged or altered token is refused without a lookup; a token of another centre too.
    desk = await client_for(client_factory, world, "vc_desk")
    for bad in (
        token[:-2] + "xx",
        "nonsense",
        token.split(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAA",
        "トークン.ア",
    ):
        r = await desk.send_json("POST", f"/api/vc/centres/{op}/checkins", {"token": bad})
        assert r.status_code == 404 and r.json()["code"] == "vc_token_invalid"
    other = await open_centre(client_factory, world)
    r = await desk.send_json("POST", f"/api/vc/centres/{other}/checkins", {"token": token})
    assert r.status_code == 404 and r.json()["code"] == "vc_token_invalid"
    assert (await desk.send_json("POST", f"/api/vc/centres/{op}/checkins", {"token": token})).status_code == 200
    # An unknown council or centre is a 404, not a hint.
    assert (await public.get(f"/api/public/vc/99999/{op}/privacy-notice")).status_code == 404


async def test_public_pre_registration_is_rate_limited(world: VcWorld, client_factory) -> None:
    from server.vc.reception import PUBLIC_LIMIT

    op = await open_centre(client_factory, world)
    public = client_factory()
    url = f"/api/public/vc/{world.code}/{op}/registrations"
    body = {**volunteer_body(1, prefecture="08"), "privacy_consent": True, "privacy_notice": "2026-12"}
    statuses = [(await public.send_json("POST", url, body)).status_code for _ in range(PUBLIC_LIMIT.limit + 1)]
    assert statuses == [201] * PUBLIC_LIMIT.limit + [429]
    assert (await client_factory().send_json("POST", url, body)).status_code == 201  # another client is not held back


async def committed(sessionmaker, sql: str, **params: Any) -> None:
    """A write another app server made: committed, outside any tenant (vc_public_hit is not tenant-owned)."""
    from sqlalchemy import text

    async with sessionmaker() as db, db.begin():
        await db.execute(text(sql), params)


async def test_the_public_rate_limit_is_shared_by_every_app_server(
    world: VcWorld, client_factory, sessionmaker
) -> None:
    """The budget lives in PostgreSQL (vc_public_hit): attempts another app server counted hold
    this one back too (a per-process counter let two workers allow twice as many); attempts older
    than the window neither count nor stay; concurrent attempts of one client are counted exactly."""
    import hashlib

    from server.vc.reception import PUBLIC_LIMIT

    op = await open_centre(client_factory, world)
    url = f"/api/public/vc/{world.code}/{op}/registrations"
    body = {**volunteer_body(1, prefecture="08"), "privacy_consent": True, "privacy_notice": "2026-12"}
    ip = "198.51.100.77"
    key = hashlib.sha256(ip.encode()).hexdigest()
    secs = PUBLIC_LIMIT.window.total_seconds()
    # Another server counted all but one attempt of this client within the hour, and one long ago.
    await committed(
        sessionmaker,
        """INSERT INTO vc_public_hit (client_key, at)
           SELECT :k, now() - make_interval(secs => :secs * g / (:n + 1)) FROM generate_series(1, :n) g
           UNION ALL SELECT :k, now() - make_interval(secs => :secs) - interval '1 minute'""",
        k=key,
        secs=secs,
        n=PUBLIC_LIMIT.limit - 1,
    )
    public = client_factory(ip)
    assert (await public.send_json("POST", url, body)).status_code == 201
    r = await public.send_json("POST", url, body)
    assert r.status_code == 429 and r.json()["code"] == "too_many_requests"
    [[kept, old]] = await rows(
        sessionmaker,
        world,
        """SELECT count(*) FILTER (WHERE at > now() - make_interval(secs => :secs)),
                  count(*) FILTER (WHERE at <= now() - make_interval(secs => :secs))
           FROM vc_public_hit WHERE client_key = :k""",
        k=key,
        secs=secs,
    )
    assert (kept, old) == (PUBLIC_LIMIT.limit, 0)  # the refused attempt is not kept; the old one is gone

    # A fresh client firing more than its budget at once: exactly the budget gets through.
    burst = client_factory("198.51.100.78")
    answers = await asyncio.gather(*[burst.send_json("POST", url, body) for _ in range(PUBLIC_LIMIT.limit + 5)])
    assert sorted(a.status_code for a in answers) == [201] * PUBLIC_LIMIT.limit + [429] * 5


async def test_a_survey_in_the_first_hours_of_the_opening_day_counts_on_that_day(
    world: VcWorld, client_factory
) -> None:
    """A VC day is the council's local date: a survey at 00:30 in Japan (15:30 UTC the day before)
    on the centre's opening day is on that day, not before it."""
    from zoneinfo import ZoneInfo

    op = await open_centre(client_factory, world)  # opens today, in the council's time zone
    desk = await client_for(client_factory, world, "vc_desk")
    need = await desk.send_json("POST", f"/api/vc/centres/{op}/needs", need_body(1))
    assert need.status_code == 201, need.text
    local_midnight = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tokyo")).replace(hour=0, minute=0, second=30)
    r = await desk.send_json(
        "POST",
        f"/api/vc/needs/{need.json()['id']}/surveys",
        {"verdict": "needed", "surveyor": "調査員A", "surveyed_at": local_midnight.astimezone(UTC).isoformat()},
    )
    assert r.status_code == 201, r.text


async def test_the_desk_helper_reaches_no_registry_console_map_or_staff_admin_api(
    world: VcWorld, client_factory
) -> None:
    """A lent helper (vc_desk) signs in to the desk and nothing else: the registry, the console's
    safety-check map and the staff admin screens all refuse them (the screens' own API calls)."""
    op = await open_centre(client_factory, world)
    desk = await client_for(client_factory, world, "vc_desk")
    assert (await desk.get(f"/api/vc/centres/{op}/needs")).status_code == 200
    some_op, someone = uuid7(), uuid7()
    refused = [
        # the registry
        "/api/households",
        f"/api/households/{world.household_id}",
        f"/api/persons/{someone}",
        "/api/watchers",
        "/api/registry/counts",
        "/api/watch/coverage",
        # the console's safety-check map
        f"/api/console/operations/{some_op}/summary",
        f"/api/console/operations/{some_op}/escalations",
        f"/api/console/operations/{some_op}/households",
        "/api/console/assignees",
        f"/api/tiles/households/14/14571/6395.mvt?operation_id={some_op}",
        # the staff admin screens
        "/api/users",
        "/api/audit",
        "/api/staff/audit/actors",
        "/api/disaster-declarations",
    ]
    answers = {path: (await desk.get(path)).status_code for path in refused}
    assert answers == dict.fromkeys(refused, 403), answers
    # The operations list (the console's first screen) reads as empty for them, their centre included.
    listed = await desk.get("/api/operations")
    assert listed.status_code == 200 and listed.json() == []
    assert (await desk.get(f"/api/operations/{op}")).status_code == 404
