"""`/api/staff/…`: the reads behind the staff screens (issue #6)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import as_tenant


async def test_audit_actors_lists_who_acted_with_names_and_counts_and_is_audited(
    client_factory, make_tenant, sessionmaker
) -> None:
    tenant = await make_tenant(("staff", "watcher", "commissioner"))
    other = await make_tenant(("staff",))
    w, s, c = tenant.accounts["watcher"], tenant.accounts["staff"], tenant.accounts["commissioner"]
    for acct in (w, w):
        assert (await client_factory().login(acct.login, acct.password)).status_code == 200
    o = other.accounts["staff"]
    assert (await client_factory().login(o.login, o.password)).status_code == 200  # another tenant's actor

    staff = client_factory()
    assert (await staff.login(s.login, s.password)).status_code == 200
    resp = await staff.get("/api/staff/audit/actors")
    assert resp.status_code == 200, resp.text
    actors = {a["login"]: a for a in resp.json()}
    # The commissioner never acted: not listed. The other tenant's staff: never listed.
    assert set(actors) == {w.login, s.login}
    assert actors[w.login]["user_id"] == str(w.user_id)
    assert actors[w.login]["display_name"] == "テスト watcher" and actors[w.login]["role"] == "watcher"
    assert actors[w.login]["entries"] == 2
    assert c.login not in actors and o.login not in actors

    with as_tenant(tenant.id, role="system"):
        async with sessionmaker() as db:
            row = (
                await db.execute(
                    text(
                        "SELECT actor_login, object_type, object_ids, details FROM audit_log "
                        "WHERE tenant_id = :t AND action = 'user.read' ORDER BY id DESC LIMIT 1"
                    ),
                    {"t": tenant.id},
                )
            ).one()
    assert row.actor_login == s.login and row.object_type == "user"
    assert set(row.object_ids) == {str(w.user_id), str(s.user_id)}
    assert row.details["via"] == "staff.audit_actors"

    # The actor list feeds the audit filter: the chosen id narrows the log to that person.
    entries = (await staff.get("/api/audit", params={"actor_user_id": actors[w.login]["user_id"]})).json()["items"]
    assert entries and {e["actor_login"] for e in entries} == {w.login}


@pytest.mark.parametrize("role", ["coordinator", "commissioner", "watcher", "vc_volunteer"])
async def test_audit_actors_only_for_the_audit_logs_readers(role, client, make_tenant) -> None:
    tenant = await make_tenant((role,))
    acct = tenant.accounts[role]
    assert (await client.login(acct.login, acct.password)).status_code == 200
    resp = await client.get("/api/staff/audit/actors")
    assert resp.status_code == 403 and resp.json()["code"] == "forbidden"


async def test_audit_actors_needs_a_session(client) -> None:
    resp = await client.get("/api/staff/audit/actors")
    assert resp.status_code == 401
