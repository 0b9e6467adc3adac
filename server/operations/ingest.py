"""Visit ingest, the rules: idempotent, never a duplicate, never a silent overwrite, acknowledged
after commit.

Used through the group commit of `server/operations/group_commit.py` by `POST /api/sync/push`
(up to 1,000 items) and `POST /api/operations/{id}/visits` (one item): `ingest_group` for a flush
of several requests, `ingest` for one request alone (the retry of a failed flush).
The batch path is set-based: one INSERT … ON CONFLICT DO NOTHING for all valid items, one read
of the ones that already existed (same content hash → duplicate, else conflict), one status
recompute for the touched households, so 1,000 queued visits cost a handful of round trips.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.record import AuditRow, record_many
from server.core import context
from server.core.context import current_tenant
from server.core.problems import item_message
from server.db.base import uuid7
from server.db.engine import restamp
from server.events.emit import emit_many, event_row
from server.operations.models import Escalation, Visit
from server.operations.schemas import ItemResult, ItemStatus, VisitIn, VisitOut
from vocab import ESCALATE, OUTCOMES

NEED_HELP = sorted(ESCALATE)  # the outcomes that ask someone to act (and raise an escalation)


MAX_FUTURE = timedelta(hours=1)  # device clocks drift; a day-ahead timestamp is a broken clock
EARLIEST_DEVICE_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def plausible_device_time(at: datetime) -> bool:
    """A device time with its offset, after 2000 and at most an hour ahead of the server: anything
    else is a broken clock (year 1 with an offset does not even convert to UTC)."""
    if at.tzinfo is None:
        return False
    try:
        return EARLIEST_DEVICE_TIME <= at <= datetime.now(UTC) + MAX_FUTURE
    except OverflowError:
        return False


def content_hash(operation_id: uuid.UUID, v: VisitIn) -> str:
    """Canonical content of a visit: what a retry must repeat exactly."""
    canonical = {
        "operation_id": str(operation_id),
        "household_id": str(v.household_id),
        "outcome": v.outcome,
        "note": v.note or "",
        "device_time": v.device_time.astimezone(UTC).isoformat(timespec="microseconds"),
        "shelter_id": str(v.shelter_id) if v.shelter_id else "",
        "lon": round(v.lon, 7) if v.lon is not None else None,
        "lat": round(v.lat, 7) if v.lat is not None else None,
    }
    if v.shelter_unknown:  # only when set: the hashes of visits stored before it existed stay the same
        canonical["shelter_unknown"] = True
    return hashlib.sha256(msgspec.json.encode(canonical, order="sorted")).hexdigest()


def item_result(
    client_id: uuid.UUID | str | None, status: ItemStatus, code: str | None = None, visit: VisitOut | None = None
) -> ItemResult:
    """One item's answer in a push (and the single route's, through the problem it maps to)."""
    return _result(client_id, status, code, visit)


def _result(
    client_id: uuid.UUID | str | None, status: ItemStatus, code: str | None = None, visit: VisitOut | None = None
) -> ItemResult:
    msg = item_message(code) if code else None
    return ItemResult(
        client_id=str(client_id) if client_id else None, status=status, code=code, message=msg, visit=visit
    )


def _visit_out(row: Any) -> VisitOut:
    return VisitOut(
        id=row.id,
        client_id=row.client_id,
        operation_id=row.operation_id,
        household_id=row.household_id,
        outcome=row.outcome,
        note=row.note,
        shelter_id=row.shelter_id,
        device_time=row.device_time,
        server_time=row.server_time,
        mode=row.mode,
        shelter_unknown=row.shelter_unknown,
    )


@dataclass
class Item:
    index: int
    operation_id: uuid.UUID
    visit: VisitIn
    hash: str = ""
    disaster: bool = False  # the disaster rule decided this household for its recorder (audit mode)


@dataclass
class IngestOutcome:
    results: list[ItemResult]
    escalations: list[Escalation] = field(default_factory=list)
    new_visits: list[VisitOut] = field(default_factory=list)


@dataclass(frozen=True)
class OpInfo:
    """What ingest needs of an operation (read with the access check, in the same statement)."""

    id: uuid.UUID
    status: str
    kind: str
    mode: str
    coordinator_ids: list[uuid.UUID]


_ACCESS = text(
    """
    SELECT t.operation_id, t.household_id,
           coalesce((SELECT w.id FROM watcher w WHERE w.tenant_id = :tenant AND w.user_id = :user)
                    = ANY(t.watcher_ids), false) AS assigned,
           tonari_household_visible(h.tenant_id, h.id, h.district_id, h.location) AS visible,
           -- whether the disaster rule decides this household for this user (the audit's mode)
           tonari_household_disaster_applies(h.tenant_id, h.id, h.location) AS disaster,
           h.district_id,
           o.status AS op_status, o.kind AS op_kind, o.mode AS op_mode, o.coordinator_ids AS op_coordinators
    FROM operation_target t
    JOIN household h ON h.tenant_id = t.tenant_id AND h.id = t.household_id
    JOIN operation o ON o.tenant_id = t.tenant_id AND o.id = t.operation_id
    WHERE t.tenant_id = :tenant AND (t.operation_id, t.household_id) IN (
        SELECT * FROM unnest(CAST(:ops AS uuid[]), CAST(:hhs AS uuid[])))
    """
)

# A household's status is its latest report, "latest" by the device's time clamped to when the
# server received it: a visit cannot have happened after that, and a phone whose clock runs fast
# must not outrank a later report from a correct one (the raw device time stays on the visit). A
# clamped report never replaces a need-help status with a reassuring one: only a report whose time
# can be trusted clears 要救助 (PRODUCT.md §3; the escalation stays either way).
# The target rows are locked first, in one global order: batches touching the same households then
# queue behind each other instead of deadlocking in the UPDATE (whose join order is the planner's).
# The visits' inserts hold key-share locks on the same rows (their foreign key), which a no-key
# update lock does not wait for.
RECOMPUTE = text(
    """
    WITH targets AS MATERIALIZED (
        SELECT t.operation_id, t.household_id FROM operation_target t
        WHERE t.tenant_id = :tenant AND (t.operation_id, t.household_id) IN (
            SELECT * FROM unnest(CAST(:ops AS uuid[]), CAST(:hhs AS uuid[])))
        ORDER BY t.operation_id, t.household_id
        FOR NO KEY UPDATE  -- the UPDATE's own lock: FOR UPDATE would also wait on the visits' FK key-share locks
    ),
    v AS (
        SELECT DISTINCT ON (operation_id, household_id) operation_id, household_id, outcome, id, server_time,
               least(device_time, server_time) AS at, device_time > server_time AS clamped
        FROM visit
        WHERE tenant_id = :tenant AND (operation_id, household_id) IN (SELECT operation_id, household_id FROM targets)
        ORDER BY operation_id, household_id, least(device_time, server_time) DESC, server_time DESC
    )
    UPDATE operation_target t
    SET status = v.outcome, status_visit_id = v.id, status_device_time = v.at,
        status_server_time = v.server_time, first_visit_at = coalesce(t.first_visit_at, v.server_time),
        updated_at = clock_timestamp()
    FROM v
    WHERE t.tenant_id = :tenant AND t.operation_id = v.operation_id AND t.household_id = v.household_id
      -- re-checked on the locked row: a concurrent, later visit that committed first is never regressed
      AND (t.status_device_time IS NULL
           OR (t.status_device_time, t.status_server_time) < (v.at, v.server_time))
      AND NOT (v.clamped AND t.status = ANY(CAST(:need_help AS text[])) AND v.outcome <> ALL(CAST(:need_help AS text[])))
    RETURNING t.operation_id, t.household_id, t.status
    """
)

# Who hears of an escalation, for every district of a flush at once: the district's commissioners
# (their own watcher district, or a scope on it or on an ancestor) and the operation's
# coordinators (or every coordinator when the operation names none). One row per (district, user).
_RECIPIENTS = text(
    """
    SELECT dd.district_id, u.id
    FROM unnest(CAST(:districts AS uuid[])) AS dd(district_id)
    JOIN app_user u ON u.tenant_id = :tenant AND u.is_active AND (
        (u.role = 'commissioner' AND (
            EXISTS (SELECT 1 FROM watcher w WHERE w.tenant_id = u.tenant_id AND w.user_id = u.id
                    AND w.role = 'commissioner' AND w.district_id = dd.district_id)
            OR EXISTS (SELECT 1 FROM user_district_scope s WHERE s.tenant_id = u.tenant_id AND s.user_id = u.id
                       AND s.district_id IN (WITH RECURSIVE up AS (
                           SELECT id, parent_id FROM district WHERE tenant_id = :tenant AND id = dd.district_id
                           UNION SELECT d.id, d.parent_id FROM district d JOIN up ON d.id = up.parent_id
                           WHERE d.tenant_id = :tenant) SELECT id FROM up))))
        OR u.id = ANY(CAST(:coordinators AS uuid[]))
        OR (cardinality(CAST(:coordinators AS uuid[])) = 0 AND u.role = 'coordinator'))
    ORDER BY 1, 2
    """
)


# One statement shape for any number of visits (arrays, not a VALUES list per batch size): one
# prepared statement per connection instead of one per batch size (docs/decisions/0009).
_INSERT_VISITS = text(
    """
    INSERT INTO visit (tenant_id, id, client_id, operation_id, household_id, user_id, mode, outcome, shelter_id,
                       shelter_unknown, note, device_time, content_hash, location)
    SELECT CAST(:tenant AS uuid), v.id, v.client_id, v.operation_id, v.household_id, v.user_id, v.mode, v.outcome,
           v.shelter_id, v.shelter_unknown, v.note, v.device_time, v.content_hash,
           CASE WHEN v.lon IS NOT NULL THEN ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326) END
    FROM unnest(CAST(:ids AS uuid[]), CAST(:client_ids AS uuid[]), CAST(:ops AS uuid[]), CAST(:hhs AS uuid[]),
                CAST(:users AS uuid[]), CAST(:modes AS text[]), CAST(:outcomes AS text[]), CAST(:shelters AS uuid[]),
                CAST(:shelter_unknowns AS boolean[]), CAST(:notes AS text[]), CAST(:device_times AS timestamptz[]),
                CAST(:hashes AS text[]), CAST(:lons AS float8[]), CAST(:lats AS float8[]))
         AS v(id, client_id, operation_id, household_id, user_id, mode, outcome, shelter_id, shelter_unknown, note,
              device_time, content_hash, lon, lat)
    ON CONFLICT (tenant_id, client_id) DO NOTHING
    RETURNING id, client_id, operation_id, household_id, outcome, note, shelter_id, shelter_unknown, device_time,
              server_time, mode, user_id
    """
)


async def my_watcher_id(db: AsyncSession) -> uuid.UUID | None:
    ctx = context.current()
    row = await db.execute(
        text("SELECT id FROM watcher WHERE tenant_id = :t AND user_id = :u"), {"t": ctx.tenant_id, "u": ctx.user_id}
    )
    return row.scalar_one_or_none()


def _parse(raw: list[tuple[uuid.UUID, Any]], results: list[ItemResult | None]) -> list[Item]:
    items: list[Item] = []
    for i, (op_id, body) in enumerate(raw):
        try:
            v = body if isinstance(body, VisitIn) else msgspec.convert(body, VisitIn)
        except (msgspec.ValidationError, TypeError):
            cid = body.get("client_id") if isinstance(body, dict) else None
            results[i] = _result(cid, "invalid", "invalid")
            continue
        if not plausible_device_time(v.device_time):
            results[i] = _result(v.client_id, "invalid", "bad_device_time")
            continue
        items.append(Item(i, op_id, v, content_hash(op_id, v)))
    return items


_SHELTERS = text("SELECT id FROM shelter WHERE tenant_id = :tenant AND id = ANY(CAST(:ids AS uuid[]))")


def _destination_problem(v: VisitIn, shelters: set[uuid.UUID]) -> str | None:
    """避難済 names this tenant's shelter, or says explicitly that nobody knows where they went."""
    if v.shelter_unknown and (v.shelter_id is not None or v.outcome != "evacuated"):
        return "shelter_ambiguous"
    if v.shelter_id is not None and v.shelter_id not in shelters:
        return "unknown_shelter"
    if v.outcome == "evacuated" and v.shelter_id is None and not v.shelter_unknown:
        return "shelter_required"
    return None


