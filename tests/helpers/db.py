"""Reads of the test database under a tenant, and session times moved by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from server.accounts.models import UserSession
from tests.conftest import as_tenant
from tests.helpers.world import World


async def fetch_rows(sessionmaker, world: World, sql: str, **params) -> list:
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            return (await db.execute(text(sql), params)).all()


async def age_sessions(sessionmaker, world: World, role: str) -> datetime:
    """Set the role's sessions as last seen an hour ago (a touch is due); returns that time."""
    from datetime import timedelta

    from sqlalchemy import update

    long_ago = datetime.now(UTC) - timedelta(hours=1)
    acct = world.accounts[role]
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                update(UserSession)
                .where(UserSession.tenant_id == world.tenant_id, UserSession.user_id == acct.user_id)
                .values(last_seen_at=long_ago)
            )
    return long_ago


async def last_seen(sessionmaker, world: World, role: str) -> datetime:
    from sqlalchemy import func, select

    acct = world.accounts[role]
    with as_tenant(world.tenant_id):
        async with sessionmaker() as db:
            return (
                await db.execute(
                    select(func.max(UserSession.last_seen_at)).where(
                        UserSession.tenant_id == world.tenant_id, UserSession.user_id == acct.user_id
                    )
                )
            ).scalar_one()
