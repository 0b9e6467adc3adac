"""The audit log: written for sign-in events, readable by staff only, unchangeable in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import as_tenant


async def test_login_failure_and_logout_are_audited(client, client_factory, make_tenant) -> None:
    tenant = await make_tenant(("watcher", "staff"))
    w = tenant.accounts["watcher"]
    assert (await client.login(w.login, "wrong")).status_code == 401
    assert (await client.login(w.login, w.password)).status_code == 200
    assert (await client.send_json("POST", "/api/auth/logout")).status_code == 204

    staff = client_factory()
    s = tenant.accounts["staff"]
    assert (await staff.login(s.login, s.password)).status_code == 200
    resp = await staff.get("/api/audit", params={"actor_user_id": str(w.user_id)})
    assert resp.status_code == 200, resp.text
    items = resp.json()["items"]
    assert [i["action"] for i in items] == ["auth.logout", "auth.login", "auth.login_failed"]
    for item in items:
        assert item["object_type"] == "user" and item["object_ids"] == [str(w.user_id)]
        assert item["actor_login"] == w.login
        assert item["mode"] == "normal"
        assert item["request_id"] and item["client_addr"]
        assert item["at"]
    assert items[2]["details"] == {"reason": "wrong_password"}

    only_failures = await staff.get("/api/audit", params={"action": "auth.login_failed"})
    assert {i["action"] for i in only_failures.json()["items"]} == {"auth.login_failed"}


async def test_audit_list_pages_with_a_cursor(client, client_factory, make_tenant) -> None:
    tenant = await make_tenant(("staff",))
    s = tenant.accounts["staff"]
    for _ in range(3):
        assert (await client_factory().login(s.login, s.password)).status_code == 200
    page1 = (await client_factory().get("/api/audit")).status_code
    assert page1 == 401
    c = client_factory()
    await c.login(s.login, s.password)
    first = (await c.get("/api/audit", params={"limit": 2})).json()
    assert len(first["items"]) == 2 and first["next_before_id"]
    second = (await c.get("/api/audit", params={"limit": 2, "before_id": first["next_before_id"]})).json()
    assert second["items"] and all(i["id"] < first["next_before_id"] for i in second["items"])


@pytest.mark.parametrize("role", ["watcher", "commissioner", "coordinator", "vc_volunteer"])
async def test_only_staff_and_admins_read_the_audit_log(role, client, make_tenant) -> None:
    tenant = await make_tenant((role,))
    acct = tenant.accounts[role]
    await client.login(acct.login, acct.password)
    resp = await client.get("/api/audit")
    assert resp.status_code == 403
    assert resp.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'tampered'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ],
)
@pytest.mark.parametrize(("who", "refusal"), [("app", "permission denied"), ("owner", "append-only")])
async def test_the_database_refuses_to_change_audit_rows(
    statement, who, refusal, client, make_tenant, sessionmaker, owner_sessionmaker
) -> None:
    """The app's role has no write grant on the log; even its owner meets the append-only trigger."""
    tenant = await make_tenant(("watcher",))
    w = tenant.accounts["watcher"]
    assert (await client.login(w.login, w.password)).status_code == 200
    with as_tenant(tenant.id):
        with pytest.raises(DBAPIError, match=refusal):
            async with (sessionmaker if who == "app" else owner_sessionmaker)() as db, db.begin():
                await db.execute(text(statement))
        async with sessionmaker() as db:
            actions = (await db.execute(text("SELECT action FROM audit_log"))).scalars().all()
    assert "auth.login" in actions and "tampered" not in actions
