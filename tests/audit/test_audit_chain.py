"""The audit log's hash chain: rows are appended by one function, sealed per tenant off the request
path, and `audit-verify` names the first link a deleted, altered or added row breaks.

Tampering is done as the owner role (the app's role cannot: tests/db/test_db_roles.py), with the
append-only triggers switched off for the moment, as someone holding the owner's password could.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from server.audit import chain
from server.audit.record import AuditRow, record, record_many
from server.core import context
from server.services import services
from server.settings import REPO_ROOT
from tests.conftest import TenantFixture, as_tenant


async def _append(sessionmaker, tenant: TenantFixture, n: int = 1) -> list[int]:
    user = tenant.accounts["staff"].user_id
    ids = []
    with as_tenant(tenant.id, user_id=user, role="staff"):
        async with sessionmaker() as db, db.begin():
            for i in range(n):
                ids.append(
                    await record(
                        db,
                        "test.event",
                        object_type="thing",
                        object_ids=[f"t{i}"],
                        details={"i": i, "note": "ｶﾅ・漢字"},
                    )
                )
    return ids


@asynccontextmanager
async def _as_owner_tampering(owner_engine: AsyncEngine, tenant_id: uuid.UUID) -> AsyncIterator[AsyncConnection]:
    """A transaction as the owner, stamped with the tenant, the append-only triggers off."""
    async with owner_engine.begin() as conn:
        await conn.execute(text("SELECT set_config('tonari.tenant_id', :t, true)"), {"t": str(tenant_id)})
        for table in ("audit_log", "audit_chain", "audit_seal"):
            await conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        yield conn
        for table in ("audit_log", "audit_chain", "audit_seal"):
            await conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


@pytest.fixture
async def sealed(make_tenant, sessionmaker, engine) -> tuple[TenantFixture, list[int]]:
    """A tenant with five audit rows, sealed, and a chain that verifies."""
    tenant = await make_tenant(("staff",))
    ids = await _append(sessionmaker, tenant, 5)
    assert await chain.seal_tenant(engine, tenant.id) >= 5
    verdict = await chain.verify(engine, tenant.id)
    assert verdict.ok and verdict.pending == 0 and verdict.links >= 5, verdict
    return tenant, ids


async def _link_of(engine: AsyncEngine, tenant_id: uuid.UUID, audit_id: int) -> int:
    async with engine.begin() as conn:
        await conn.execute(text("SELECT set_config('tonari.tenant_id', :t, true)"), {"t": str(tenant_id)})
        return int(
            (await conn.execute(text("SELECT seq FROM audit_chain WHERE audit_id = :a"), {"a": audit_id})).scalar_one()
        )


# --- appending ----------------------------------------------------------------------------------


async def test_an_audit_row_takes_tenant_and_actor_from_the_transaction(make_tenant, sessionmaker) -> None:
    tenant = await make_tenant(("staff", "watcher"))
    staff, watcher = tenant.accounts["staff"].user_id, tenant.accounts["watcher"].user_id
    other = await make_tenant(("staff",))
    with as_tenant(tenant.id, user_id=staff, role="staff"):
        async with sessionmaker() as db, db.begin():
            audit_id = await record(db, "test.stamped")
            row = (
                await db.execute(
                    text("SELECT tenant_id, actor_user_id, txid FROM audit_log WHERE id = :i"), {"i": audit_id}
                )
            ).one()
        assert (row.tenant_id, row.actor_user_id) == (tenant.id, staff) and row.txid is not None
        with pytest.raises(DBAPIError, match="an audit row for tenant"):
            async with sessionmaker() as db, db.begin():
                await record(db, "test.forged", tenant_id=other.id)
        # Another actor than the stamped one must at least be a user of the transaction's tenant.
        for stranger in (other.accounts["staff"].user_id, uuid.uuid4()):
            with pytest.raises(DBAPIError, match="who is no user of tenant"):
                async with sessionmaker() as db, db.begin():
                    await record(db, "test.forged", actor_user_id=stranger)
    # Before anyone is signed in (a sign-in attempt) the actor comes from the argument.
    with as_tenant(tenant.id, user_id=None, role=None):
        async with sessionmaker() as db, db.begin():
            audit_id = await record(db, "test.sign_in", actor_user_id=watcher, actor_login="w")
            assert (
                await db.execute(text("SELECT actor_user_id FROM audit_log WHERE id = :i"), {"i": audit_id})
            ).scalar() == watcher
    # Without a tenant on the transaction nothing is written.
    with as_tenant(None), pytest.raises(DBAPIError, match="needs the transaction's tenant"):
        async with sessionmaker() as db, db.begin():
            await db.execute(text("SELECT tonari_audit_append('test.no_tenant')"))


async def test_a_group_commit_writes_each_request_s_row_under_its_own_actor(make_tenant, sessionmaker) -> None:
    """record_many: one statement, several users' requests of one tenant (the visit group commit)."""
    tenant = await make_tenant(("staff", "watcher"))
    other = await make_tenant(("staff",))
    staff, watcher = tenant.accounts["staff"], tenant.accounts["watcher"]

    def ctx(user_id: uuid.UUID, login: str, request_id: str) -> context.RequestContext:
        return context.RequestContext(
            request_id=request_id,
            tenant_id=tenant.id,
            user_id=user_id,
            user_login=login,
            role="watcher",
            client_addr="10.1.2.3",
        )

    rows = [
        AuditRow("visit.create", ctx(staff.user_id, staff.login, "gc-1"), "visit", ["v1"], operation_id=None),
        AuditRow(
            "visit.create",
            ctx(watcher.user_id, watcher.login, "gc-2"),
            "visit",
            ["v2", "v3"],
            mode="drill",
            details={"count": 2},
        ),
    ]
    with as_tenant(tenant.id, user_id=staff.user_id, role="staff"):  # stamped as the last request's user
        async with sessionmaker() as db, db.begin():
            await record_many(db, rows)
            written = (
                await db.execute(
                    text(
                        "SELECT actor_user_id, actor_login, object_ids, mode, request_id, host(client_addr), details"
                        " FROM audit_log WHERE request_id IN ('gc-1', 'gc-2') ORDER BY request_id"
                    )
                )
            ).all()
        assert [tuple(r) for r in written] == [
            (staff.user_id, staff.login, ["v1"], "normal", "gc-1", "10.1.2.3", {}),
            (watcher.user_id, watcher.login, ["v2", "v3"], "drill", "gc-2", "10.1.2.3", {"count": 2}),
        ]
        stranger = AuditRow("visit.create", ctx(other.accounts["staff"].user_id, "x", "gc-3"), "visit", ["v4"])
        with pytest.raises(DBAPIError, match="who is no user of tenant"):
            async with sessionmaker() as db, db.begin():
                await record_many(db, [rows[0], stranger])
        async with sessionmaker() as db:
            assert (await db.execute(text("SELECT count(*) FROM audit_log WHERE request_id = 'gc-3'"))).scalar() == 0


