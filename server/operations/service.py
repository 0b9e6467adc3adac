"""Creating, starting and closing operations; choosing their households; progress figures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from shapely.geometry import MultiPolygon
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.record import record as audit
from server.core import context
from server.core.context import current_tenant
from server.core.problems import FieldError, Problem
from server.events.emit import emit
from server.operations.access import operation_readable
from server.operations.models import Operation
from server.operations.schemas import ESCALATION_NOTES_MAX, OperationIn, OperationOut
from server.registry import validation as v
from vocab import HAZARD_ZONE_KINDS, SUPPORT_REASONS

log = structlog.get_logger("tonari.operations")

DEFAULT_TARGETS = {"safety_check": (180, 1440), "watch_round": (1440, 10080)}

_SELECT_TARGETS = text(
    """
    WITH RECURSIVE scope AS (
        SELECT id FROM district WHERE tenant_id = :t AND id = ANY(CAST(:districts AS uuid[]))
        UNION SELECT d.id FROM district d JOIN scope s ON d.parent_id = s.id WHERE d.tenant_id = :t
    )
    INSERT INTO operation_target (tenant_id, operation_id, household_id, watcher_ids)
    SELECT h.tenant_id, :op, h.id,
           coalesce((SELECT array_agg(l.watcher_id ORDER BY l.kind DESC, l.distance_m)
                     FROM watch_link l WHERE l.tenant_id = h.tenant_id AND l.household_id = h.id
                       AND l.ended_at IS NULL), '{}')
    FROM household h, operation o
    WHERE h.tenant_id = :t AND o.tenant_id = :t AND o.id = :op
      AND (h.district_id IN (SELECT id FROM scope) OR (o.area IS NOT NULL AND ST_Covers(o.area, h.location)))
      AND (cardinality(o.support_reasons) = 0 OR EXISTS (
            SELECT 1 FROM person p WHERE p.tenant_id = h.tenant_id AND p.household_id = h.id
              AND p.support_reasons && o.support_reasons))
      AND (cardinality(o.hazard_kinds) = 0 OR EXISTS (
            SELECT 1 FROM hazard_zone z WHERE z.tenant_id = h.tenant_id AND z.kind = ANY(o.hazard_kinds)
              AND ST_Intersects(z.geom, h.location)))
    ON CONFLICT DO NOTHING
    """
)


def label(op: Operation) -> str:
    return "【訓練】" if op.mode == "drill" else ""


async def operation_out(db: AsyncSession, op: Operation) -> OperationOut:
    count = (
        await db.execute(
            text("SELECT count(*) FROM operation_target WHERE tenant_id = :t AND operation_id = :o"),
            {"t": op.tenant_id, "o": op.id},
        )
    ).scalar_one()
    return OperationOut(
        id=op.id,
        kind=op.kind,
        mode=op.mode,
        name=op.name,
        status=op.status,
        district_ids=list(op.district_ids),
        support_reasons=list(op.support_reasons),
        hazard_kinds=list(op.hazard_kinds),
        first_report_minutes=op.first_report_minutes,
        completion_minutes=op.completion_minutes,
        started_at=op.started_at,
        closed_at=op.closed_at,
        targets=count,
        label=label(op),
    )


async def create(
    db: AsyncSession, data: OperationIn, *, area: MultiPolygon | None = None, declaration_id: uuid.UUID | None = None
) -> Operation:
    ctx = context.current()
    if data.kind == "vc":  # a VC has no target households: it is opened with its centre (server/vc/)
        raise Problem(
            "validation_failed",
            errors=[
                FieldError(
                    "kind",
                    "invalid",
                    "災害ボランティアセンターは「災害VCの開設」から作成してください。",
                    "Open a disaster volunteer centre through /api/vc/centres.",
                )
            ],
        )
    errors = [
        v.check_codes("support_reasons", data.support_reasons, SUPPORT_REASONS),
        v.check_codes("hazard_kinds", data.hazard_kinds, HAZARD_ZONE_KINDS),
    ]
    v.raise_if(errors)
    if data.geometry is not None:
        area = v.parse_area("geometry", data.geometry)
    if not data.district_ids and area is None:
        raise Problem(
            "validation_failed",
            errors=[
                FieldError(
                    "district_ids", "required", "対象の地区または区域を指定してください。", "Give districts or an area."
                )
            ],
        )
    reference_errors = await check_references(db, data)
    if reference_errors:
        raise Problem("invalid_reference", errors=reference_errors)
    first, done = DEFAULT_TARGETS[data.kind]
    first = data.first_report_minutes or first
    done = data.completion_minutes or max(done, first)
    if done < first:
        raise Problem(
            "validation_failed",
            errors=[
                FieldError(
                    "completion_minutes",
                    "invalid",
                    "完了目標は初回報告目標より後にしてください。",
                    "Completion must not be before the first report target.",
                )
            ],
        )
    op = Operation(
        tenant_id=ctx.tenant_id,
        id=uuid.uuid4(),
        kind=data.kind,
        mode=data.mode,
        name=data.name,
        district_ids=list(data.district_ids),
        area=v.to_db(area) if area is not None else None,
        support_reasons=data.support_reasons,
        hazard_kinds=data.hazard_kinds,
        first_report_minutes=first,
        completion_minutes=done,
        coordinator_ids=list(dict.fromkeys(data.coordinator_ids)),
        declaration_id=declaration_id,
        created_by=ctx.user_id,
    )
    db.add(op)
    await db.flush()
    await audit(
        db, "operation.create", object_type="operation", object_ids=[op.id], mode=_audit_mode(op), operation_id=op.id
    )
    return op


# Who may be named an operation's coordinator: they receive its escalations and read its console.
COORDINATOR_ROLES = ("admin", "staff", "coordinator")

_REFERENCES = text(
    """
    SELECT 'district_ids' AS field, i.ord, (d.id IS NOT NULL) AS found, true AS allowed
    FROM unnest(CAST(:districts AS uuid[])) WITH ORDINALITY AS i(id, ord)
    LEFT JOIN district d ON d.tenant_id = :t AND d.id = i.id
    UNION ALL
    SELECT 'coordinator_ids', i.ord, (u.id IS NOT NULL),
           coalesce(u.is_active AND u.role = ANY(CAST(:roles AS text[])), false)
    FROM unnest(CAST(:users AS uuid[])) WITH ORDINALITY AS i(id, ord)
    LEFT JOIN app_user u ON u.tenant_id = :t AND u.id = i.id
    ORDER BY 1 DESC, 2
    """
)


async def check_references(db: AsyncSession, data: OperationIn) -> list[FieldError]:
    """Every district and user id of the body must be this tenant's (another tenant's id reads
    as missing), and every coordinator an active user of a coordinating role; errors name the item."""
    rows = (
        await db.execute(
            _REFERENCES,
            {
                "t": current_tenant(),
                "districts": data.district_ids,
                "users": data.coordinator_ids,
                "roles": list(COORDINATOR_ROLES),
            },
        )
    ).all()
    errors = []
    for r in rows:
        name = f"{r.field}[{r.ord - 1}]"
        if not r.found:
            errors.append(FieldError(name, "unknown_reference"))
        elif not r.allowed:
            errors.append(
                FieldError(
                    name,
                    "role_not_allowed",
                    "調整役に指定できるのは、有効な職員・コーディネーターだけです。",
                    "Only active staff, admins and coordinators can coordinate an operation.",
                )
            )
    return errors


def _audit_mode(op: Operation) -> str:
    return "drill" if op.mode == "drill" else ("disaster" if op.declaration_id else "normal")


async def start(db: AsyncSession, op: Operation) -> int:
    if op.status != "draft":
        raise Problem(
            "conflict", detail_ja="下書きの活動だけを開始できます。", detail_en="Only a draft operation can be started."
        )
    await db.execute(_SELECT_TARGETS, {"t": op.tenant_id, "op": op.id, "districts": list(op.district_ids)})
    op.status, op.started_at = "active", datetime.now(UTC)
    await db.flush()
    count = (
        await db.execute(
            text("SELECT count(*) FROM operation_target WHERE tenant_id = :t AND operation_id = :o"),
            {"t": op.tenant_id, "o": op.id},
        )
    ).scalar_one()
    count = int(count)
    await _refresh_target_statistics(db, count)
    await audit(
        db,
        "operation.start",
        object_type="operation",
        object_ids=[op.id],
        mode=_audit_mode(op),
        operation_id=op.id,
        details={"targets": count},
    )
    await emit(
        db,
        "operation.started",
        {"operation_id": str(op.id), "name": label(op) + op.name, "operation_kind": op.kind, "targets": count},
        operation_id=op.id,
        mode=op.mode,
    )
    return count


async def push_started(db: AsyncSession, op: Operation) -> None:
    """Tell the assigned watchers that an operation started (no personal data), in the
    transaction that starts it: a start that rolls back tells nobody. A drill's is marked 【訓練】
    by the push rule (`drill=True`), whether staff started it or a drill run did."""
    from server.push import Notification, PushMessage, enqueue_push

    users = [
        r[0]
        for r in await db.execute(
            text(
                "SELECT DISTINCT w.user_id FROM operation_target t JOIN watcher w ON w.tenant_id = t.tenant_id"
                " AND w.id = ANY(t.watcher_ids) WHERE t.tenant_id = :t AND t.operation_id = :o AND w.user_id IS NOT NULL"
            ),
            {"t": op.tenant_id, "o": op.id},
        )
    ]
    if users:
        kind = "安否確認" if op.kind == "safety_check" else "見守り"
        await enqueue_push(
            db,
            tenant_id=op.tenant_id,
            notifications=[
                Notification(
                    user_ids=users,
                    key=f"op-start-{op.id}",
                    drill=op.mode == "drill",
                    message=PushMessage(
                        title=f"{kind}が始まりました",
                        body=op.name[:200],
                        url=f"/operations/{op.id}",
                        tag=f"op-{op.id}",
                        kind="operation.started",
                    ),
                )
            ],
        )


# A start that adds this many targets, and at least a tenth of the table, re-analyzes it.
ANALYZE_MIN_TARGETS = 1000
# … and when they are more than this share of the rows the planner knows of.
ANALYZE_MIN_SHARE = 0.1


async def _refresh_target_statistics(db: AsyncSession, added: int) -> None:
    """Give the planner the new targets before the first visits arrive.

    Measured (bench/HISTORY.md): right after the first large operation of a database, the planner
    still believed `operation_target` was empty and every group-commit flush scanned the table
    (565 visits/s instead of ~1,500) until autovacuum's ANALYZE came round, up to a minute later:
    the first minute of a real safety check is the worst moment for that. ANALYZE samples a
    fixed number of rows (~0.1–0.3 s) and, run here, counts this transaction's own new rows.
    Only the table's owner may ANALYZE: the app's role asks `tonari_analyze_operation_targets()`
    (SECURITY DEFINER, migration 0013).
    """
    if added < ANALYZE_MIN_TARGETS:
        return
    known = (
        await db.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'operation_target'::regclass"))
    ).scalar_one()
    if known < 0 or added > ANALYZE_MIN_SHARE * known:
        await db.execute(text("SELECT tonari_analyze_operation_targets()"))


async def close(db: AsyncSession, op: Operation) -> None:
    if op.status != "active":
        raise Problem(
            "conflict",
            detail_ja="実施中の活動だけを終了できます。",
            detail_en="Only an active operation can be closed.",
        )
    op.status, op.closed_at = "closed", datetime.now(UTC)
    await audit(
        db, "operation.close", object_type="operation", object_ids=[op.id], mode=_audit_mode(op), operation_id=op.id
    )
    await emit(db, "operation.closed", {"operation_id": str(op.id)}, operation_id=op.id, mode=op.mode)


async def get(db: AsyncSession, operation_id: uuid.UUID) -> Operation:
    """One operation the viewer may read (`access.operation_readable`), else 404."""
    op = (
        await db.execute(
            select(Operation).where(
                Operation.tenant_id == current_tenant(), Operation.id == operation_id, await operation_readable(db)
            )
        )
    ).scalar_one_or_none()
    if op is None:
        raise Problem("not_found")
    return op


_PROGRESS = text(
    """
    SELECT h.district_id, count(*) AS total,
           count(*) FILTER (WHERE t.status NOT IN ('unreached', 'away', 'unknown')) AS confirmed,
           count(*) FILTER (WHERE t.status IN ('emergency', 'rescue', 'injured', 'contact')) AS need_help,
           count(*) FILTER (WHERE t.status = 'unreached'
                            AND now() > o.started_at + make_interval(mins => o.completion_minutes)) AS overdue,
           count(*) FILTER (WHERE t.status = 'unreached'
                            AND now() > o.started_at + make_interval(mins => o.first_report_minutes)
                            AND now() <= o.started_at + make_interval(mins => o.completion_minutes)) AS late,
           min(t.first_visit_at) - min(o.started_at) AS time_to_first_report
    FROM operation_target t
    JOIN operation o ON o.tenant_id = t.tenant_id AND o.id = t.operation_id
    JOIN household h ON h.tenant_id = t.tenant_id AND h.id = t.household_id
    WHERE t.tenant_id = :t AND t.operation_id = :o
      AND (tonari_sees_all() OR tonari_household_visible(h.tenant_id, h.id, h.district_id, h.location))
    GROUP BY h.district_id ORDER BY h.district_id
    """
)


async def progress(db: AsyncSession, op: Operation) -> list[dict[str, Any]]:
    rows = (await db.execute(_PROGRESS, {"t": op.tenant_id, "o": op.id})).all()
    return [
        {
            "district_id": str(r.district_id) if r.district_id else None,
            "total": r.total,
            "confirmed": r.confirmed,
            "need_help": r.need_help,
            "overdue": r.overdue,
            "late": r.late,
            "time_to_first_report_s": int(r.time_to_first_report.total_seconds()) if r.time_to_first_report else None,
        }
        for r in rows
    ]


def append_note(notes: str | None, note: str) -> str:
    """An escalation's notes with one more appended (acknowledge, resolve, assign), refused past
    the column's cap rather than cut: what people wrote is never silently lost."""
    combined = (notes + "\n" if notes else "") + note
    if len(combined) > ESCALATION_NOTES_MAX:
        raise Problem(
            "validation_failed",
            errors=[
                FieldError(
                    "note",
                    "too_long",
                    f"この通報のメモは合計{ESCALATION_NOTES_MAX:,}文字までです。これ以上追記できません。",
                    f"An escalation keeps at most {ESCALATION_NOTES_MAX:,} characters of notes; this one is full.",
                )
            ],
        )
    return combined
