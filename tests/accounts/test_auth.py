"""Sign-in, sessions, CSRF and throttling, through the real app on a real PostGIS."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update

from server.accounts.models import UserSession
from tests.conftest import as_tenant


def _problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["message"]["ja"] and body["message"]["en"]
    return body


async def test_login_ok_sets_a_safe_session_cookie(client, make_tenant) -> None:
    tenant = await make_tenant(("watcher",))
    acct = tenant.accounts["watcher"]
    resp = await client.login(acct.login, acct.password)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["login"] == acct.login and body["role"] == "watcher"
    assert body["tenant"]["municipality_code"] == tenant.code
    assert body["tenant"]["time_zone"] == "Asia/Tokyo"
    set_cookie = resp.headers["set-cookie"]
    assert "tonari_session=" in set_cookie
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie.replace("Lax", "lax")
    me = await client.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["id"] == str(acct.user_id)


async def test_a_peer_address_that_is_not_an_ip_is_recorded_as_unknown(
    client_factory, make_tenant, sessionmaker
) -> None:
    """A test client's name or a malformed forwarded address must not turn a sign-in into a 500
    (it goes into inet columns); it is recorded as NULL."""
    tenant = await make_tenant(("watcher",))
    acct = tenant.accounts["watcher"]
    c = client_factory(ip="testclient")
    resp = await c.login(acct.login, acct.password)
    assert resp.status_code == 200, resp.text
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            sessions = (
                await db.execute(select(UserSession.client_addr).where(UserSession.user_id == acct.user_id))
            ).all()
            audit = (
                await db.execute(
                    text("SELECT client_addr FROM audit_log WHERE action = 'auth.login' AND actor_user_id = :u"),
                    {"u": acct.user_id},
                )
            ).all()
    assert sessions == [(None,)] and audit == [(None,)]


async def test_login_accepts_full_width_and_upper_case_ids(client, make_tenant) -> None:
    tenant = await make_tenant(("watcher",))
    acct = tenant.accounts["watcher"]
    wide = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in acct.login.upper())
    resp = await client.login(f"  {wide} ", acct.password)
    assert resp.status_code == 200, resp.text


async def test_wrong_password_is_a_401_problem(client, make_tenant) -> None:
    tenant = await make_tenant(("staff",))
    resp = await client.login(tenant.accounts["staff"].login, "not-the-password")
    _problem(resp, 401, "invalid_credentials")
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_unknown_user_gets_the_same_answer_in_the_same_time_class(client_factory, make_tenant) -> None:
    tenant = await make_tenant(("staff",))
    known = tenant.accounts["staff"].login

    async def timed(login: str) -> tuple[float, dict]:
        c = client_factory()
        await c.ensure_csrf()
        start = time.perf_counter()
        resp = await c.login(login, "wrong-password")
        elapsed = time.perf_counter() - start
        body = _problem(resp, 401, "invalid_credentials")
        return elapsed, body

    # Interleaved, so that a busy machine's swings fall on both paths alike.
    wrong, unknown = [], []
    for i in range(6):
        wrong.append(await timed(known))
        unknown.append(await timed(f"nobody-{i}-x"))
    strip = lambda b: {k: v for k, v in b.items() if k != "request_id"}  # noqa: E731
    assert strip(wrong[0][1]) == strip(unknown[0][1])
    ratio = statistics.median(t for t, _ in unknown) / statistics.median(t for t, _ in wrong)
    # Both paths run one Argon2 verification; without the dummy hash the unknown path is ~100x faster.
    assert 0.5 < ratio < 2.0, ratio


async def _refusals(sessionmaker, tenant_id, user_id) -> list[dict]:
    with as_tenant(tenant_id):
        async with sessionmaker() as db, db.begin():
            rows = (
                await db.execute(
                    text(
                        "SELECT details, host(client_addr) AS client FROM audit_log WHERE action = 'auth.login_refused'"
                        " AND object_ids @> ARRAY[:u] ORDER BY id"
                    ),
                    {"u": str(user_id)},
                )
            ).all()
    return [{**r[0], "client": r[1]} for r in rows]


async def test_failures_from_many_clients_slow_untrusted_sign_ins_but_never_the_owners_known_device(
    client_factory, make_tenant, sessionmaker, settings, monkeypatch
) -> None:
    """A distributed guesser (each client below its own budget) makes the account wait for
    every untrusted try, with a delay that grows; the owner's known device still gets in."""
    from server.accounts import models, throttle

    tenant = await make_tenant(("coordinator",))
    acct = tenant.accounts["coordinator"]
    owner = client_factory()
    assert (await owner.login(acct.login, acct.password)).status_code == 200  # a known device from now on
    assert owner.cookies.get("tonari_device")
    assert (await owner.send_json("POST", "/api/auth/logout")).status_code == 204

    for i in range(settings.login_account_max_failures):
        # each try from a different client: only the account's budget for untrusted tries trips
        _problem(await client_factory().login(acct.login, f"wrong-{i}"), 401, "invalid_credentials")
    # The first delay is 1 s from the last failure: a sign-in (Argon2) on a loaded machine can take
    # longer, so the throttle's clock is held half a second after that failure.
    async with sessionmaker() as db:
        last = (
            await db.execute(
                select(func.max(models.LoginFailure.at)).where(
                    models.LoginFailure.login_key == throttle.login_key(acct.login)
                )
            )
        ).scalar_one()

    class _Held(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> _Held:
            return cls.fromtimestamp((last + timedelta(milliseconds=500)).timestamp(), tz)

    monkeypatch.setattr(throttle, "datetime", _Held)
    refused = await client_factory().login(acct.login, acct.password)
    body = _problem(refused, 429, "too_many_attempts")
    retry = int(refused.headers["Retry-After"])
    assert 0 < retry <= settings.login_max_delay_seconds and body["retry_after"] == retry

    resp = await owner.login(acct.login, acct.password)
    assert resp.status_code == 200, resp.text
    assert (await owner.get("/api/auth/me")).json()["login"] == acct.login
    assert [r["reason"] for r in await _refusals(sessionmaker, tenant.id, acct.user_id)] == ["account"]


async def test_an_attackers_failures_do_not_lock_the_owner_out_and_the_attacker_stays_throttled(
    client_factory, make_tenant, sessionmaker
) -> None:
    tenant = await make_tenant(("coordinator",))
    acct = tenant.accounts["coordinator"]
    known = client_factory()
    assert (await known.login(acct.login, acct.password)).status_code == 200
    assert (await known.send_json("POST", "/api/auth/logout")).status_code == 204

    attacker = client_factory()
    for i in range(10):
        _problem(await attacker.login(acct.login, f"guess-{i}"), 401, "invalid_credentials")
    for _ in range(3):
        # throttled, even with the right password; refused before any password check
        _problem(await attacker.login(acct.login, acct.password), 429, "too_many_attempts")

    # the owner from the device they always use, and from their own (new) client
    assert (await known.login(acct.login, acct.password)).status_code == 200
    assert (await client_factory().login(acct.login, acct.password)).status_code == 200
    # the owner's sign-ins did not hand the attacker a new budget
    _problem(await attacker.login(acct.login, "guess-x"), 429, "too_many_attempts")

    # refused attempts are audited on the account: one row a minute per client, not one per try
    refusals = await _refusals(sessionmaker, tenant.id, acct.user_id)
    assert len(refusals) == 1, refusals
    assert refusals[0]["reason"] == "client" and refusals[0]["retry_after"] > 0
    assert refusals[0]["client"] == attacker._transport.client[0]


async def test_a_device_cookie_is_trusted_only_for_its_own_account(client_factory, make_tenant) -> None:
    """Another account's device cookie (or a forged one) makes an attempt untrusted, so the
    client's budget applies to it."""
    tenant = await make_tenant(("coordinator", "watcher"))
    me, other = tenant.accounts["coordinator"], tenant.accounts["watcher"]
    c = client_factory()
    assert (await c.login(other.login, other.password)).status_code == 200
    assert (await c.send_json("POST", "/api/auth/logout")).status_code == 204
    assert c.cookies.get("tonari_device")
    for i in range(10):
        _problem(await c.login(me.login, f"wrong-{i}"), 401, "invalid_credentials")
    _problem(await c.login(me.login, me.password), 429, "too_many_attempts")
    forged = client_factory()
    forged.cookies.set("tonari_device", "bm9uY2U.AAAAAA.forged-signature", path="/api/auth")
    for i in range(10):
        _problem(await forged.login(me.login, f"wrong-{i}"), 401, "invalid_credentials")
    _problem(await forged.login(me.login, me.password), 429, "too_many_attempts")


async def test_a_known_device_has_its_own_budget(client_factory, make_tenant) -> None:
    """Failures on a known device count against that device, not its client's address; past
    its budget the device is trusted no more and its address's budget applies."""
    tenant = await make_tenant(("watcher",))
    acct = tenant.accounts["watcher"]
    device = client_factory()
    assert (await device.login(acct.login, acct.password)).status_code == 200
    assert (await device.send_json("POST", "/api/auth/logout")).status_code == 204
    for i in range(10):
        _problem(await device.login(acct.login, f"typo-{i}"), 401, "invalid_credentials")
    for i in range(10):  # now untrusted: the client's budget is still whole
        _problem(await device.login(acct.login, f"again-{i}"), 401, "invalid_credentials")
    _problem(await device.login(acct.login, acct.password), 429, "too_many_attempts")


async def test_ten_failures_from_one_client_throttle_that_client(client_factory, make_tenant) -> None:
    tenant = await make_tenant(("watcher", "staff"))
    attacker = client_factory()
    for i in range(10):
        _problem(await attacker.login(f"guess-{i}", "x"), 401, "invalid_credentials")
    _problem(
        await attacker.login(tenant.accounts["staff"].login, tenant.accounts["staff"].password),
        429,
        "too_many_attempts",
    )
    # another client is not affected, and the real account is not locked
    ok = await client_factory().login(tenant.accounts["staff"].login, tenant.accounts["staff"].password)
    assert ok.status_code == 200


async def test_failures_below_the_limit_do_not_slow_or_block_a_success(client, make_tenant) -> None:
    tenant = await make_tenant(("watcher",))
    acct = tenant.accounts["watcher"]
    for i in range(9):
        _problem(await client.login(acct.login, f"wrong-{i}"), 401, "invalid_credentials")
    start = time.perf_counter()
    resp = await client.login(acct.login, acct.password)
    assert resp.status_code == 200
    assert time.perf_counter() - start < 2.0
    # the success cleared the account's failures: nine more wrong tries still answer 401, not 429
    for i in range(9):
        _problem(await client.login(acct.login, f"again-{i}"), 401, "invalid_credentials")


async def test_logout_ends_the_session_for_good(client, client_factory, make_tenant) -> None:
    tenant = await make_tenant(("coordinator",))
    acct = tenant.accounts["coordinator"]
    assert (await client.login(acct.login, acct.password)).status_code == 200
    old_cookie = client.cookies.get("tonari_session")
    assert old_cookie
    resp = await client.send_json("POST", "/api/auth/logout")
    assert resp.status_code == 204
    # a copy of the old cookie, replayed from elsewhere, is worthless
    thief = client_factory()
    thief.cookies.set("tonari_session", old_cookie)
    _problem(await thief.get("/api/auth/me"), 401, "session_expired")


async def test_state_changing_request_without_csrf_is_refused(client, make_tenant) -> None:
    tenant = await make_tenant(("staff",))
    acct = tenant.accounts["staff"]
    resp = await client.post("/api/auth/login", json={"login": acct.login, "password": acct.password})
    _problem(resp, 403, "csrf_failed")
    assert (await client.login(acct.login, acct.password)).status_code == 200
    resp = await client.post("/api/auth/logout")  # signed in, but no header
    _problem(resp, 403, "csrf_failed")
    resp = await client.post("/api/auth/logout", headers={"X-CSRF-Token": "forged"})
    _problem(resp, 403, "csrf_failed")
    assert (await client.get("/api/auth/me")).status_code == 200  # still signed in


async def test_expired_session_is_refused(client, make_tenant, sessionmaker) -> None:
    tenant = await make_tenant(("watcher",))
    acct = tenant.accounts["watcher"]
    assert (await client.login(acct.login, acct.password)).status_code == 200
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                update(UserSession)
                .where(UserSession.tenant_id == tenant.id, UserSession.user_id == acct.user_id)
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
    _problem(await client.get("/api/auth/me"), 401, "session_expired")


async def test_session_idle_deadline_slides_but_never_past_the_absolute_cap(client, make_tenant, sessionmaker) -> None:
    tenant = await make_tenant(("watcher",))
    acct = tenant.accounts["watcher"]
    assert (await client.login(acct.login, acct.password)).status_code == 200
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    cap = datetime.now(UTC) + timedelta(minutes=5)
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                update(UserSession)
                .where(UserSession.tenant_id == tenant.id, UserSession.user_id == acct.user_id)
                .values(last_seen_at=long_ago, absolute_expires_at=cap)
            )
    assert (await client.get("/api/auth/me")).status_code == 200
    with as_tenant(tenant.id):
        async with sessionmaker() as db:
            row = (await db.execute(select(UserSession).where(UserSession.user_id == acct.user_id))).scalar_one()
    assert row.last_seen_at > long_ago
    assert row.expires_at == row.absolute_expires_at  # idle window (7 days) clipped to the cap


async def test_session_cookie_of_a_disabled_account_stops_working(client, make_tenant, sessionmaker) -> None:
    from server.accounts.models import User

    tenant = await make_tenant(("watcher",))
    acct = tenant.accounts["watcher"]
    assert (await client.login(acct.login, acct.password)).status_code == 200
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            await db.execute(update(User).where(User.id == acct.user_id).values(is_active=False))
    assert (await client.get("/api/auth/me")).status_code == 401
    _problem(await client.login(acct.login, acct.password), 401, "invalid_credentials")