async def _check(
    db: AsyncSession,
    items: list[Item],
    ops: dict[uuid.UUID, OpInfo],
    results: list[ItemResult | None],
    districts: dict[uuid.UUID, Any],
) -> list[Item]:
    """The items the current context's user may record (the transaction is stamped for them).
    Fills `ops` with the operations of the targets this user may see."""
    if not items:
        return []
    ctx = context.current()
    role = ctx.role or ""
    access_rows = (
        await db.execute(
            _ACCESS,
            {
                "tenant": ctx.tenant_id,
                "user": ctx.user_id,
                "ops": [it.operation_id for it in items],
                "hhs": [it.visit.household_id for it in items],
            },
        )
    ).all()
    access = {(r.operation_id, r.household_id): r for r in access_rows}
    shelter_ids = sorted({it.visit.shelter_id for it in items if it.visit.shelter_id}, key=str)
    shelters: set[uuid.UUID] = set()
    if shelter_ids:  # one read for the batch: a shelter id must be this tenant's
        shelters = set((await db.execute(_SHELTERS, {"tenant": ctx.tenant_id, "ids": shelter_ids})).scalars())
    for r in access_rows:
        if r.operation_id not in ops:
            ops[r.operation_id] = OpInfo(
                r.operation_id, r.op_status, r.op_kind, r.op_mode, list(r.op_coordinators or [])
            )
    valid: list[Item] = []
    for it in items:
        op = ops.get(it.operation_id)
        a = access.get((it.operation_id, it.visit.household_id))
        if op is None or a is None or not a.visible:  # never reveal a household the user may not see
            results[it.index] = _result(it.visit.client_id, "invalid", "not_in_operation")
        elif op.status != "active":
            results[it.index] = _result(it.visit.client_id, "invalid", "operation_not_active")
        elif it.visit.outcome not in OUTCOMES[op.kind]:
            results[it.index] = _result(it.visit.client_id, "invalid", "invalid_outcome")
        elif (problem := _destination_problem(it.visit, shelters)) is not None:
            results[it.index] = _result(it.visit.client_id, "invalid", problem)
        elif role == "vc_volunteer" or (role == "watcher" and not a.assigned):
            # A watcher records only their own households of the operation, disaster or not: a
            # declaration widens nothing for a watcher outside the operation (PRODUCT.md §3).
            results[it.index] = _result(it.visit.client_id, "forbidden", "not_assigned")
        else:
            districts[it.visit.household_id] = a.district_id  # for escalation routing (seen by this user)
            it.disaster = bool(a.disaster) and role in ("coordinator", "commissioner", "watcher")
            valid.append(it)
    return valid