# --- verifying ----------------------------------------------------------------------------------


async def test_a_deleted_row_is_caught_at_its_link(sealed, engine, owner_engine) -> None:
    tenant, ids = sealed
    victim = ids[2]
    seq = await _link_of(engine, tenant.id, victim)
    async with _as_owner_tampering(owner_engine, tenant.id) as conn:
        assert (await conn.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": victim})).rowcount == 1
    verdict = await chain.verify(engine, tenant.id)
    assert verdict.broken == chain.Break("missing", seq, victim)
    assert f"link #{seq}" in verdict.broken.describe() and "deleted" in verdict.broken.describe()


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE audit_log SET details = details || '{\"i\": 99}' WHERE id = :i",
        "UPDATE audit_log SET actor_user_id = NULL WHERE id = :i",
        "UPDATE audit_log SET at = at + interval '1 microsecond' WHERE id = :i",
        "UPDATE audit_log SET object_ids = '{t9}' WHERE id = :i",
    ],
)
async def test_an_altered_row_is_caught_at_its_link(change, sealed, engine, owner_engine) -> None:
    tenant, ids = sealed
    victim = ids[1]
    seq = await _link_of(engine, tenant.id, victim)
    async with _as_owner_tampering(owner_engine, tenant.id) as conn:
        assert (await conn.execute(text(change), {"i": victim})).rowcount == 1
    assert (await chain.verify(engine, tenant.id)).broken == chain.Break("altered", seq, victim)


