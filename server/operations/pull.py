"""`GET /api/sync/pull`: what changed for this device since its cursor, in pages, never skipping a commit.

The cursor is a position in the event table, whose ids commit in order within a tenant
(server/events/emit.py): every change a device must hear of writes an event in the same
transaction (a visit, a status, an operation started or closed, a household edited). A pull
reads the newest event id *first* and the current rows after, so whatever committed up to that id
is in the rows it sends; whatever commits later has a later id and comes with the next pull (it
may come twice: devices upsert). Decision 0006, addendum #16.

- No cursor (or one from before this scheme): a snapshot of the device's active operations, paged
  by (operation, household), then the events since the snapshot began.
- `e<id>`: the events after that id, at most `EVENTS_PER_PAGE` of them per pull.
- `s<id>:<operation>:<household>`: the next snapshot page.
`more` says another pull would bring more now.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from server.core import context
from server.core.problems import Problem
from server.operations.access import operation_readable
from server.operations.ingest import my_watcher_id
from server.operations.models import Operation, OperationTarget
from server.registry.disclosure import household_visible
from server.registry.models import Household

ASSIGNMENTS_PER_PAGE = 1000
EVENTS_PER_PAGE = 5000
# Events that tell a device something changed in its operations' targets or households.
_TOUCHING = ("visit.recorded", "target.status", "operation.started", "operation.closed", "household.updated")

_SNAPSHOT = re.compile(r"^s(\d{1,19}):([0-9a-f-]{36}):([0-9a-f-]{36})$")
_DELTA = re.compile(r"^e(\d{1,19})$")

_NEWEST = text("SELECT coalesce(max(id), 0) FROM event WHERE tenant_id = :t")
_EVENTS = text(
    """
    SELECT id, kind, operation_id, household_id FROM event
    WHERE tenant_id = :t AND id > :after AND id <= :upto AND kind = ANY(CAST(:kinds AS text[]))
    ORDER BY id LIMIT :limit
    """
)


@dataclass(frozen=True)
class Cursor:
    """Where a device is: the event id its state is complete up to, and (while a snapshot is paged)
    the last (operation, household) key it has."""

    event_id: int
    after_key: tuple[uuid.UUID, uuid.UUID] | None = None

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        """None starts over: no cursor, or a time cursor of a device from before event cursors."""
        if not value:
            return None
        if m := _DELTA.match(value):
            return cls(int(m.group(1)))
        if m := _SNAPSHOT.match(value):
            try:
                return cls(int(m.group(1)), (uuid.UUID(m.group(2)), uuid.UUID(m.group(3))))
            except ValueError:
                pass
        else:
            try:
                datetime.fromisoformat(value)
                return None
            except ValueError:
                pass
        raise Problem(
            "bad_request",
            detail_ja="カーソルが正しくありません。前回の応答の cursor をそのまま送ってください。",
            detail_en="Bad cursor: send back the cursor of the previous answer as it was.",
        )

    def __str__(self) -> str:
        if self.after_key is None:
            return f"e{self.event_id}"
        return f"s{self.event_id}:{self.after_key[0]}:{self.after_key[1]}"


@dataclass
class PullPage:
    cursor: Cursor
    more: bool
    operations: list[Operation]
    rows: list[tuple[OperationTarget, Household, str]]  # (target, household, operation mode)


async def _targets(
    db: AsyncSession, where: Any, limit: int | None = None
) -> list[tuple[OperationTarget, Household, str]]:
    """This viewer's targets of active operations it may read, matching `where`, in key order."""
    ctx = context.current()
    readable = [o.id for o in await _operations(db, Operation.status == "active")]
    q = (
        select(OperationTarget, Household, Operation.mode)
        .join(
            Household,
            (Household.tenant_id == OperationTarget.tenant_id) & (Household.id == OperationTarget.household_id),
        )
        .join(
            Operation,
            (Operation.tenant_id == OperationTarget.tenant_id) & (Operation.id == OperationTarget.operation_id),
        )
        .where(
            OperationTarget.tenant_id == ctx.tenant_id,
            OperationTarget.operation_id.in_(readable),
            where,
            household_visible(),
        )
        .order_by(OperationTarget.operation_id, OperationTarget.household_id)
    )
    if ctx.role == "watcher":
        watcher_id = await my_watcher_id(db)
        q = q.where(OperationTarget.watcher_ids.contains([watcher_id]) if watcher_id else text("false"))
    if limit is not None:
        q = q.limit(limit)
    return [(t, h, mode) for t, h, mode in (await db.execute(q)).all()]


async def _operations(db: AsyncSession, where: Any) -> list[Operation]:
    ctx = context.current()
    return list(
        (
            await db.execute(
                select(Operation)
                .where(Operation.tenant_id == ctx.tenant_id, where, await operation_readable(db))
                .order_by(Operation.id)
            )
        ).scalars()
    )


async def pull_page(db: AsyncSession, cursor: Cursor | None) -> PullPage:
    ctx = context.current()
    newest = int((await db.execute(_NEWEST, {"t": ctx.tenant_id})).scalar_one())  # before any row is read
    if cursor is not None and cursor.event_id > newest:  # not a cursor this database gave out: start over
        cursor = None
    if cursor is None or cursor.after_key is not None:  # a snapshot page
        since = newest if cursor is None else cursor.event_id
        after = (
            tuple_(OperationTarget.operation_id, OperationTarget.household_id) > tuple_(*cursor.after_key)
            if cursor is not None and cursor.after_key is not None
            else and_(True)
        )
        rows = await _targets(db, after, ASSIGNMENTS_PER_PAGE + 1)
        more = len(rows) > ASSIGNMENTS_PER_PAGE
        rows = rows[:ASSIGNMENTS_PER_PAGE]
        ops = await _operations(db, Operation.status == "active") if cursor is None else []
        if more:
            last = rows[-1][0]
            return PullPage(Cursor(since, (last.operation_id, last.household_id)), True, ops, rows)
        # The snapshot is complete as of `since`: what changed after it comes as events.
        return PullPage(Cursor(since), since < newest, ops, rows)
    events = (
        await db.execute(
            _EVENTS,
            {
                "t": ctx.tenant_id,
                "after": cursor.event_id,
                "upto": newest,
                "kinds": list(_TOUCHING),
                "limit": EVENTS_PER_PAGE,
            },
        )
    ).all()
    complete = len(events) < EVENTS_PER_PAGE  # every touching event up to `newest` is in this page
    upto = newest if complete else events[-1].id
    pairs = {(e.operation_id, e.household_id) for e in events if e.operation_id and e.household_id}
    started = {e.operation_id for e in events if e.kind == "operation.started"}
    edited = {e.household_id for e in events if e.kind == "household.updated" and e.household_id}
    op_ids = {e.operation_id for e in events if e.operation_id}
    key = tuple_(OperationTarget.operation_id, OperationTarget.household_id)
    clauses = [
        *([key.in_(sorted(pairs))] if pairs else []),
        *([OperationTarget.operation_id.in_(sorted(started))] if started else []),
        *([OperationTarget.household_id.in_(sorted(edited))] if edited else []),
    ]
    rows = await _targets(db, or_(*clauses)) if clauses else []
    ops = await _operations(db, Operation.id.in_(sorted(op_ids))) if op_ids else []
    return PullPage(Cursor(upto), not complete, ops, rows)
