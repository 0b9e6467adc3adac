"""Engine, session factory, and the hook that stamps each transaction with the tenant.

Row-level security policies read `tonari.tenant_id`, `tonari.user_id`, `tonari.role` and
`tonari.scope` (see server/registry/disclosure_sql.py); `SET LOCAL` semantics
(set_config(..., true)) scope them to one transaction, so a pooled connection never carries
one request's tenant into the next.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from server.core import context

_STAMP = text(
    "SELECT set_config('tonari.tenant_id', :tenant, true), set_config('tonari.user_id', :user, true),"
    " set_config('tonari.role', :role, true), set_config('tonari.scope', :scope, true)"
)


@event.listens_for(Session, "after_begin")
def _stamp_tenant(session: Session, transaction: object, connection: object) -> None:
    ctx = context.current()
    connection.execute(  # type: ignore[attr-defined]
        _STAMP,
        {
            "tenant": str(ctx.tenant_id) if ctx.tenant_id else "",
            "user": str(ctx.user_id) if ctx.user_id else "",
            "role": ctx.role or "",
            # An empty scope set means "no district at all" (sees nothing), not "everything".
            "scope": "" if ctx.scope is None else (",".join(sorted(map(str, ctx.scope))) or "00000000-0000-0000-0000-000000000000"),
        },
    )


def make_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # JIT compiles whole-tenant policy queries for 0.3–1 s and never pays that back here.
        connect_args={"server_settings": {"application_name": "tonari", "timezone": "UTC", "jit": "off"}},
    )


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