async def test_a_rewritten_link_is_caught(sealed, engine, owner_engine) -> None:
    tenant, ids = sealed
    seq = await _link_of(engine, tenant.id, ids[3])
    async with _as_owner_tampering(owner_engine, tenant.id) as conn:
        await conn.execute(text("UPDATE audit_chain SET hash = sha256(hash) WHERE seq = :s"), {"s": seq})
    assert (await chain.verify(engine, tenant.id)).broken == chain.Break("altered", seq, ids[3])


async def test_a_row_deleted_with_its_link_leaves_a_gap(sealed, engine, owner_engine) -> None:
    tenant, ids = sealed
    seq = await _link_of(engine, tenant.id, ids[2])
    async with _as_owner_tampering(owner_engine, tenant.id) as conn:
        await conn.execute(text("DELETE FROM audit_chain WHERE seq = :s"), {"s": seq})
        await conn.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": ids[2]})
    assert (await chain.verify(engine, tenant.id)).broken == chain.Break("gap", seq + 1, ids[3])


async def test_rows_cut_from_the_end_are_caught_by_the_seal(sealed, engine, owner_engine) -> None:
    tenant, ids = sealed
    last = await _link_of(engine, tenant.id, ids[-1])
    async with _as_owner_tampering(owner_engine, tenant.id) as conn:
        await conn.execute(text("DELETE FROM audit_chain WHERE seq >= :s"), {"s": last - 1})
        await conn.execute(text("DELETE FROM audit_log WHERE id = ANY(:i)"), {"i": ids[-2:]})
    assert (await chain.verify(engine, tenant.id)).broken == chain.Break("head", last, None)


async def test_a_row_slipped_in_below_the_sealed_horizon_is_caught(sealed, engine, owner_engine) -> None:
    tenant, _ = sealed
    async with _as_owner_tampering(owner_engine, tenant.id) as conn:
        forged = (
            await conn.execute(
                text("INSERT INTO audit_log (tenant_id, action, txid) VALUES (:t, 'test.forged', 3) RETURNING id"),
                {"t": tenant.id},
            )
        ).scalar_one()
    assert (await chain.verify(engine, tenant.id)).broken == chain.Break("unchained", None, forged)


async def test_the_digest_does_not_depend_on_the_session(sealed, engine) -> None:
    tenant, ids = sealed
    digests = set()
    for tz, style in (("UTC", "ISO, YMD"), ("Asia/Tokyo", "SQL, DMY"), ("America/St_Johns", "German")):
        async with engine.begin() as conn:
            await conn.execute(text("SELECT set_config('tonari.tenant_id', :t, true)"), {"t": str(tenant.id)})
            await conn.execute(text(f"SET LOCAL TimeZone = '{tz}'"))
            await conn.execute(text(f"SET LOCAL DateStyle = '{style}'"))
            await conn.execute(text("SET LOCAL extra_float_digits = 0"))
            digests.add(
                (
                    await conn.execute(
                        text("SELECT tonari_audit_digest(a) FROM audit_log a WHERE id = :i"), {"i": ids[0]}
                    )
                ).scalar()
            )
    assert len(digests) == 1


# --- sealing ------------------------------------------------------------------------------------


async def test_a_row_of_an_open_transaction_is_never_skipped(make_tenant, sessionmaker, engine) -> None:
    """Two transactions append at once; the one with the lower id commits last. The seal taken in
    between chains neither (the horizon stops at the open one), the next chains both in id order."""
    tenant = await make_tenant(("staff",))
    await chain.seal_tenant(engine, tenant.id)  # the sign-up's rows
    user = tenant.accounts["staff"].user_id
    with as_tenant(tenant.id, user_id=user, role="staff"):
        async with sessionmaker() as slow:
            await slow.begin()
            first = await record(slow, "test.slow")
            [second] = await _append(sessionmaker, tenant)  # commits while `slow` is open
            assert second > first
            assert await chain.seal_tenant(engine, tenant.id) == 0
            waiting = await chain.verify(engine, tenant.id)
            assert waiting.ok and waiting.pending == 1  # `slow`'s row is not visible yet
            await slow.commit()
    assert await chain.seal_tenant(engine, tenant.id) == 2
    verdict = await chain.verify(engine, tenant.id)
    assert verdict.ok and verdict.pending == 0
    assert await _link_of(engine, tenant.id, second) == await _link_of(engine, tenant.id, first) + 1


