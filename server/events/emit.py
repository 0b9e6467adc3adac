"""Write events in the caller's transaction; wake live listeners after that transaction commits.

The event rows are the truth and commit (or roll back) with the change. The wake-up is not sent
from inside the transaction: a NOTIFY in a transaction takes a database-wide lock at commit and
cost the ingest path 20–30 % of the database's rate (bench/HISTORY.md). Instead the session notes
the tenant, and after COMMIT the app's EventHub wakes this process's streams at once and sends
one coalesced NOTIFY per tenant (other workers) from its own connection. Without a hub (scripts,
the seed) the old in-transaction pg_notify is used.
"""

from __future__ import annotations

import json
import uuid
import weakref
from typing import Any, Protocol

from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from server.core import context
from server.events.models import Event

CHANNEL = "tonari_events"
_PENDING = "tonari_notify_tenants"
_ROWS = "tonari_event_rows"


class Notifier(Protocol):
    def notify_after_commit(self, tenant: str) -> None: ...


_notifiers: weakref.WeakKeyDictionary[Engine, Notifier] = weakref.WeakKeyDictionary()


def register_notifier(engine: AsyncEngine, notifier: Notifier) -> None:
    """Sessions on `engine` hand their committed tenants to `notifier` (the app's EventHub)."""
    _notifiers[engine.sync_engine] = notifier


def _notifier_for(session: Session) -> Notifier | None:
    try:
        bind = session.get_bind()
    except Exception:  # noqa: BLE001 (an unbound session has no hub)
        return None
    return _notifiers.get(bind) if isinstance(bind, Engine) else None


_LOCKED_INSERT = text(
    """
    WITH lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtextextended('tonari_events:' || :t, 0)))
    INSERT INTO event (tenant_id, kind, payload, operation_id, household_id, mode, audience)
    SELECT CAST(:t AS uuid), r.kind, coalesce(r.payload, '{}'), r.operation_id, r.household_id, r.mode,
           CASE WHEN jsonb_typeof(r.audience) = 'array' THEN r.audience END
    FROM lock, ROWS FROM (jsonb_to_recordset(CAST(:rows AS jsonb))
         AS (kind text, payload jsonb, operation_id uuid, household_id uuid, mode text, audience jsonb))
         WITH ORDINALITY AS r(kind, payload, operation_id, household_id, mode, audience, n)
    ORDER BY r.n
    """
)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


@event.listens_for(Session, "before_commit")
def _write_events_in_commit_order(session: Session) -> None:
    """Insert the transaction's events as its last statement, under a per-tenant lock held to COMMIT.

    Readers follow `id > last_event_id`. Ids come from a sequence, so without this two
    transactions could commit out of id order; a stream that saw the higher id first would skip
    the lower one for ever, even after resuming. Serialising "take ids → commit" per tenant makes
    ids commit in order within a tenant (streams never cross tenants). The lock is taken here, at
    the very end, so it is held only for one INSERT and the COMMIT, and never while this
    transaction waits for a row lock (no deadlock with other writers).
    """
    rows = session.info.pop(_ROWS, None)
    if not rows:
        return
    tenants = sorted({str(r["tenant_id"]) for r in rows})
    if len(tenants) == 1:
        # One round trip: every row of the INSERT is joined to the lock's row, so the lock is
        # taken before the first id is drawn.
        session.execute(
            _LOCKED_INSERT,
            {
                "t": tenants[0],
                "rows": json.dumps(
                    [
                        {
                            "kind": r["kind"],
                            "payload": r["payload"],
                            "operation_id": _str(r["operation_id"]),
                            "household_id": _str(r["household_id"]),
                            "mode": r["mode"],
                            "audience": r["audience"],
                        }
                        for r in rows
                    ],
                    ensure_ascii=False,
                    default=str,
                ),
            },
        )
    else:
        for tenant in tenants:  # sorted: two multi-tenant transactions cannot deadlock on these
            session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended('tonari_events:' || :t, 0))"), {"t": tenant}
            )
        session.execute(insert(Event), rows)
    if _notifier_for(session) is not None:
        session.info.setdefault(_PENDING, set()).update(tenants)
        return
    for tenant in tenants:  # no hub (scripts, the seed): wake listeners in the transaction
        session.execute(text("SELECT pg_notify(:c, :t)"), {"c": CHANNEL, "t": tenant})


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    tenants = session.info.pop(_PENDING, None)
    if not tenants:
        return
    notifier = _notifier_for(session)
    if notifier is not None:
        for tenant in tenants:
            notifier.notify_after_commit(tenant)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)  # nothing was committed: nobody to wake
    session.info.pop(_ROWS, None)  # and the events of the change went with it


def event_row(
    kind: str,
    payload: dict[str, Any],
    *,
    operation_id: uuid.UUID | None = None,
    household_id: uuid.UUID | None = None,
    mode: str | None = None,
    audience: list[uuid.UUID] | None = None,
) -> dict[str, Any]:
    return {
        "tenant_id": context.current().tenant_id,
        "kind": kind,
        "payload": payload,
        "operation_id": operation_id,
        "household_id": household_id,
        "mode": mode,
        "audience": [str(a) for a in audience] if audience else None,
    }


async def emit_many(db: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Queue events for this transaction: they are inserted in one statement at COMMIT (see
    `_write_events_in_commit_order`), with one wake-up per tenant after it. A rollback drops them."""
    if not rows:
        return
    db.info.setdefault(_ROWS, []).extend(rows)


async def emit(
    db: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    operation_id: uuid.UUID | None = None,
    household_id: uuid.UUID | None = None,
    mode: str | None = None,
    audience: list[uuid.UUID] | None = None,
) -> None:
    await emit_many(
        db,
        [event_row(kind, payload, operation_id=operation_id, household_id=household_id, mode=mode, audience=audience)],
    )
