"""Account management: one's own password and sessions, and an admin's work on the tenant's users
(list, password reset, disable / enable, sign out everywhere), each audited."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text, update

from server.accounts.models import User
from tests.conftest import ApiClient, as_tenant

GOOD_PASSWORD = "sakura-kasama-2026-tonari"


def _problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == code, body
    assert body["message"]["ja"] and body["message"]["en"]
    return body


async def _audit(sessionmaker, tenant_id, action: str, user_id) -> list[tuple]:
    with as_tenant(tenant_id):
        async with sessionmaker() as db, db.begin():
            return list(
                (
                    await db.execute(
                        text(
                            "SELECT actor_user_id, details FROM audit_log WHERE action = :a AND object_ids @> ARRAY[:u]"
                            " ORDER BY id"
                        ),
                        {"a": action, "u": str(user_id)},
                    )
                ).all()
            )


async def _signed_in(client_factory, acct) -> ApiClient:
    c = client_factory()
    resp = await c.login(acct.login, acct.password)
    assert resp.status_code == 200, resp.text
    return c


# ---- each user -------------------------------------------------------------------------------


async def test_changing_my_password_needs_the_current_one_and_ends_my_other_sessions(
    client_factory, make_tenant, sessionmaker
) -> None:
    tenant = await make_tenant(("watcher",))
    acct = tenant.accounts["watcher"]
    phone, pc = await _signed_in(client_factory, acct), await _signed_in(client_factory, acct)

    wrong = await phone.send_json(
        "POST", "/api/auth/password", {"current_password": "nope", "new_password": GOOD_PASSWORD}
    )
    body = _problem(wrong, 400, "current_password_incorrect")
    assert body["errors"][0]["field"] == "current_password"
    assert (await pc.get("/api/auth/me")).status_code == 200  # nothing changed

    for weak in ("short-1", "password1234", acct.login + "-x1", "1234567890"):
        resp = await phone.send_json(
            "POST", "/api/auth/password", {"current_password": acct.password, "new_password": weak}
        )
        body = _problem(resp, 400, "weak_password")
        assert "10文字以上" in body["message"]["ja"] and "at least 10 characters" in body["message"]["en"]
        assert body["errors"][0]["field"] == "new_password"
    same = await phone.send_json(
        "POST", "/api/auth/password", {"current_password": acct.password, "new_password": acct.password}
    )
    _problem(same, 400, "password_unchanged")

    ok = await phone.send_json(
        "POST", "/api/auth/password", {"current_password": acct.password, "new_password": GOOD_PASSWORD}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["must_change_password"] is False
    assert (await phone.get("/api/auth/me")).status_code == 200  # this session goes on (new cookie)
    _problem(await pc.get("/api/auth/me"), 401, "session_expired")  # the other one ended
    _problem(await client_factory().login(acct.login, acct.password), 401, "invalid_credentials")
    assert (await client_factory().login(acct.login, GOOD_PASSWORD)).status_code == 200

    changes = await _audit(sessionmaker, tenant.id, "auth.password_change", acct.user_id)
    assert len(changes) == 1 and changes[0][0] == acct.user_id and changes[0][1]["other_sessions_ended"] == 1
    assert len(await _audit(sessionmaker, tenant.id, "auth.password_change_failed", acct.user_id)) == 1


async def test_guessing_the_current_password_is_throttled(client_factory, make_tenant) -> None:
    tenant = await make_tenant(("watcher",))
    acct = tenant.accounts["watcher"]
    thief = await _signed_in(client_factory, acct)  # e.g. a phone left unlocked
    for i in range(10):
        resp = await thief.send_json(
            "POST", "/api/auth/password", {"current_password": f"guess-{i}", "new_password": GOOD_PASSWORD}
        )
        _problem(resp, 400, "current_password_incorrect")
    resp = await thief.send_json(
        "POST", "/api/auth/password", {"current_password": acct.password, "new_password": GOOD_PASSWORD}
    )
    _problem(resp, 429, "too_many_attempts")


async def test_signing_out_everywhere_ends_every_session_including_this_one(
    client_factory, make_tenant, sessionmaker
) -> None:
    tenant = await make_tenant(("commissioner",))
    acct = tenant.accounts["commissioner"]
    a, b = await _signed_in(client_factory, acct), await _signed_in(client_factory, acct)
    resp = await a.send_json("POST", "/api/auth/logout-everywhere")
    assert resp.status_code == 204
    _problem(await a.get("/api/auth/me"), 401, "not_authenticated")  # the cookie was cleared too
    _problem(await b.get("/api/auth/me"), 401, "session_expired")
    rows = await _audit(sessionmaker, tenant.id, "auth.logout_everywhere", acct.user_id)
    assert len(rows) == 1 and rows[0][1]["sessions"] == 2


# ---- admins ----------------------------------------------------------------------------------


async def test_admins_list_their_own_tenants_users_and_nobody_else_may(
    client_factory, make_tenant, sessionmaker
) -> None:
    tenant, other = await make_tenant(), await make_tenant(("watcher",))
    admin = await _signed_in(client_factory, tenant.accounts["admin"])
    await _signed_in(client_factory, tenant.accounts["watcher"])
    resp = await admin.get("/api/users")
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    users = {u["login"]: u for u in resp.json()}
    assert set(users) == {a.login for a in tenant.accounts.values()}  # not the other tenant's
    watcher = users[tenant.accounts["watcher"].login]
    assert watcher["role"] == "watcher" and watcher["is_active"] is True and watcher["must_change_password"] is False
    assert watcher["display_name"] == "テスト watcher" and watcher["last_login_at"]
    assert users[tenant.accounts["staff"].login]["last_login_at"] is None
    rows = await _audit(sessionmaker, tenant.id, "user.read", tenant.accounts["watcher"].user_id)
    assert rows and rows[-1][1]["via"] == "users.list"

    for role in ("staff", "coordinator", "watcher"):
        c = await _signed_in(client_factory, tenant.accounts[role])
        _problem(await c.get("/api/users"), 403, "forbidden")
        _problem(
            await c.send_json("POST", f"/api/users/{tenant.accounts['vc_volunteer'].user_id}/disable"), 403, "forbidden"
        )
    # another tenant's user is not there for this admin
    stranger = other.accounts["watcher"].user_id
    for action in ("disable", "enable", "password-reset", "logout-everywhere"):
        _problem(await admin.send_json("POST", f"/api/users/{stranger}/{action}"), 404, "not_found")
    assert (
        await client_factory().login(other.accounts["watcher"].login, other.accounts["watcher"].password)
    ).status_code == 200


async def test_a_reset_password_lets_the_user_do_nothing_but_choose_a_new_one(
    client_factory, make_tenant, sessionmaker
) -> None:
    tenant = await make_tenant(("admin", "coordinator"))
    acct = tenant.accounts["coordinator"]
    admin = await _signed_in(client_factory, tenant.accounts["admin"])
    before = await _signed_in(client_factory, acct)

    resp = await admin.send_json("POST", f"/api/users/{acct.user_id}/password-reset")
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    temporary = resp.json()["temporary_password"]
    assert len(temporary) >= 16 and resp.json()["user"]["must_change_password"] is True
    _problem(await before.get("/api/auth/me"), 401, "session_expired")  # the old session ended
    _problem(await client_factory().login(acct.login, acct.password), 401, "invalid_credentials")
    rows = await _audit(sessionmaker, tenant.id, "user.password_reset", acct.user_id)
    assert len(rows) == 1 and rows[0][0] == tenant.accounts["admin"].user_id
    assert temporary not in str(rows[0][1])
    _problem(
        await admin.send_json("POST", f"/api/users/{tenant.accounts['admin'].user_id}/password-reset"),
        409,
        "not_for_yourself",
    )

    user = client_factory()
    signed = await user.login(acct.login, temporary)
    assert signed.status_code == 200 and signed.json()["must_change_password"] is True
    assert (await user.get("/api/auth/me")).json()["must_change_password"] is True
    _problem(await user.get("/api/households"), 403, "password_change_required")
    _problem(await user.get("/api/tiles/households/14/14579/6433.mvt"), 403, "password_change_required")
    _problem(await user.send_json("POST", "/api/auth/logout-everywhere"), 403, "password_change_required")

    changed = await user.send_json(
        "POST", "/api/auth/password", {"current_password": temporary, "new_password": GOOD_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["must_change_password"] is False
    assert (await user.get("/api/households")).status_code == 200
    rows = await _audit(sessionmaker, tenant.id, "auth.password_change", acct.user_id)
    assert rows[-1][1]["after_reset"] is True


async def test_a_temporary_password_nobody_used_in_time_no_longer_signs_in(
    client_factory, make_tenant, sessionmaker
) -> None:
    """A reset printed on a slip and left on a desk must not open the account weeks later; a new
    reset does."""
    tenant = await make_tenant(("admin", "coordinator"))
    acct = tenant.accounts["coordinator"]
    admin = await _signed_in(client_factory, tenant.accounts["admin"])
    temporary = (await admin.send_json("POST", f"/api/users/{acct.user_id}/password-reset")).json()[
        "temporary_password"
    ]
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                update(User)
                .where(User.id == acct.user_id)
                .values(password_changed_at=text("now() - interval '7 days 1 minute'"))
            )
    body = _problem(await client_factory().login(acct.login, temporary), 401, "temporary_password_expired")
    assert "管理者" in body["message"]["ja"]
    _problem(await client_factory().login(acct.login, "not-the-password"), 401, "invalid_credentials")
    [(actor, details)] = await _audit(sessionmaker, tenant.id, "auth.temporary_password_expired", acct.user_id)
    assert actor == acct.user_id and temporary not in str(details)

    again = (await admin.send_json("POST", f"/api/users/{acct.user_id}/password-reset")).json()["temporary_password"]
    signed = await client_factory().login(acct.login, again)
    assert signed.status_code == 200 and signed.json()["must_change_password"] is True


async def test_while_a_password_change_is_due_every_other_route_refuses(app, client_factory, make_tenant) -> None:
    """Walks every route of the app: only me, change-password and logout (and the public ones)
    answer a user whose password an admin reset."""
    tenant = await make_tenant(("admin", "staff"))
    acct = tenant.accounts["staff"]
    admin = await _signed_in(client_factory, tenant.accounts["admin"])
    temporary = (await admin.send_json("POST", f"/api/users/{acct.user_id}/password-reset")).json()[
        "temporary_password"
    ]
    user = client_factory()
    assert (await user.login(acct.login, temporary)).status_code == 200

    allowed = {"/api/auth/me", "/api/auth/password", "/api/auth/logout"}
    checked = 0
    for route in app.routes:
        for handler in route.route_handlers:
            names = {getattr(g, "__name__", "") for g in handler.resolve_guards()}
            if "public" in names or route.path in allowed:
                continue
            path = _fill(route)
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                resp = await user.send_json(method, path)
                _problem(resp, 403, "password_change_required")
                checked += 1
    assert checked > 50


def _fill(route) -> str:
    """The route's path with a value of the right type in each parameter."""
    path = route.path
    for param in route.path_parameters.values():
        value = str(uuid.uuid4()) if param.type is uuid.UUID else ("1" if param.type is int else "x")
        path = path.replace("{" + param.full + "}", value)
    return path