async def _store(
    db: AsyncSession,
    valid: list[tuple[context.RequestContext, Item]],
    ops: dict[uuid.UUID, OpInfo],
    results: list[ItemResult | None],
) -> dict[uuid.UUID, Any]:
    """One INSERT … ON CONFLICT DO NOTHING for all valid items; fills their results. Returns the new rows."""
    inserted: dict[uuid.UUID, Any] = {}
    if not valid:
        return inserted
    tenant = valid[0][0].tenant_id
    visits = [(ctx, it.visit, it) for ctx, it in valid]
    params = {
        "tenant": tenant,
        # uuid7: time-ordered, so the primary key's btree grows at its right edge
        "ids": [uuid7() for _ in visits],
        "client_ids": [v.client_id for _, v, _ in visits],
        "ops": [it.operation_id for _, _, it in visits],
        "hhs": [v.household_id for _, v, _ in visits],
        "users": [ctx.user_id for ctx, _, _ in visits],
        "modes": [ops[it.operation_id].mode for _, _, it in visits],
        "outcomes": [v.outcome for _, v, _ in visits],
        "shelters": [v.shelter_id for _, v, _ in visits],
        "shelter_unknowns": [v.shelter_unknown for _, v, _ in visits],
        "notes": [v.note for _, v, _ in visits],
        "device_times": [v.device_time for _, v, _ in visits],
        "hashes": [it.hash for _, _, it in visits],
        "lons": [v.lon if v.lon is not None and v.lat is not None else None for _, v, _ in visits],
        "lats": [v.lat if v.lon is not None and v.lat is not None else None for _, v, _ in visits],
    }
    for r in (await db.execute(_INSERT_VISITS, params)).all():
        inserted[r.client_id] = r
    await _audit_writes(db, valid, inserted, ops)
    # Items of this batch that reuse one client id: the first one won; the rest compare below.
    missing = [it.visit.client_id for _, it in valid if it.visit.client_id not in inserted]
    existing = {}
    if missing:
        existing = {
            r.client_id: r
            for r in (
                await db.execute(select(Visit).where(Visit.tenant_id == tenant, Visit.client_id.in_(missing)))
            ).scalars()
        }
    # The stored truth per client id: an earlier visit, or the first item of this batch.
    stored: dict[uuid.UUID, tuple[str, Any]] = {c: (r.content_hash, r) for c, r in existing.items()}
    for _, it in valid:
        cid = it.visit.client_id
        if cid in inserted and cid not in stored:
            stored[cid] = (it.hash, inserted[cid])
            results[it.index] = _result(cid, "accepted", visit=_visit_out(inserted[cid]))
            continue
        digest, original = stored.get(cid, ("", None))
        if original is not None and digest == it.hash:
            results[it.index] = _result(cid, "duplicate", visit=_visit_out(original))
        else:
            results[it.index] = _result(cid, "conflict", "visit_conflict")
    return inserted


