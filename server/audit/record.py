"""The one helper every audited action goes through (logins, personal-data reads and writes…).

It appends the row in the caller's transaction, so an audited write and its audit row commit or
roll back together; callers that must keep the row even on failure commit it themselves. The
app's database role cannot write `audit_log` itself: the row goes through
`tonari_audit_append()`, which takes the tenant and actor from the transaction's stamp
(migration 0013, decision 0004).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from server.core import context

_APPEND = text(
    "SELECT tonari_audit_append(p_action => :action, p_object_type => :object_type, p_object_ids => :object_ids,"
    " p_mode => :mode, p_operation_id => :operation_id, p_details => :details, p_request_id => :request_id,"
    " p_client_addr => CAST(:client_addr AS inet), p_tenant_id => :tenant_id, p_actor_user_id => :actor_user_id,"
    " p_actor_login => :actor_login)"
).bindparams(
    bindparam("object_ids", type_=ARRAY(Text)),
    bindparam("details", type_=JSONB),
    bindparam("operation_id", type_=UUID(as_uuid=True)),
    bindparam("tenant_id", type_=UUID(as_uuid=True)),
    bindparam("actor_user_id", type_=UUID(as_uuid=True)),
)


async def record(
    db: AsyncSession,
    action: str,
    *,
    object_type: str | None = None,
    object_ids: Iterable[object] = (),
    mode: str = "normal",
    operation_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    tenant_id: uuid.UUID | None = None,
    actor_user_id: uuid.UUID | None = None,
    actor_login: str | None = None,
) -> int:
    """Append one audit row; returns its id. `tenant_id` and `actor_user_id` may only repeat (or,
    before anyone is signed in, supply) what the transaction is stamped with."""
    ctx = context.current()
    tenant = tenant_id or ctx.tenant_id
    if tenant is None:
        raise RuntimeError("audit.record needs a tenant: set the request context or pass tenant_id")
    result = await db.execute(
        _APPEND,
        {
            "action": action,
            "object_type": object_type,
            "object_ids": [str(i) for i in object_ids],
            "mode": mode,
            "operation_id": operation_id,
            "details": details or {},
            "request_id": ctx.request_id or None,
            "client_addr": ctx.client_addr,
            "tenant_id": tenant,
            "actor_user_id": actor_user_id or ctx.user_id,
            "actor_login": actor_login or ctx.user_login,
        },
    )
    return int(result.scalar_one())


@dataclass(frozen=True)
class AuditRow:
    """One row for `record_many`; `context` is the request it is written for (actor, request id)."""

    action: str
    context: context.RequestContext
    object_type: str | None = None
    object_ids: Sequence[object] = ()
    mode: str = "normal"
    operation_id: uuid.UUID | None = None
    details: dict[str, Any] = field(default_factory=dict)


# One statement for any number of rows: each through tonari_audit_append(), its actor the row's
# own (a group commit's rows belong to several users of the transaction's tenant).
_APPEND_MANY = text(
    "SELECT count(tonari_audit_append(p_action => r.action, p_object_type => r.object_type,"
    " p_object_ids => ARRAY(SELECT jsonb_array_elements_text(r.object_ids)), p_mode => r.mode,"
    " p_operation_id => r.operation_id, p_details => r.details, p_request_id => r.request_id,"
    " p_client_addr => r.client_addr, p_actor_user_id => r.actor_user_id, p_actor_login => r.actor_login))"
    " FROM jsonb_to_recordset(:rows) AS r(action text, object_type text, object_ids jsonb, mode text,"
    " operation_id uuid, details jsonb, request_id text, client_addr inet, actor_user_id uuid, actor_login text)"
).bindparams(bindparam("rows", type_=JSONB))


async def record_many(db: AsyncSession, rows: Sequence[AuditRow]) -> None:
    """Several rows, of several requests of the transaction's tenant, in one statement in the
    caller's transaction (the visit group commit writes one per request it commits)."""
    if not rows:
        return
    await db.execute(
        _APPEND_MANY,
        {
            "rows": [
                {
                    "action": r.action,
                    "object_type": r.object_type,
                    "object_ids": [str(i) for i in r.object_ids],
                    "mode": r.mode,
                    "operation_id": str(r.operation_id) if r.operation_id else None,
                    "details": r.details,
                    "request_id": r.context.request_id or None,
                    "client_addr": r.context.client_addr,
                    "actor_user_id": str(r.context.user_id) if r.context.user_id else None,
                    "actor_login": r.context.user_login,
                }
                for r in rows
            ]
        },
    )
