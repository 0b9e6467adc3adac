"""`/api/console`: what the coordinators' live map needs beyond the operations API.

- `summary`: per-district counts by derived status and the latest event id, so the
  console loads its state and then follows `GET /api/events?last_event_id=` without a gap.
- `history`: cumulative confirmations per district over time (the progress chart).
- `timeline`: the operation's events, newest first, filtered exactly like the SSE stream.
- `escalations` with their current assignee, and `assign` (escalations had acknowledge/resolve only).
- `households`: ids of the operation's households matching a support reason / hazard kind, for the
  map filter (support reasons are need-to-know: only viewers who may see them get matches).

Everything goes through the disclosure rule (`tonari_sees_all()` / `tonari_household_visible`).
Counts are not audited (like coverage numbers); anything that returns household ids is, as
`household.read` with `via`.

Assignment is event-sourced: an `escalation.assigned` event (durable, append-only, also the live
feed's message) records who assigned whom; the latest one per escalation is the current assignee.
The assignee joins the escalation's recipients so that they can see, acknowledge and resolve it.
No schema change was needed for that.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import text

from server.audit.record import record as audit
from server.core import context
from server.core.guards import roles
from server.core.problems import FieldError, Problem
from server.core.types import INT64_MAX, Note
from server.db.deps import DbSession
from server.events.emit import emit
from server.operations import service
from server.operations.contacts import household_contacts
from server.operations.models import Escalation
from server.operations.schemas import ContactPerson
from server.registry import disclosure
from server.registry.disclosure_sql import household_rule
from vocab import HAZARD_ZONE_KINDS, SUPPORT_REASONS

COORDINATION = roles("admin", "staff", "coordinator", "commissioner")
ASSIGNABLE_ROLES = ("admin", "staff", "coordinator", "commissioner")
# Outcomes that count as "confirmed" (someone reached the household); the rest are not yet.
NOT_CONFIRMED = ("unreached", "away", "unknown")
STATUSES = (
    "unreached",
    "late",
    "overdue",
    "safe",
    "injured",
    "rescue",
    "evacuated",
    "unknown",
    "ok",
    "away",
    "contact",
    "emergency",
)
# Derived from the clock, not from visits: a target nobody has reported on ('unreached') is 'late'
# once the operation's first-report target has passed and 'overdue' once its completion target has.
NOT_REPORTED = ("late", "overdue")
MAX_BUCKETS = 96

# The disclosure rule in its per-statement form (as server/maps/tiles/sql.py uses it): the viewer's settings
# and the disaster area are InitPlans evaluated once per statement, the consent/assignment checks
# inline EXISTS, so a coordinator's summary over 100,000 targets makes no SQL-function call per
# household. Same rule as tonari_household_visible() (one text, two renderings, disclosure_sql.py);
# RLS on household applies it too.
_VISIBLE = (
    "("
    + household_rule("h.tenant_id", "h.id", "h.district_id", "h.location", per_statement=True, consent_columns="h.")
    + ")"
)


class DistrictSummary(msgspec.Struct):
    district_id: uuid.UUID | None
    name: str
    total: int
    confirmed: int
    overdue: int
    need_help: int
    time_to_first_report_s: int | None
    statuses: dict[str, int]
    late: int = 0  # no report yet, past the first-report target (and not yet overdue)


class Summary(msgspec.Struct):
    operation: Any
    latest_event_id: int
    overdue_at: datetime | None
    districts: list[DistrictSummary]
    statuses: dict[str, int]
    late_at: datetime | None = None  # started + first_report_minutes: unreached targets turn 'late' then


class ConsoleEscalation(msgspec.Struct):
    id: uuid.UUID
    operation_id: uuid.UUID
    household_id: uuid.UUID
    level: str
    outcome: str
    status: str
    mode: str
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    notes: str | None
    assigned_to: uuid.UUID | None
    assigned_to_name: str | None
    # Who it is about, where the viewer may see it (server/operations/contacts.py).
    address: str | None = None
    people: list[ContactPerson] = msgspec.field(default_factory=list)


class AssignIn(msgspec.Struct, forbid_unknown_fields=True):
    user_id: uuid.UUID
    note: Note | None = None


class Assignee(msgspec.Struct):
    id: uuid.UUID
    display_name: str
    role: str


# The visible households are read once into `v` (MATERIALIZED: PostgreSQL cannot estimate the
# disclosure rule's selectivity, and with it inline it expected a handful of households and probed
# operation_target 100,000 times in a nested loop), joined to the operation's targets and counted
# per (district, stored status); only the ~2,000 groups are then named and given 'overdue' (the
# same test for every unreached target of the operation, so it maps groups one to one; the
# district join was a nested loop of 100,000 × 632 comparisons).
_SUMMARY_SQL = f"""
    WITH v AS MATERIALIZED (
        SELECT h.id, h.district_id FROM household h WHERE h.tenant_id = :t AND {_VISIBLE} {{scope}}
    ),
    c AS (
        SELECT v.district_id, t.status, count(*) AS n, min(t.first_visit_at) AS first_visit_at
        FROM operation_target t JOIN v ON v.id = t.household_id
        WHERE t.tenant_id = :t AND t.operation_id = :o
        GROUP BY 1, 2
    )
    SELECT c.district_id, d.name AS district_name,
           CASE WHEN c.status <> 'unreached' THEN c.status
                WHEN now() > o.started_at + make_interval(mins => o.completion_minutes) THEN 'overdue'
                WHEN now() > o.started_at + make_interval(mins => o.first_report_minutes) THEN 'late'
                ELSE c.status END AS status,
           c.n, c.first_visit_at - o.started_at AS first_report
    FROM c
    JOIN operation o ON o.tenant_id = :t AND o.id = :o
    LEFT JOIN district d ON d.tenant_id = :t AND d.id = c.district_id
    """
_SUMMARY = text(_SUMMARY_SQL.format(scope=""))
# For a viewer limited to districts (not a registry keeper): the same rows, with the district scope
# the rule already requires also as an index condition, so PostgreSQL plans for the few thousand
# households in scope (one consent probe each) instead of hashing every consent row of the tenant.
_SUMMARY_SCOPED = text(_SUMMARY_SQL.format(scope="AND h.district_id = ANY(CAST(:scope AS uuid[]))"))


def summary_statement(role: str | None, scope: frozenset[uuid.UUID] | None) -> tuple[Any, dict[str, Any]]:
    """The summary statement for this viewer and its extra parameters: the scoped variant only for
    viewers the rule limits to their districts (registry keepers see every district, scope or not)."""
    if (role or "") in disclosure.SEES_ALL or scope is None:
        return _SUMMARY, {}
    return _SUMMARY_SCOPED, {"scope": sorted(scope)}


async def _operation(db: DbSession, operation_id: uuid.UUID) -> Any:
    ctx = context.current()
    if ctx.role == "vc_volunteer":
        raise Problem("forbidden")
    return await service.get(db, operation_id)


async def _audit_households(
    db: DbSession, op: Any, ids: list[uuid.UUID], *, via: str, details: dict[str, object] | None = None
) -> None:
    """A console read of an operation's households: audited with the operation and, per household,
    the mode that decided its disclosure."""
    await disclosure.audit_read(
        db,
        "household",
        ids,
        via=via,
        operation_id=op.id,
        drill=op.mode == "drill",
        disaster_ids=await disclosure.disaster_decided(db, ids),
        details=details,
    )


def summarise(rows: list[Any]) -> tuple[list[DistrictSummary], dict[str, int]]:
    """Folds (district, status, count) rows into per-district figures; pure, so it is unit-tested."""
    by: dict[Any, dict[str, Any]] = {}
    totals: dict[str, int] = {}
    for r in rows:
        d = by.setdefault(r.district_id, {"name": r.district_name or "", "statuses": {}, "first": None})
        d["statuses"][r.status] = d["statuses"].get(r.status, 0) + r.n
        totals[r.status] = totals.get(r.status, 0) + r.n
        if r.first_report is not None and (d["first"] is None or r.first_report < d["first"]):
            d["first"] = r.first_report
    out = []
    for district_id, d in by.items():
        s = d["statuses"]
        total = sum(s.values())
        out.append(
            DistrictSummary(
                district_id=district_id,
                name=d["name"],
                total=total,
                confirmed=sum(n for k, n in s.items() if k not in NOT_CONFIRMED and k not in NOT_REPORTED),
                overdue=s.get("overdue", 0),
                late=s.get("late", 0),
                need_help=sum(s.get(k, 0) for k in ("injured", "rescue", "emergency", "contact")),
                time_to_first_report_s=int(d["first"].total_seconds()) if d["first"] is not None else None,
                statuses=s,
            )
        )
    out.sort(key=lambda x: (x.name, str(x.district_id)))
    return out, totals


HISTORY = text(
    f"""
    SELECT h.district_id, min(v.server_time) AS confirmed_at
    FROM visit v
    JOIN household h ON h.tenant_id = v.tenant_id AND h.id = v.household_id
    WHERE v.tenant_id = :t AND v.operation_id = :o
      AND v.outcome <> ALL(CAST(:not_confirmed AS text[])) AND {_VISIBLE}
    GROUP BY v.household_id, h.district_id
    """
)

TIMELINE = text(
    f"""
    SELECT e.id, e.kind, e.mode, e.household_id, e.payload, e.created_at
    FROM event e
    -- The rule in the join condition: checked once per event's household, at its index probe (in
    -- WHERE, PostgreSQL hashed every consent row of the tenant first: ~0.2 s per page for a 民生委員).
    LEFT JOIN household h ON h.tenant_id = e.tenant_id AND h.id = e.household_id AND {_VISIBLE}
    WHERE e.tenant_id = :t AND e.operation_id = :o
      AND (CAST(:before AS bigint) IS NULL OR e.id < :before)
      AND (CAST(:kinds AS text[]) IS NULL OR e.kind = ANY(CAST(:kinds AS text[])))
      AND (e.household_id IS NULL OR (SELECT tonari_sees_all()) OR h.id IS NOT NULL)
      AND (e.audience IS NULL OR (SELECT tonari_sees_all()) OR e.audience ? CAST(:user AS text))
    ORDER BY e.id DESC LIMIT :limit
    """
)

_ESCALATIONS = text(
    f"""
    WITH assigned AS (  -- the latest assignment per escalation, in one pass over the operation's events
        SELECT DISTINCT ON (ev.payload->>'escalation_id')
               CAST(ev.payload->>'escalation_id' AS uuid) AS escalation_id,
               CAST(ev.payload->>'assigned_to' AS uuid) AS assigned_to
        FROM event ev
        WHERE ev.tenant_id = :t AND ev.operation_id = :o AND ev.kind = 'escalation.assigned'
        ORDER BY ev.payload->>'escalation_id', ev.id DESC
    )
    SELECT e.*, a.assigned_to, u.display_name AS assigned_to_name
    FROM escalation e
    JOIN household h ON h.tenant_id = e.tenant_id AND h.id = e.household_id
    LEFT JOIN assigned a ON a.escalation_id = e.id
    LEFT JOIN app_user u ON u.tenant_id = e.tenant_id AND u.id = a.assigned_to
    WHERE e.tenant_id = :t AND e.operation_id = :o
      AND (CAST(:status AS text) IS NULL OR e.status = :status)
      AND (tonari_sees_all() OR CAST(:user AS uuid) = ANY(e.recipient_ids))
      AND {_VISIBLE}
    ORDER BY (e.status = 'resolved'), (e.level = 'urgent') DESC, e.created_at
    LIMIT 500
    """
)

_FILTER_HOUSEHOLDS = text(
    f"""
    SELECT t.household_id
    FROM operation_target t
    JOIN household h ON h.tenant_id = t.tenant_id AND h.id = t.household_id
    WHERE t.tenant_id = :t AND t.operation_id = :o AND {_VISIBLE}
      AND (CAST(:reason AS text) IS NULL OR (
            (tonari_sees_all() OR :commissioner OR tonari_household_disaster_applies(h.tenant_id, h.id, h.location))
            AND EXISTS (SELECT 1 FROM person p WHERE p.tenant_id = h.tenant_id AND p.household_id = h.id
                          AND CAST(:reason AS text) = ANY(p.support_reasons))))
      AND (CAST(:hazard AS text) IS NULL OR EXISTS (
            SELECT 1 FROM hazard_zone z WHERE z.tenant_id = h.tenant_id AND z.kind = :hazard
              AND ST_Intersects(z.geom, h.location)))
    """
)


def buckets(start: datetime, end: datetime, count: int) -> list[datetime]:
    """`count` + 1 evenly spaced instants from start to end (the chart's x axis)."""
    count = max(1, min(count, MAX_BUCKETS))
    span = max((end - start).total_seconds(), 60.0)
    return [start + timedelta(seconds=span * i / count) for i in range(count + 1)]


def cumulative(times: list[datetime], confirmed_at: list[datetime]) -> list[int]:
    """How many of `confirmed_at` lie at or before each instant of `times` (both ascending)."""
    ordered = sorted(confirmed_at)
    out, i = [], 0
    for t in times:
        while i < len(ordered) and ordered[i] <= t:
            i += 1
        out.append(i)
    return out


class ConsoleController(Controller):
    path = "/api/console"
    tags = ("console",)
    guards = (COORDINATION,)

    @get("/operations/{operation_id:uuid}/summary", summary="Per-district counts by status and the latest event id")
    async def summary(self, db_session: DbSession, operation_id: FromPath[uuid.UUID]) -> Summary:
        op = await _operation(db_session, operation_id)
        # The event id first: anything committed after it arrives on the stream, never lost in between.
        latest = (
            await db_session.execute(
                text("SELECT coalesce(max(id), 0) FROM event WHERE tenant_id = :t"), {"t": op.tenant_id}
            )
        ).scalar_one()
        ctx = context.current()
        statement, extra = summary_statement(ctx.role, ctx.scope)
        rows = (await db_session.execute(statement, {"t": op.tenant_id, "o": op.id, **extra})).all()
        districts, totals = summarise(list(rows))
        overdue_at = op.started_at + timedelta(minutes=op.completion_minutes) if op.started_at else None
        late_at = op.started_at + timedelta(minutes=op.first_report_minutes) if op.started_at else None
        return Summary(
            operation=msgspec.to_builtins(await service.operation_out(db_session, op)),
            latest_event_id=int(latest),
            overdue_at=overdue_at,
            districts=districts,
            statuses=totals,
            late_at=late_at,
        )

    @get("/operations/{operation_id:uuid}/history", summary="Cumulative confirmations per district over time")
    async def history(
        self,
        db_session: DbSession,
        operation_id: FromPath[uuid.UUID],
        points: Annotated[int, QueryParameter(ge=2, le=MAX_BUCKETS, description="Points on the time axis")] = 48,
    ) -> dict[str, Any]:
        op = await _operation(db_session, operation_id)
        if op.started_at is None:
            return {"times": [], "districts": {}, "total": []}
        end = op.closed_at or datetime.now(UTC)
        times = buckets(op.started_at, end, points - 1)
        rows = (
            await db_session.execute(HISTORY, {"t": op.tenant_id, "o": op.id, "not_confirmed": list(NOT_CONFIRMED)})
        ).all()
        per: dict[str, list[datetime]] = {}
        for r in rows:
            per.setdefault(str(r.district_id), []).append(r.confirmed_at)
        return {
            "times": [t.isoformat() for t in times],
            "districts": {d: cumulative(times, ts) for d, ts in per.items()},
            "total": cumulative(times, [t for ts in per.values() for t in ts]),
        }

    @get("/operations/{operation_id:uuid}/timeline", summary="The operation's events, newest first")
    async def timeline(
        self,
        db_session: DbSession,
        operation_id: FromPath[uuid.UUID],
        before: Annotated[
            int | None, QueryParameter(ge=1, le=INT64_MAX, description="Event id to page back from")
        ] = None,
        kinds: Annotated[
            list[str] | None, QueryParameter(description="Only these event kinds (repeatable)", max_items=32)
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        op = await _operation(db_session, operation_id)
        ctx = context.current()
        rows = (
            await db_session.execute(
                TIMELINE,
                {
                    "t": op.tenant_id,
                    "o": op.id,
                    "before": before,
                    "kinds": kinds,
                    "user": str(ctx.user_id),
                    "limit": limit,
                },
            )
        ).all()
        items = [
            {
                **r.payload,
                "id": r.id,
                "kind": r.kind,
                "drill": r.mode == "drill",
                "household_id": str(r.household_id) if r.household_id else None,
                "at": r.created_at.isoformat(),
            }
            for r in rows
        ]
        hids = sorted({r.household_id for r in rows if r.household_id})
        if hids:
            await _audit_households(db_session, op, hids, via="console.timeline")
            await db_session.commit()
        return {"items": items, "next_before": rows[-1].id if len(rows) == limit else None}

    @get("/operations/{operation_id:uuid}/escalations", summary="The escalation queue with assignees")
    async def escalations(
        self,
        db_session: DbSession,
        operation_id: FromPath[uuid.UUID],
        status: Annotated[
            str | None, QueryParameter(max_length=16, description="open, acknowledged or resolved")
        ] = None,
    ) -> list[ConsoleEscalation]:
        op = await _operation(db_session, operation_id)
        if status is not None and status not in ("open", "acknowledged", "resolved"):
            raise Problem(
                "validation_failed",
                errors=[
                    FieldError(
                        "status",
                        "invalid",
                        "状態は open / acknowledged / resolved のいずれかです。",
                        "status is open, acknowledged or resolved.",
                    )
                ],
            )
        ctx = context.current()
        rows = (
            await db_session.execute(
                _ESCALATIONS, {"t": op.tenant_id, "o": op.id, "status": status, "user": ctx.user_id}
            )
        ).all()
        out = [
            ConsoleEscalation(
                r.id,
                r.operation_id,
                r.household_id,
                r.level,
                r.outcome,
                r.status,
                r.mode,
                r.created_at,
                r.acknowledged_at,
                r.resolved_at,
                r.notes,
                r.assigned_to,
                r.assigned_to_name,
            )
            for r in rows
        ]
        if out:
            await _audit_households(db_session, op, sorted({e.household_id for e in out}), via="console.escalations")
            contacts = await household_contacts(db_session, {e.household_id for e in out})
            for e in out:
                if (c := contacts.get(e.household_id)) is not None:
                    e.address, e.people = c.address, c.people
            await db_session.commit()
        return out

    @post("/escalations/{escalation_id:uuid}/assign", status_code=200, summary="Assign an escalation to a person")
    async def assign(
        self, db_session: DbSession, escalation_id: FromPath[uuid.UUID], data: JSONBody[AssignIn]
    ) -> ConsoleEscalation:
        ctx = context.current()
        e = await db_session.get(Escalation, (ctx.tenant_id, escalation_id))
        if e is None or (ctx.role not in disclosure.SEES_ALL and ctx.user_id not in e.recipient_ids):
            raise Problem("not_found")
        if e.status == "resolved":
            raise Problem(
                "conflict",
                detail_ja="対応済みの通報は割り当てできません。",
                detail_en="A resolved escalation cannot be assigned.",
            )
        user = (
            await db_session.execute(
                text(
                    "SELECT id, display_name FROM app_user WHERE tenant_id = :t AND id = :u AND is_active"
                    " AND role = ANY(CAST(:roles AS text[]))"
                ),
                {"t": ctx.tenant_id, "u": data.user_id, "roles": list(ASSIGNABLE_ROLES)},
            )
        ).one_or_none()
        if user is None:
            raise Problem(
                "validation_failed",
                errors=[
                    FieldError(
                        "user_id",
                        "invalid",
                        "割り当てられる担当者ではありません。",
                        "This person cannot be assigned escalations.",
                    )
                ],
            )
        if user.id not in e.recipient_ids:
            e.recipient_ids = [*e.recipient_ids, user.id]
        if data.note:
            e.notes = service.append_note(e.notes, data.note)
        await audit(
            db_session,
            "escalation.assigned",
            object_type="escalation",
            object_ids=[e.id],
            mode="drill" if e.mode == "drill" else "normal",
            operation_id=e.operation_id,
            details={"assigned_to": str(user.id)},
        )
        await emit(
            db_session,
            "escalation.assigned",
            {
                "escalation_id": str(e.id),
                "household_id": str(e.household_id),
                "assigned_to": str(user.id),
                "assigned_to_name": user.display_name,
            },
            operation_id=e.operation_id,
            household_id=e.household_id,
            mode=e.mode,
            audience=list(e.recipient_ids),
        )
        await db_session.commit()
        return ConsoleEscalation(
            e.id,
            e.operation_id,
            e.household_id,
            e.level,
            e.outcome,
            e.status,
            e.mode,
            e.created_at,
            e.acknowledged_at,
            e.resolved_at,
            e.notes,
            user.id,
            user.display_name,
        )

    @get("/assignees", summary="People escalations can be assigned to (staff, coordinators, 民生委員)")
    async def assignees(self, db_session: DbSession) -> list[Assignee]:
        ctx = context.current()
        rows = (
            await db_session.execute(
                text(
                    "SELECT id, display_name, role FROM app_user WHERE tenant_id = :t AND is_active"
                    " AND role = ANY(CAST(:roles AS text[])) ORDER BY role, display_name LIMIT 1000"
                ),
                {"t": ctx.tenant_id, "roles": list(ASSIGNABLE_ROLES)},
            )
        ).all()
        return [Assignee(r.id, r.display_name, r.role) for r in rows]

    @get("/operations/{operation_id:uuid}/households", summary="Ids of the operation's households matching a filter")
    async def households(
        self,
        db_session: DbSession,
        operation_id: FromPath[uuid.UUID],
        support_reason: Annotated[
            str | None, QueryParameter(max_length=32, description="A support reason code")
        ] = None,
        hazard_kind: Annotated[
            str | None, QueryParameter(max_length=32, description="flood, landslide or other")
        ] = None,
    ) -> dict[str, Any]:
        op = await _operation(db_session, operation_id)
        errors = []
        if support_reason is not None and support_reason not in SUPPORT_REASONS:
            errors.append(
                FieldError("support_reason", "invalid", "支援の理由が正しくありません。", "Unknown support reason.")
            )
        if hazard_kind is not None and hazard_kind not in HAZARD_ZONE_KINDS:
            errors.append(
                FieldError("hazard_kind", "invalid", "災害区域の種類が正しくありません。", "Unknown hazard kind.")
            )
        if errors:
            raise Problem("validation_failed", errors=errors)
        ctx = context.current()
        ids = [
            r[0]
            for r in (
                await db_session.execute(
                    _FILTER_HOUSEHOLDS,
                    {
                        "t": op.tenant_id,
                        "o": op.id,
                        "reason": support_reason,
                        "hazard": hazard_kind,
                        "commissioner": ctx.role == "commissioner",
                    },
                )
            ).all()
        ]
        if ids:
            await _audit_households(
                db_session,
                op,
                ids,
                via="console.filter",
                details={"support_reason": support_reason, "hazard_kind": hazard_kind},
            )
            await db_session.commit()
        return {"household_ids": [str(i) for i in ids]}
