"""The whole 災害VC day over the API (#18): intake with a duplicate caught, surveys, 60 volunteers
(QR pre-registered and walk-ins, a group of 8, one insured on the spot, a 17-year-old refused then
accepted), six teams matched and dispatched with equipment, reports 完了 and 継続 (one sent twice,
stored once), equipment back, and the day's statistics equal to counts taken from the rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from server.db.base import uuid7
from tests.helpers.vc_world import VcWorld, client_for, need_body, new_vc_world, open_centre, rows, volunteer_body

STOCK = {"shovel": 40, "wheelbarrow": 10, "pressure_washer": 1, "sandbags": 300}


@pytest.fixture
async def world(sessionmaker) -> VcWorld:
    return await new_vc_world(sessionmaker)


async def test_a_whole_vc_day(world: VcWorld, client_factory, sessionmaker) -> None:
    op = await open_centre(client_factory, world, stock=STOCK)
    desk = await client_for(client_factory, world, "vc_desk")
    staff = await client_for(client_factory, world, "staff")
    base = f"/api/vc/centres/{op}"
    home = world.code[:2]  # the council's own prefecture (県外 is counted apart)

    def vb(i: int, **extra: object) -> dict:
        return volunteer_body(i, **{"prefecture": home, **extra})

    # 1. ニーズ受付: 19 needs, then a call that is a duplicate (caught), then the 20th need.
    needs = []
    for i in range(19):
        body = need_body(i) if i != 5 else {**need_body(i), "lon": None, "lat": None, "town": "テスト町"}
        dupes = await desk.send_json(
            "POST",
            f"{base}/needs/duplicates",
            {
                "phone": body["phone"],
                "requester_kana": body["requester_kana"],
                "lon": body["lon"],
                "lat": body["lat"],
            },
        )
        assert dupes.status_code == 200 and dupes.json() == [], (i, dupes.text)
        r = await desk.send_json("POST", f"{base}/needs", body)
        assert r.status_code == 201, r.text
        needs.append(r.json())
    assert needs[5]["location_approximate"] is True and needs[0]["location_approximate"] is False
    assert needs[0]["district_id"] == str(world.district_id) and needs[0]["state"] == "received"
    # The same household calls again: another phone format, a pin 10 m off, the kana in hiragana.
    again = await desk.send_json(
        "POST",
        f"{base}/needs/duplicates",
        {
            "phone": "０２９６ー７０ー１００３",
            "requester_kana": "たなか さぶろう",
            "lon": needs[3]["lon"] + 0.0001,
            "lat": needs[3]["lat"],
        },
    )
    assert again.status_code == 200
    [dupe] = again.json()
    assert dupe["need_id"] == needs[3]["id"] and set(dupe["reasons"]) == {"phone", "near", "kana"}
    assert dupe["distance_m"] < 30
    # Staff decide it is the same need: nothing is saved. The 20th call is a new one.
    r = await desk.send_json("POST", f"{base}/needs", need_body(19))
    assert r.status_code == 201
    needs.append(r.json())

    # 2. 現地調査: ten surveyed (work needed), one not needed, one to discuss; the rest straight to matching.
    for n in needs[:10]:
        r = await desk.send_json(
            "POST",
            f"/api/vc/needs/{n['id']}/surveys",
            {"verdict": "needed", "surveyor": "調査員A", "risks": ["electrical"] if n is needs[0] else []},
        )
        assert r.status_code == 201 and r.json()["need_state"] == "waiting", r.text
    r = await desk.send_json(
        "POST", f"/api/vc/needs/{needs[10]['id']}/surveys", {"verdict": "not_needed", "surveyor": "調査員A"}
    )
    assert r.json()["need_state"] == "done"
    r = await desk.send_json(
        "POST", f"/api/vc/needs/{needs[11]['id']}/surveys", {"verdict": "discuss", "surveyor": "調査員B"}
    )
    assert r.json()["need_state"] == "survey"
    for n in needs[12:]:
        r = await desk.send_json("POST", f"/api/vc/needs/{n['id']}/state", {"state": "waiting"})
        assert r.status_code == 200 and r.json()["state"] == "waiting"

    # 3. 当日受付: 10 pre-registered by QR (2 from another prefecture) ...
    public = client_factory()
    notice = (await public.get(f"/api/public/vc/{world.code}/{op}/privacy-notice")).json()
    volunteers: list[dict] = []
    for i in range(10):
        r = await public.send_json(
            "POST",
            f"/api/public/vc/{world.code}/{op}/registrations",
            {
                **vb(100 + i, prefecture="47" if i < 2 else home),
                "privacy_consent": True,
                "privacy_notice": notice["version"],
            },
        )
        assert r.status_code == 201, r.text
        reg = r.json()
        assert reg["qr_svg"].lstrip().startswith("<svg") and "ボランティア" not in reg["qr_svg"]
        assert "ボランティア" not in reg["token"] and len(reg["token"]) < 60
        scanned = await desk.send_json("POST", f"{base}/checkins", {"token": reg["token"]})
        assert scanned.status_code == 200, scanned.text
        volunteers.append(scanned.json())
    again = await desk.send_json(
        "POST", f"{base}/checkins", {"token": reg["token"]}
    )  # a second scan: no second check-in
    assert again.status_code == 200
    # ... a group of 8 ...
    r = await desk.send_json(
        "POST",
        f"{base}/volunteers",
        vb(
            200,
            kind="group",
            group_name="笠間建設有志",
            group_size=8,
            light_truck=True,
            skills=["heavy_machinery"],
        ),
    )
    assert r.status_code == 201, r.text
    group = r.json()
    # ... one who is not insured yet (enrolled on the spot below) ...
    r = await desk.send_json("POST", f"{base}/volunteers", vb(300, insurance="none", insured_where=None))
    uninsured = r.json()
    # ... a 17-year-old: refused without a guardian's consent, accepted with it ...
    minor = vb(400, age_band="age_16_17")
    r = await desk.send_json("POST", f"{base}/volunteers", minor)
    assert r.status_code == 422 and r.json()["code"] == "vc_minor_needs_consent"
    r = await desk.send_json("POST", f"{base}/volunteers", {**minor, "guardian_consent_by": "保護者 花子"})
    assert r.status_code == 201, r.text
    teen = r.json()
    # ... one linked to a vc_volunteer login (their phone view), and 39 more walk-ins (5 from another prefecture).
    r = await desk.send_json(
        "POST",
        f"{base}/volunteers",
        vb(500, user_id=str(world.accounts["vc_volunteer"].user_id), light_truck=True),
    )
    leader = r.json()
    walkins = []
    for i in range(39):
        r = await desk.send_json("POST", f"{base}/volunteers", vb(600 + i, prefecture="46" if i < 5 else home))
        assert r.status_code == 201, r.text
        walkins.append(r.json())
    checked = await rows(sessionmaker, world, "SELECT sum(people) FROM vc_checkin WHERE operation_id = :o", o=op)
    assert checked[0][0] == 60

    # 4. 班: six teams.
    singles = volunteers + walkins  # 49 individuals
    plan = [
        ("1班", leader, [leader, *singles[0:4]]),
        ("2班", group, [group]),
        ("3班", singles[4], [*singles[4:10], uninsured]),
        ("4班", singles[10], [*singles[10:16], teen]),
        ("5班", singles[16], singles[16:22]),
        ("6班", singles[22], singles[22:27]),
    ]
    teams = []
    for name, head, members in plan:
        r = await desk.send_json(
            "POST",
            f"{base}/teams",
            {"name": name, "leader_id": head["id"], "member_ids": [m["id"] for m in members]},
        )
        assert r.status_code == 201, r.text
        teams.append(r.json())
    assert teams[1]["people"] == 8 and teams[1]["light_truck"] is True

    # Matching: suggestions per team with reasons; staff take each team's best need not yet taken.
    r = await desk.get(f"{base}/matching")
    assert r.status_code == 200
    board = {t["team_id"]: t for t in r.json()}
    assert set(board) == {t["id"] for t in teams}
    for t in board.values():
        assert t["suggestions"] and all("人数" in s["reasons"] and " km" in s["reasons"] for s in t["suggestions"])
    assert needs[10]["id"] not in {s["need_id"] for t in board.values() for s in t["suggestions"]}  # closed by survey

    # 5. 送り出し with equipment. The team with the uninsured volunteer is refused until they enrol.
    taken: set[str] = set()
    dispatches = {}
    for team in teams:
        r = await desk.get(f"{base}/matching", params={"team_id": team["id"]})
        choice = (
            next(s["need_id"] for s in r.json()[0]["suggestions"] if s["need_id"] not in taken)
            if any(s["need_id"] not in taken for s in r.json()[0]["suggestions"])
            else None
        )
        if choice is None:  # all three suggestions taken by earlier teams: take the next waiting need
            waiting = (await desk.get(f"{base}/needs", params={"state": "waiting"})).json()
            choice = next(n["id"] for n in waiting if n["id"] not in taken)
        equipment = [{"code": "shovel", "quantity": team["people"]}, {"code": "sandbags", "quantity": 20}]
        if team["name"] == "2班":
            equipment.append({"code": "pressure_washer", "quantity": 1})
        body = {"team_id": team["id"], "need_id": choice, "equipment": equipment}
        r = await desk.send_json("POST", f"{base}/dispatches", body)
        if team["name"] == "3班":
            assert r.status_code == 422 and r.json()["code"] == "vc_not_insured"
            assert r.json()["volunteer_ids"] == [uninsured["id"]]
            fix = await desk.send_json(
                "POST",
                f"/api/vc/volunteers/{uninsured['id']}/insurance",
                {"insurance": "enrolled_here", "insurance_receipt": "R-0001"},
            )
            assert fix.status_code == 200 and fix.json()["insurance"] == "enrolled_here"
            r = await desk.send_json("POST", f"{base}/dispatches", body)
        assert r.status_code == 201, r.text
        taken.add(choice)
        dispatches[team["name"]] = r.json()
    assert dispatches["2班"]["equipment"] == {"pressure_washer": 1, "sandbags": 20, "shovel": 8}
    ledger = {e["code"]: e for e in (await desk.get(f"{base}/equipment")).json()}
    assert ledger["pressure_washer"]["stock"] == 0 and ledger["pressure_washer"]["out"] == 1

    # The leader's phone shows the requester while the dispatch is active.
    phone = await client_for(client_factory, world, "vc_volunteer")
    mine = (await phone.get("/api/vc/me")).json()
    assert mine["team"]["name"] == "1班" and mine["need"]["address"] and mine["need"]["phone"]
    assert mine["emergency"] == ["110", "119"]

    # 6. 活動報告: 1班 from the leader's phone (sent twice: stored once), the others at the desk.
    now = datetime.now(UTC).isoformat()
    outcomes = {
        "1班": "done",
        "2班": "done",
        "3班": "continued",
        "4班": "done",
        "5班": "continued",
        "6班": "done",
    }
    reports = {}
    for team in teams:
        d = dispatches[team["name"]]
        body = {
            "client_id": str(uuid7()),
            "outcome": outcomes[team["name"]],
            "people": team["people"],
            "hours": 3.5,
            "device_time": now,
            "work_done": "泥出しと家財搬出",
            "near_misses": "釘の踏み抜きそうになった" if team["name"] == "4班" else None,
            "remaining": "床下の泥" if outcomes[team["name"]] == "continued" else None,
            "returns": [{"code": c, "returned": n} for c, n in d["equipment"].items()],
        }
        sender = phone if team["name"] == "1班" else desk
        r = await sender.send_json("POST", f"/api/vc/dispatches/{d['id']}/report", body)
        assert r.status_code == 201, r.text
        reports[team["name"]] = (body, r.json())
    body, first = reports["1班"]
    retry = await phone.send_json("POST", f"/api/vc/dispatches/{dispatches['1班']['id']}/report", body)
    assert retry.status_code == 200 and retry.json() == first
    changed = await phone.send_json(
        "POST", f"/api/vc/dispatches/{dispatches['1班']['id']}/report", {**body, "hours": 1}
    )
    assert changed.status_code == 409 and changed.json()["code"] == "vc_report_conflict"
    assert (
        await rows(sessionmaker, world, "SELECT count(*) FROM vc_report WHERE client_id = :c", c=body["client_id"])
    )[0][0] == 1
    # 完了 closed its need; 継続 keeps it open with what is left.
    for name, (_, rep) in reports.items():
        need = (await desk.get(f"/api/vc/needs/{dispatches[name]['need_id']}")).json()
        assert need["state"] == outcomes[name] == rep["need_state"]
        assert (need["closed_on"] is not None) == (outcomes[name] == "done")
    # After the report the phone no longer shows the requester.
    mine = (await phone.get("/api/vc/me")).json()
    assert mine["dispatch"]["state"] == "reported" and mine["need"]["address"] is None and mine["need"]["phone"] is None

    # Equipment all back on the shelf.
    ledger = {e["code"]: e for e in (await desk.get(f"{base}/equipment")).json()}
    assert {c: (e["stock"], e["out"]) for c, e in ledger.items()} == {c: (n, 0) for c, n in STOCK.items()}

    # 7. 振り返り: today's figures equal counts taken from the rows.
    stats = (await staff.get(f"{base}/statistics")).json()
    [day] = stats["days"]
    [[vols, individual, grp, outside]] = await rows(
        sessionmaker,
        world,
        """
        SELECT sum(ci.people), sum(ci.people) FILTER (WHERE v.kind = 'individual'),
               sum(ci.people) FILTER (WHERE v.kind = 'group'), sum(ci.people) FILTER (WHERE v.prefecture <> :p)
        FROM vc_checkin ci JOIN vc_volunteer v ON v.id = ci.volunteer_id WHERE ci.operation_id = :o""",
        o=op,
        p=home,
    )
    [[received, closed, surveyed, activities]] = await rows(
        sessionmaker,
        world,
        """
        SELECT (SELECT count(*) FROM vc_need WHERE operation_id = :o),
               (SELECT count(*) FROM vc_need WHERE operation_id = :o AND closed_on IS NOT NULL),
               (SELECT count(DISTINCT s.need_id) FROM vc_survey s JOIN vc_need n ON n.id = s.need_id WHERE n.operation_id = :o),
               (SELECT count(*) FROM vc_dispatch WHERE operation_id = :o)""",
        o=op,
    )
    assert (vols, individual, grp, outside) == (60, 52, 8, 7)
    assert (received, closed, surveyed, activities) == (20, 5, 12, 6)
    assert day == {
        "vc_day": day["vc_day"],
        "volunteers": vols,
        "individual": individual,
        "group": grp,
        "out_of_prefecture": outside,
        "cumulative_volunteers": vols,
        "activities": activities,
        "needs_received": received,
        "needs_surveyed": surveyed,
        "needs_closed": closed,
        "needs_open": received - closed,
    }
    assert stats["label"] == "" and sum(stats["by_district"].values()) == 20
    assert stats["by_work_type"] == {"mud_out": 10, "carry_out": 10, "cleaning": 10}
    # The prefecture's CSV layout, same figures.
    r = await staff.get(f"{base}/statistics.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert table == [
        ["日付", "ボランティア数", "累計ボランティア数", "ニーズ受付数", "ニーズ完了数", "未完了ニーズ数"],
        [day["vc_day"], "60", "60", "20", "5", "15"],
    ]
    # Reads of personal data were audited.
    audited = await rows(
        sessionmaker,
        world,
        "SELECT count(*) FROM audit_log WHERE operation_id = :o AND action = 'vc.need.read'",
        o=op,
    )
    assert audited[0][0] > 0