async def _audit_writes(
    db: AsyncSession,
    valid: list[tuple[context.RequestContext, Item]],
    inserted: dict[uuid.UUID, Any],
    ops: dict[uuid.UUID, OpInfo],
) -> None:
    """The new visits' write audit: one row per (request, operation, mode), all in one INSERT in the
    visits' own transaction (a visit and its audit row commit together)."""
    groups: dict[tuple[context.RequestContext, uuid.UUID, str], list[Any]] = {}
    written: set[uuid.UUID] = set()
    for c, it in valid:  # in insert order: a client id repeated in the batch was written by its first item
        row = inserted.get(it.visit.client_id)
        if row is None or row.id in written:  # a repeat of a stored visit writes nothing
            continue
        written.add(row.id)
        mode = "disaster" if it.disaster else "drill" if ops[it.operation_id].mode == "drill" else "normal"
        groups.setdefault((c, it.operation_id, mode), []).append(row)
    await record_many(
        db,
        [
            AuditRow(
                action="visit.create",
                object_type="visit",
                object_ids=[r.id for r in rows],
                mode=mode,
                operation_id=op_id,
                details={"household_ids": sorted({str(r.household_id) for r in rows}), "count": len(rows)},
                context=c,
            )
            for (c, op_id, mode), rows in groups.items()
        ],
    )