async def test_disabling_ends_the_users_sessions_at_once_and_enabling_lets_them_back(
    client_factory, make_tenant, sessionmaker
) -> None:
    tenant = await make_tenant(("admin", "watcher"))
    acct = tenant.accounts["watcher"]
    admin = await _signed_in(client_factory, tenant.accounts["admin"])
    user = await _signed_in(client_factory, acct)

    resp = await admin.send_json("POST", f"/api/users/{acct.user_id}/disable")
    assert resp.status_code == 200 and resp.json()["is_active"] is False
    _problem(await user.get("/api/auth/me"), 401, "session_expired")
    _problem(await client_factory().login(acct.login, acct.password), 401, "invalid_credentials")
    listed = {u["login"]: u for u in (await admin.get("/api/users")).json()}
    assert listed[acct.login]["is_active"] is False

    resp = await admin.send_json("POST", f"/api/users/{acct.user_id}/enable")
    assert resp.status_code == 200 and resp.json()["is_active"] is True
    assert (await client_factory().login(acct.login, acct.password)).status_code == 200

    disabled = await _audit(sessionmaker, tenant.id, "user.disable", acct.user_id)
    enabled = await _audit(sessionmaker, tenant.id, "user.enable", acct.user_id)
    assert len(disabled) == 1 and disabled[0][1]["sessions_ended"] == 1 and len(enabled) == 1


