"""Two runs side by side (`GET /api/drills/runs/{a}/compare/{b}`): the safety-check figures and the
volunteer centre's part — needs received/closed, team utilisation, need → dispatch, the VC
expectations — each equal to that run's own report; a run without a centre says it has none
(values null and a note), never zeros."""

from __future__ import annotations

from typing import Any

from tests.helpers.drills import SAFETY_CHECK_NO_CENTRE as SAFETY_CHECK
from tests.helpers.drills import SMALL_VC_DAY, drill_world, wait_for


async def _finished_run(staff, yaml: str) -> dict[str, Any]:
    started = await staff.send_json("POST", "/api/drills/runs", {"yaml": yaml, "speed": "max"})
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]

    async def finished():
        body = (await staff.get(f"/api/drills/runs/{run_id}")).json()
        return body if body["status"] == "finished" else None

    return await wait_for(finished, "the run to finish", timeout=120)


def _by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in rows}


async def test_two_vc_runs_compare_their_centres_figure_by_figure(app, client_factory, sessionmaker) -> None:
    _, accounts, _ = await drill_world(sessionmaker, ("staff", "commissioner"))
    staff = client_factory()
    assert (await staff.login(accounts["staff"].login, accounts["staff"].password)).status_code == 200
    last_year = await _finished_run(staff, SMALL_VC_DAY)
    this_year = await _finished_run(staff, SMALL_VC_DAY)
    reports = [(await staff.get(f"/api/drills/runs/{r['id']}/report")).json() for r in (this_year, last_year)]
    for r in reports:  # both ran their centre's day: needs came in, teams went out
        assert r["vc"]["needs"]["received"] == 2 and r["vc"]["dispatches"]["total"] > 0

    r = await staff.get(f"/api/drills/runs/{this_year['id']}/compare/{last_year['id']}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["label"] == "【訓練】"
    assert [x["run_id"] for x in body["runs"]] == [this_year["id"], last_year["id"]]
    assert [x["has_vc"] for x in body["runs"]] == [True, True]
    vc = body["vc"]
    assert vc["missing"] == [] and vc["note"] is None
    figures = _by_key(vc["figures"])
    for side, report in zip(("a", "b"), reports, strict=True):
        part = report["vc"]
        assert figures["needs_received"][side] == part["needs"]["received"] == 2
        assert figures["needs_closed"][side] == part["needs"]["closed"]
        assert figures["teams"][side] == part["teams"]["total"] > 0
        assert figures["team_utilisation"][side] == part["teams"]["utilisation"]
        assert 0 < figures["team_utilisation"][side] <= 1
        assert figures["need_to_dispatch_median_s"][side] == part["need_to_dispatch"]["median_s"] is not None
        assert figures["need_to_dispatch_max_s"][side] == part["need_to_dispatch"]["max_s"]
        assert figures["dispatches"][side] == part["dispatches"]["total"]
        assert figures["volunteers_checked_in"][side] == part["volunteers"]["checked_in_people"] == 6
        assert figures["volunteers_enrolled_here"][side] == part["volunteers"]["enrolled_here"]
    # The VC expectations, each with its ○/× in both runs, as each run's report judged it.
    assert [e["kind"] for e in vc["expectations"]] == ["vc_dispatch_within", "vc_needs_closed_by"]
    for e in vc["expectations"]:
        for side, report in zip(("a", "b"), reports, strict=True):
            judged = next(x for x in report["expectations"] if x["kind"] == e["kind"])
            assert e[side] == {"mark": judged["mark"], "passed": judged["passed"]}
    assert body["same_scenario"] is False  # scenario files given as text have no name to match

    # A commissioner may read reports, so comparisons too; a run that does not exist is a 404.
    commissioner = client_factory()
    assert (
        await commissioner.login(accounts["commissioner"].login, accounts["commissioner"].password)
    ).status_code == 200
    seen = await commissioner.get(f"/api/drills/runs/{this_year['id']}/compare/{last_year['id']}")
    assert seen.status_code == 200 and seen.json() == body
    missing = await staff.get(f"/api/drills/runs/{this_year['id']}/compare/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_a_run_without_a_centre_says_so_instead_of_zeros(app, client_factory, sessionmaker) -> None:
    _, accounts, _ = await drill_world(sessionmaker, ("staff",))
    staff = client_factory()
    assert (await staff.login(accounts["staff"].login, accounts["staff"].password)).status_code == 200
    vc_run = await _finished_run(staff, SMALL_VC_DAY)
    safety = await _finished_run(staff, SAFETY_CHECK)

    body = (await staff.get(f"/api/drills/runs/{vc_run['id']}/compare/{safety['id']}")).json()
    assert [x["has_vc"] for x in body["runs"]] == [True, False]
    vc = body["vc"]
    assert vc["missing"] == ["b"]
    assert vc["note"]["ja"].startswith("この回には災害VCの記録がありません")
    assert vc["note"]["en"]
    for row in vc["figures"]:
        assert row["b"] is None, row  # nothing, not 0
    assert _by_key(vc["figures"])["needs_received"]["a"] == 2
    for e in vc["expectations"]:
        assert e["a"] is not None and e["b"] is None
    # The other way round the missing side is A.
    flipped = (await staff.get(f"/api/drills/runs/{safety['id']}/compare/{vc_run['id']}")).json()
    assert flipped["vc"]["missing"] == ["a"]
    assert all(row["a"] is None for row in flipped["vc"]["figures"])

    # Two runs without a centre have no VC part at all.
    other = await _finished_run(staff, SAFETY_CHECK)
    neither = (await staff.get(f"/api/drills/runs/{safety['id']}/compare/{other['id']}")).json()
    assert neither["vc"] is None
    assert _by_key(neither["figures"])["targets"]["a"] is not None