async def ingest(db: AsyncSession, raw: list[tuple[uuid.UUID, Any]], *, commit: bool = True) -> IngestOutcome:
    """`raw` is [(operation_id, VisitIn | dict)] of the current user. Returns one result per item,
    in order. Commits, unless `commit=False` (a drill inject records its visit in the transaction
    that marks the inject fired)."""
    ctx = context.current()
    results: list[ItemResult | None] = [None] * len(raw)
    items = _parse(raw, results)
    ops: dict[uuid.UUID, OpInfo] = {}
    districts: dict[uuid.UUID, Any] = {}
    valid = await _check(db, items, ops, results, districts)
    inserted = await _store(db, [(ctx, it) for it in valid], ops, results)
    outcome = IngestOutcome(results=[r for r in results if r is not None])
    new = list(inserted.values())
    if new:
        await _after_insert(db, new, ops, outcome, districts)
    if commit:
        await db.commit()  # acknowledged only after this
    return outcome


async def ingest_group(
    db: AsyncSession, entries: list[tuple[context.RequestContext, uuid.UUID, Any]], *, commit: bool = True
) -> list[IngestOutcome]:
    """Group commit: the visits of several requests (one tenant; any users) in ONE transaction.
    An entry's visit is a `VisitIn` or a push's raw item (judged alone, as `ingest` does).

    Each user's items are checked under that user's own stamp (visibility, assignment); then one
    INSERT, one status recompute, one event insert and one COMMIT for all of them. Returns one
    outcome per entry, exactly as `ingest(db, [entry])` would have answered it alone — except that
    a client id repeated within the group answers like a concurrent retry (first 201, the rest
    200 or 409). The caller sets the context to the first entry's before the first statement.
    Commits, unless `commit=False` (a drill's batch of bot visits commits with the steps' marks).
    """
    results: list[ItemResult | None] = [None] * len(entries)
    items = _parse([(op, v) for _, op, v in entries], results)
    ops: dict[uuid.UUID, OpInfo] = {}
    by_user: dict[tuple[Any, ...], list[Item]] = {}
    for it in items:
        c = entries[it.index][0]
        by_user.setdefault((c.user_id, c.role, c.scope), []).append(it)
    districts: dict[uuid.UUID, Any] = {}
    valid: list[tuple[context.RequestContext, Item]] = []
    stamped = context.current()  # what the transaction was stamped with when it began
    for user_items in by_user.values():
        c = entries[user_items[0].index][0]
        context.set_context(c)
        if (c.tenant_id, c.user_id, c.role, c.scope) != (
            stamped.tenant_id,
            stamped.user_id,
            stamped.role,
            stamped.scope,
        ):
            await restamp(db)
            stamped = c
        valid.extend((c, it) for it in await _check(db, user_items, ops, results, districts))
    inserted = await _store(db, valid, ops, results)
    answered = [r for r in results if r is not None]
    assert len(answered) == len(results)  # every item has its answer by now
    outcomes = [IngestOutcome(results=[r]) for r in answered]
    new = list(inserted.values())
    if new:
        merged = IngestOutcome(results=[])
        await _after_insert(db, new, ops, merged, districts)
        index_of: dict[uuid.UUID, int] = {}
        for _, it in valid:  # a client id repeated in the group was written by its first item
            if it.visit.client_id in inserted:
                index_of.setdefault(it.visit.client_id, it.index)
        by_visit = {v.id: index_of[v.client_id] for v in new}
        for v in merged.new_visits:
            outcomes[by_visit[v.id]].new_visits.append(v)
        for e in merged.escalations:
            outcomes[by_visit[e.visit_id]].escalations.append(e)
    if commit:
        await db.commit()  # every request of the group is acknowledged only after this
    return outcomes


