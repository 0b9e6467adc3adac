"""Engine, session factory, and the hook that stamps each transaction with the tenant.

Row-level security policies read `tonari.tenant_id`, `tonari.user_id`, `tonari.role` and
`tonari.scope` (see server/registry/disclosure_sql.py); `SET LOCAL` semantics
(set_config(..., true)) scope them to one transaction, so a pooled connection never carries
one request's tenant into the next.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from server.core import context

# Set in `Session.info` while the auth middleware's `tonari_authenticate()` call opens the
# transaction: that call stamps all four GUCs itself, so the generic stamp would be a wasted
# round trip.
AUTH_PENDING = "tonari_auth_pending"

STAMP = text(
    "SELECT set_config('tonari.tenant_id', :tenant, true), set_config('tonari.user_id', :user, true),"
    " set_config('tonari.role', :role, true), set_config('tonari.scope', :scope, true)"
)


def stamp_params(ctx: context.RequestContext) -> dict[str, str]:
    return {
        "tenant": str(ctx.tenant_id) if ctx.tenant_id else "",
        "user": str(ctx.user_id) if ctx.user_id else "",
        "role": ctx.role or "",
        # An empty scope set means "no district at all" (sees nothing), not "everything".
        "scope": ""
        if ctx.scope is None
        else (",".join(sorted(map(str, ctx.scope))) or "00000000-0000-0000-0000-000000000000"),
    }


@event.listens_for(Session, "after_begin")
def _stamp_tenant(session: Session, transaction: object, connection: Connection) -> None:
    if session.info.get(AUTH_PENDING):
        return
    connection.execute(STAMP, stamp_params(context.current()))


async def restamp(db: AsyncSession) -> None:
    """Re-stamp the open transaction with the current context (group commit: several users'
    checks in one transaction, each under its own user, role and scope)."""
    await db.execute(STAMP, stamp_params(context.current()))


def driver_dsn(database_url: str) -> str:
    """The app's SQLAlchemy URL as a DSN for asyncpg itself (LISTEN/NOTIFY, the driver pool)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def session_settings(application_name: str) -> dict[str, str]:
    """Every request connection's session settings (the ORM engines and the driver pool alike).
    JIT compiles whole-tenant policy queries for 0.3–1 s and never pays that back here."""
    return {"application_name": application_name, "timezone": "UTC", "jit": "off"}


def make_engine(
    url: str, pool_size: int = 20, application_name: str = "tonari", pool_timeout: float = 30.0
) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        # No overflow: an overflow connection is closed again when it is returned, so under load
        # every request beyond the pool paid a fresh connect (decision 0009). Requests beyond the
        # pool wait for a connection instead, at most `pool_timeout` (then 503 database_busy).
        max_overflow=0,
        pool_timeout=pool_timeout,
        # No pre-ping (a round trip per checkout): the auth middleware's first statement retries
        # once on a connection the server dropped, and the visit batcher retries its visits one
        # by one; SQLAlchemy invalidates the dead connection either way.
        pool_pre_ping=False,
        connect_args={"server_settings": session_settings(application_name)},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
