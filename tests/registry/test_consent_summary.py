"""The household's consent summary (migration 0010) against the consent records it summarises.

The household RLS policy and the tile and console filters read `household.roster_consent_*`
instead of probing `consent` per row; triggers on `consent` keep it. These tests change consent
every way the app and a bulk load do, then compare the summary with the records day by day, and
check that a responder's view follows a withdrawal at once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import as_tenant
from tests.helpers.disclosure import seen_in_tiles
from tests.helpers.world import World, new_world, signed_in

# For every household × summarised class × day that matters (each consent and withdrawal date,
# the days either side, today): the summary's answer beside the consent records' answer.
_COMPARE = text("""
    WITH days AS (
        SELECT DISTINCT d::date AS d FROM consent c,
            LATERAL unnest(ARRAY[c.consented_on - 1, c.consented_on, c.consented_on + 1,
                                 c.withdrawn_on - 1, c.withdrawn_on, c.withdrawn_on + 1, tonari_today()]) d
        WHERE c.tenant_id = :tenant AND d IS NOT NULL
    )
    SELECT h.id, cls, days.d,
           CASE cls WHEN 'council' THEN h.roster_consent_council
                    WHEN 'commissioner' THEN h.roster_consent_commissioner
                    WHEN 'watcher' THEN h.roster_consent_watcher END @> days.d AS summary,
           EXISTS (SELECT 1 FROM consent c
                   WHERE c.tenant_id = h.tenant_id AND c.household_id = h.id AND c.recipient_class = cls
                     AND c.dataset = 'roster' AND c.consented_on <= days.d
                     AND (c.withdrawn_on IS NULL OR c.withdrawn_on > days.d)) AS records
    FROM household h, unnest(ARRAY['council', 'commissioner', 'watcher']) cls, days
    WHERE h.tenant_id = :tenant""")


async def _compare(world: World, sessionmaker) -> list[tuple[object, ...]]:
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db:
            return [tuple(r) for r in (await db.execute(_COMPARE, {"tenant": world.tenant_id})).all()]


def _today_jst() -> date:
    return datetime.now(ZoneInfo("Asia/Tokyo")).date()


async def test_the_summary_follows_every_kind_of_consent_change(sessionmaker, client_factory) -> None:
    world = await new_world(sessionmaker)
    staff = await signed_in(client_factory, world, "staff")
    today = _today_jst()
    # Through the API: P1 withdraws from the commissioner today and from the council next month;
    # P2 consents to the watcher class only; P3 consented and withdrew in the past, then consented again.
    changes = {
        "P1": [
            {
                "recipient_class": "commissioner",
                "dataset": "roster",
                "consented_on": "2026-04-01",
                "source": "同意書",
                "withdrawn_on": today.isoformat(),
            },
            {
                "recipient_class": "council",
                "dataset": "roster",
                "consented_on": "2026-04-01",
                "source": "同意書",
                "withdrawn_on": (today + timedelta(days=30)).isoformat(),
            },
        ],
        "P2": [{"recipient_class": "watcher", "dataset": "roster", "consented_on": "2025-10-01", "source": "同意書"}],
    }
    for key, body in changes.items():
        r = await staff.send_json("PUT", f"/api/persons/{world.persons[key]}/consents", body)
        assert r.status_code == 200, r.text
    # Directly, as a bulk load does: several rows for two people of one household in one statement,
    # with overlapping and disjoint periods, and a plan consent that must not count.
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db, db.begin():
            second = uuid.uuid4()
            await db.execute(
                text(
                    "INSERT INTO person (tenant_id, id, household_id, name, kana) VALUES (:t, :p, :h, '試験 同居', 'シケン ドウキョ')"
                ),
                {"t": world.tenant_id, "p": second, "h": world.households["H3"]},
            )
            await db.execute(
                text("""
                INSERT INTO consent (tenant_id, id, person_id, household_id, recipient_class, dataset, consented_on,
                                     source, withdrawn_on)
                SELECT :t, gen_random_uuid(), p, :h, cls, ds, c_on, '一括', w_on
                FROM (VALUES (CAST(:p AS uuid), 'watcher', 'roster', DATE '2025-01-01', DATE '2025-03-01'),
                             (CAST(:p AS uuid), 'commissioner', 'plan', DATE '2025-01-01', NULL::date)) v(p, cls, ds, c_on, w_on)"""),
                {"t": world.tenant_id, "p": second, "h": world.households["H3"]},
            )
            await db.execute(
                text("""
                UPDATE consent SET withdrawn_on = DATE '2025-06-01', consented_on = DATE '2025-05-01'
                WHERE tenant_id = :t AND person_id = :p AND recipient_class = 'commissioner' AND dataset = 'roster'"""),
                {"t": world.tenant_id, "p": world.persons["P3"]},
            )
            await db.execute(
                text("""
                INSERT INTO consent (tenant_id, id, person_id, household_id, recipient_class, dataset, consented_on, source)
                VALUES (:t, gen_random_uuid(), :p, :h, 'commissioner', 'roster', DATE '2025-09-01', '再同意')"""),
                {"t": world.tenant_id, "p": second, "h": world.households["H3"]},
            )
    rows = await _compare(world, sessionmaker)
    wrong = [r for r in rows if r[3] != r[4]]
    assert wrong == []
    assert {r[3] for r in rows} == {True, False}  # both answers occur: the comparison is not vacuous
    summary = {(r[0], r[1], r[2]): r[3] for r in rows}
    h1, h3 = world.households["H1"], world.households["H3"]
    assert (
        summary[(h1, "commissioner", today)] is False
        and summary[(h1, "commissioner", today - timedelta(days=1))] is True
    )
    assert summary[(h1, "council", today)] is True
    assert [
        summary[(h3, "commissioner", date(2025, m, d))] for m, d in ((4, 30), (5, 1), (5, 31), (6, 1), (8, 31), (9, 1))
    ] == [False, True, True, False, False, True]
    assert summary[(h3, "watcher", date(2025, 2, 28))] is True  # the lodger's, besides P3's own
    # Deleting (the person, cascading to their consents) empties the summary of what they gave.
    r = await staff.send_json("DELETE", f"/api/persons/{world.persons['P1']}")
    assert r.status_code == 204, r.text
    rows = await _compare(world, sessionmaker)
    assert [r for r in rows if r[3] != r[4]] == []
    assert not any(r[3] for r in rows if r[0] == h1)


async def test_a_withdrawal_hides_the_household_from_a_responder_at_once(sessionmaker, client_factory) -> None:
    world = await new_world(sessionmaker)
    staff = await signed_in(client_factory, world, "staff")
    commissioner = await signed_in(client_factory, world, "commissioner")
    h1 = str(world.households["H1"])

    async def sees_h1() -> tuple[bool, bool]:
        listed = {h["id"] for h in (await commissioner.get("/api/households", params={"limit": 500})).json()["items"]}
        return h1 in listed, "P1" in await seen_in_tiles(commissioner, world, "normal")

    assert await sees_h1() == (True, True)
    consent = {"recipient_class": "commissioner", "dataset": "roster", "consented_on": "2026-04-01", "source": "同意書"}
    r = await staff.send_json(
        "PUT", f"/api/persons/{world.persons['P1']}/consents", [{**consent, "withdrawn_on": _today_jst().isoformat()}]
    )
    assert r.status_code == 200, r.text
    assert await sees_h1() == (False, False)
    r = await staff.send_json("PUT", f"/api/persons/{world.persons['P1']}/consents", [consent])
    assert r.status_code == 200, r.text
    assert await sees_h1() == (True, True)


@pytest.mark.parametrize("role", ["commissioner", "coordinator", "watcher"])
async def test_only_registry_keepers_can_change_consent(role: str, sessionmaker) -> None:
    """A responder's session could not see every household to summarise, so it is refused."""
    world = await new_world(sessionmaker)
    acct = world.accounts[role]
    with as_tenant(world.tenant_id, user_id=acct.user_id, role=role), pytest.raises(DBAPIError) as caught:
        async with sessionmaker() as db, db.begin():
            await db.execute(
                text("""
                INSERT INTO consent (tenant_id, id, person_id, household_id, recipient_class, dataset, consented_on, source)
                VALUES (:t, gen_random_uuid(), :p, :h, 'commissioner', 'roster', DATE '2026-04-01', '偽')"""),
                {"t": world.tenant_id, "p": world.persons["P2"], "h": world.households["H2"]},
            )
    assert "registry keepers" in str(caught.value)
    with as_tenant(world.tenant_id, role="system"):
        async with sessionmaker() as db:
            n = (
                await db.execute(
                    text("SELECT count(*) FROM consent WHERE tenant_id = :t AND person_id = :p"),
                    {"t": world.tenant_id, "p": world.persons["P2"]},
                )
            ).scalar()
    assert n == 0