async def _after_insert(
    db: AsyncSession, new: list[Any], ops: dict[uuid.UUID, OpInfo], out: IngestOutcome, districts: dict[uuid.UUID, Any]
) -> None:
    tenant = current_tenant()
    pairs = list({(v.operation_id, v.household_id) for v in new})
    changed = (
        await db.execute(
            RECOMPUTE,
            {"tenant": tenant, "ops": [p[0] for p in pairs], "hhs": [p[1] for p in pairs], "need_help": NEED_HELP},
        )
    ).all()
    events = []
    for v in new:
        out.new_visits.append(_visit_out(v))
        events.append(
            event_row(
                "visit.recorded",
                {"visit_id": str(v.id), "outcome": v.outcome, "device_time": v.device_time.isoformat()},
                operation_id=v.operation_id,
                household_id=v.household_id,
                mode=v.mode,
            )
        )
    for c in changed:
        events.append(
            event_row(
                "target.status",
                {"status": c.status},
                operation_id=c.operation_id,
                household_id=c.household_id,
                mode=ops[c.operation_id].mode,
            )
        )
    await emit_many(db, events)
    urgent = [v for v in new if v.outcome in ESCALATE]
    if not urgent:
        return
    # All escalations of the batch: one recipients query per operation (usually one), one INSERT.
    recipients: dict[tuple[uuid.UUID, Any], list[uuid.UUID]] = {}
    for op_id in {v.operation_id for v in urgent}:
        wanted = sorted({districts.get(v.household_id) for v in urgent if v.operation_id == op_id}, key=str)
        for op_district in wanted:
            recipients[(op_id, op_district)] = []
        for district_id, user_id in await db.execute(
            _RECIPIENTS, {"tenant": tenant, "districts": wanted, "coordinators": list(ops[op_id].coordinator_ids)}
        ):
            recipients[(op_id, district_id)].append(user_id)
    escalations = []
    for v in urgent:
        audience = recipients[(v.operation_id, districts.get(v.household_id))]
        esc = Escalation(
            tenant_id=tenant,
            id=uuid.uuid4(),
            operation_id=v.operation_id,
            household_id=v.household_id,
            visit_id=v.id,
            mode=v.mode,
            level=ESCALATE[v.outcome],
            outcome=v.outcome,
            recipient_ids=list(audience),
            raised_by=v.user_id,
        )
        escalations.append(esc)
        out.escalations.append(esc)
    db.add_all(escalations)
    await db.flush()
    await emit_many(
        db,
        [
            event_row(
                "escalation.created",
                {
                    "escalation_id": str(e.id),
                    "household_id": str(e.household_id),
                    "level": e.level,
                    "outcome": e.outcome,
                },
                operation_id=e.operation_id,
                household_id=e.household_id,
                mode=e.mode,
                audience=e.recipient_ids,
            )
            for e in escalations
        ],
    )
    await _push_escalations(db, tenant, escalations)


async def _push_escalations(db: AsyncSession, tenant: uuid.UUID, escalations: list[Escalation]) -> None:
    """Web Push to each escalation's recipients, in the transaction that raises it (durable, one
    delivery per device and escalation). No personal data: the app shows who and where."""
    from server.push import Notification, PushMessage, enqueue_push

    await enqueue_push(
        db,
        tenant_id=tenant,
        notifications=[
            Notification(
                user_ids=list(e.recipient_ids),
                key=f"esc-{e.id}",
                drill=e.mode == "drill",
                message=PushMessage(
                    title="至急の報告があります" if e.level == "urgent" else "連絡が必要な報告があります",
                    body="活動の報告を確認してください。",
                    url=f"/operations/{e.operation_id}/escalations/{e.id}",
                    tag=f"esc-{e.id}",
                    kind="escalation",
                    urgency="high" if e.level == "urgent" else "normal",
                ),
            )
            for e in escalations
        ],
    )