async def test_writers_never_wait_for_a_sealer(make_tenant, sessionmaker, engine) -> None:
    """A sealer holds its tenant's lock until it commits; appends to that tenant go on meanwhile
    (with a lock timeout of 50 ms they would fail if they queued behind it)."""
    tenant = await make_tenant(("staff",))
    await _append(sessionmaker, tenant, 3)
    async with engine.connect() as sealer:
        await sealer.begin()
        await sealer.execute(text("SELECT set_config('tonari.tenant_id', :t, true)"), {"t": str(tenant.id)})
        assert (await sealer.execute(text("SELECT tonari_audit_seal()"))).scalar() >= 3
        with as_tenant(tenant.id, user_id=tenant.accounts["staff"].user_id, role="staff"):
            async with sessionmaker() as db, db.begin():
                await db.execute(text("SET LOCAL lock_timeout = '50ms'"))
                await record(db, "test.during_seal")
        await sealer.commit()
    assert await chain.seal_tenant(engine, tenant.id) == 1
    assert (await chain.verify(engine, tenant.id)).ok


async def test_a_pass_cut_short_is_finished_by_the_next(make_tenant, sessionmaker, engine) -> None:
    tenant = await make_tenant(("staff",))
    await _append(sessionmaker, tenant, 7)
    before = await chain.verify(engine, tenant.id)
    assert before.links == 0 and before.pending >= 7
    assert await chain.seal_tenant(engine, tenant.id, batch=3) == before.pending
    after = await chain.verify(engine, tenant.id)
    assert after.ok and after.pending == 0 and after.links == before.pending


async def test_tenants_have_chains_of_their_own(make_tenant, sessionmaker, engine) -> None:
    a, b = await make_tenant(("staff",)), await make_tenant(("staff",))
    await _append(sessionmaker, a, 2)
    await _append(sessionmaker, b, 2)
    assert await chain.seal_tenant(engine, a.id) > 0
    assert (await chain.verify(engine, b.id)).links == 0  # b untouched by a's seal
    assert await chain.seal_tenant(engine, b.id) > 0
    for t in (a, b):
        async with engine.begin() as conn:
            await conn.execute(text("SELECT set_config('tonari.tenant_id', :t, true)"), {"t": str(t.id)})
            assert (await conn.execute(text("SELECT min(seq) FROM audit_chain"))).scalar() == 1


async def test_the_app_seals_on_its_own_timer(app, make_tenant, sessionmaker, engine) -> None:
    assert services(app).audit_sealer.interval == 0  # the suite's settings: tests seal explicitly
    tenant = await make_tenant(("staff",))
    [audit_id] = await _append(sessionmaker, tenant)
    sealer = chain.AuditSealer(engine, interval=0.05)
    await sealer.start()
    try:
        async with sealer.pass_done:  # a pass that began after the row was committed
            target = sealer.passes + 2
            await sealer.pass_done.wait_for(lambda: sealer.passes >= target)
    finally:
        await sealer.stop()
    assert await _link_of(engine, tenant.id, audit_id) >= 1


# --- the command --------------------------------------------------------------------------------


async def _cli(database_url: str, *args: str) -> tuple[int, str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("TONARI_MIGRATE_DATABASE_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        *args,
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_audit_verify_command_names_the_first_broken_link(
    make_tenant, sessionmaker, engine, owner_engine, database_url
) -> None:
    tenant = await make_tenant(("staff",))
    ids = await _append(sessionmaker, tenant, 4)
    rc, out = await _cli(database_url, "audit-seal", "--tenant", tenant.code)
    assert rc == 0 and "chained" in out, out
    rc, out = await _cli(database_url, "audit-verify", "--tenant", tenant.code)
    assert rc == 0 and f"tenant {tenant.id}: OK" in out, out
    seq = await _link_of(engine, tenant.id, ids[1])
    async with _as_owner_tampering(owner_engine, tenant.id) as conn:
        await conn.execute(text("DELETE FROM audit_log WHERE id = ANY(:i)"), {"i": ids[1:3]})
    rc, out = await _cli(database_url, "audit-verify", "--tenant", str(tenant.id))
    assert rc == 1, out
    assert f"tenant {tenant.id}: BROKEN: link #{seq} names audit row {ids[1]}, which no longer exists" in out
    rc, out = await _cli(database_url, "audit-verify", "--tenant", "00000")
    assert rc != 0 and "no tenant" in out