async def test_an_admin_cannot_disable_themself_and_an_active_admin_always_remains(
    client_factory, make_tenant, sessionmaker
) -> None:
    tenant = await make_tenant(("admin",))
    a = tenant.accounts["admin"]
    admin = await _signed_in(client_factory, a)
    _problem(await admin.send_json("POST", f"/api/users/{a.user_id}/disable"), 409, "not_for_yourself")
    assert (await admin.get("/api/auth/me")).status_code == 200

    # Two admins disabling each other at the same moment: one of them stays.
    other = await make_tenant(("admin", "staff"))
    b_acct = other.accounts["admin"]
    # a second admin in `other`: promote its staff account
    with as_tenant(other.id):
        async with sessionmaker() as db, db.begin():
            await db.execute(update(User).where(User.id == other.accounts["staff"].user_id).values(role="admin"))
    c_acct = other.accounts["staff"]
    b, c = await _signed_in(client_factory, b_acct), await _signed_in(client_factory, c_acct)
    await b.ensure_csrf(), await c.ensure_csrf()
    r1, r2 = await asyncio.gather(
        b.send_json("POST", f"/api/users/{c_acct.user_id}/disable"),
        c.send_json("POST", f"/api/users/{b_acct.user_id}/disable"),
    )
    assert sorted([r1.status_code, r2.status_code])[0] == 200, (r1.text, r2.text)
    assert {r1.status_code, r2.status_code} in ({200, 409}, {200, 401}), (r1.text, r2.text)
    listed = [u for u in (await (b if r1.status_code == 200 else c).get("/api/users")).json() if u["role"] == "admin"]
    assert [u["is_active"] for u in listed].count(True) == 1


async def test_an_admin_signs_a_user_out_everywhere(client_factory, make_tenant, sessionmaker) -> None:
    tenant = await make_tenant(("admin", "coordinator"))
    acct = tenant.accounts["coordinator"]
    admin = await _signed_in(client_factory, tenant.accounts["admin"])
    phone, pc = await _signed_in(client_factory, acct), await _signed_in(client_factory, acct)
    resp = await admin.send_json("POST", f"/api/users/{acct.user_id}/logout-everywhere")
    assert resp.status_code == 200 and resp.json()["is_active"] is True
    _problem(await phone.get("/api/auth/me"), 401, "session_expired")
    _problem(await pc.get("/api/auth/me"), 401, "session_expired")
    assert (await admin.get("/api/auth/me")).status_code == 200
    rows = await _audit(sessionmaker, tenant.id, "user.logout_everywhere", acct.user_id)
    assert len(rows) == 1 and rows[0][1]["sessions_ended"] == 2
    assert (await client_factory().login(acct.login, acct.password)).status_code == 200  # not disabled
