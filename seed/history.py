"""One closed past drill for the Kasama demo, so the console and the reports have a history.

A city-wide 安否確認訓練 (safety-check drill, `mode = 'drill'`) held on a Sunday morning some
weeks before the first start: every household is a target, most were reached over about five
hours (a quick first hour, then a tail), a few stayed unreached, a few were revisited, and the
負傷 / 要救助 reports raised escalations that were acknowledged and resolved. The rows are what
the app itself writes (visits with their content hash, the target status derived by the ingest's
own statement, escalations), dated in the past; nothing here reaches the live feed or push.
Deterministic apart from the date: the outcomes come from `random.Random("<seed>/drill")`.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.db.base import uuid7
from server.operations.ingest import NEED_HELP, RECOMPUTE, content_hash
from server.operations.models import Escalation, Operation, Visit
from server.operations.schemas import VisitIn
from vocab import ESCALATE

DRILL_NAME = "笠間市総合防災訓練 安否確認（デモの過去の訓練）"
HOURS = 6  # 09:00–15:00 local
TZ = ZoneInfo("Asia/Tokyo")

# Outcome of the first visit (the rest stay unreached); 不明 is revisited later in the day.
FIRST_OUTCOMES = (
    ("safe", 0.80),
    ("evacuated", 0.07),
    ("unknown", 0.05),
    ("injured", 0.012),
    ("rescue", 0.006),
    (None, 0.062),
)
REVISIT_SHARE = 0.7  # of the 不明 households, reached again before the end

_TARGETS = text(
    """
    INSERT INTO operation_target (tenant_id, operation_id, household_id, watcher_ids)
    SELECT h.tenant_id, :op, h.id,
           coalesce((SELECT array_agg(l.watcher_id ORDER BY l.kind DESC, l.distance_m)
                     FROM watch_link l WHERE l.tenant_id = h.tenant_id AND l.household_id = h.id
                       AND l.ended_at IS NULL), '{}')
    FROM household h WHERE h.tenant_id = :t
    RETURNING household_id
    """
)

# Each household with its nearest designated shelter (a KNN walk over ~30 rows); who reports for
# it is looked up from the small map below (one query, no per-household subqueries: the tables
# were just loaded and the planner has no statistics for them yet).
_HOUSEHOLDS = text(
    """
    SELECT h.id, h.district_id, h.address, s.id AS shelter_id
    FROM household h
    LEFT JOIN LATERAL (SELECT s.id FROM shelter s WHERE s.tenant_id = h.tenant_id AND s.kind = 'designated'
                       ORDER BY s.location <-> h.location LIMIT 1) s ON true
    WHERE h.tenant_id = :t
    ORDER BY h.address, ST_X(h.location), ST_Y(h.location)
    """
)
_COMMISSIONER_USERS = text(
    "SELECT district_id, user_id FROM watcher WHERE tenant_id = :t AND role = 'commissioner' AND user_id IS NOT NULL"
)


def drill_start(now: datetime) -> datetime:
    """09:00 local on the last Sunday at least four weeks before `now`."""
    day = (now.astimezone(TZ) - timedelta(days=28)).date()
    day -= timedelta(days=(day.weekday() + 1) % 7)
    return datetime.combine(day, time(9, 0), TZ).astimezone(UTC)


def _minutes(rng: random.Random) -> float:
    """When a household is reached: half within ~70 minutes, a tail to the end of the drill."""
    return min(HOURS * 60 - 15, 3 + rng.lognormvariate(4.2, 0.6))


async def load_past_drill(db: AsyncSession, tenant_id: uuid.UUID, *, seed: int = 8216) -> dict[str, int]:
    """Add the closed drill once per tenant (nothing if an operation of that name exists)."""
    exists = await db.execute(
        select(Operation.id).where(Operation.tenant_id == tenant_id, Operation.name == DRILL_NAME)
    )
    if exists.first() is not None:
        return {}
    users = {u.login: u.id for u in (await db.execute(select(User).where(User.tenant_id == tenant_id))).scalars()}
    staff, coordinator = users.get("staff"), users.get("coordinator")
    if staff is None or coordinator is None:
        return {}
    start = drill_start(datetime.now(UTC))
    op_id = uuid.uuid4()
    await db.execute(
        insert(Operation).values(
            tenant_id=tenant_id,
            id=op_id,
            kind="safety_check",
            mode="drill",
            name=DRILL_NAME,
            status="active",
            district_ids=list(
                (
                    await db.execute(
                        text(
                            "SELECT array_agg(id ORDER BY code) FROM district WHERE tenant_id = :t AND level = 'area'"
                        ),
                        {"t": tenant_id},
                    )
                ).scalar_one()
                or []
            ),
            first_report_minutes=60,
            completion_minutes=300,
            coordinator_ids=[coordinator],
            created_by=staff,
            started_at=start,
            created_at=start - timedelta(days=7),
        )
    )
    targets = len((await db.execute(_TARGETS, {"t": tenant_id, "op": op_id})).all())

    rng = random.Random(f"{seed}/drill")
    outcomes, weights = zip(*FIRST_OUTCOMES, strict=True)
    visits: list[dict[str, object]] = []
    escalations: list[dict[str, object]] = []
    commissioner_user = {row[0]: row[1] for row in await db.execute(_COMMISSIONER_USERS, {"t": tenant_id})}
    for h in (await db.execute(_HOUSEHOLDS, {"t": tenant_id})).all():
        commissioner = commissioner_user.get(h.district_id)
        first = rng.choices(outcomes, weights=weights)[0]
        if first is None:
            continue
        at = start + timedelta(minutes=_minutes(rng), seconds=rng.randrange(60))
        reports = [(first, at)]
        if first == "unknown" and rng.random() < REVISIT_SHARE:
            later = at + timedelta(minutes=rng.uniform(30, 120))
            if later < start + timedelta(hours=HOURS):
                reports.append((rng.choices(("safe", "evacuated"), weights=(0.7, 0.3))[0], later))
        # reported by the district's 民生委員 (the demo one for their branch) or the council: the demo
        # watcher's phone starts with no records of its own, as a new device would
        by = commissioner or (coordinator if rng.random() < 0.5 else staff)
        for n, (outcome, device_time) in enumerate(reports):
            shelter_id = h.shelter_id if outcome == "evacuated" else None
            note = "【訓練】" + {"injured": "足を負傷（訓練の想定）", "rescue": "自力で避難できない（訓練の想定）"}.get(
                outcome, ""
            )
            v = VisitIn(
                client_id=uuid7(),
                household_id=h.id,
                outcome=outcome,
                device_time=device_time,
                note=note if outcome in ESCALATE else None,
                shelter_id=shelter_id,
                shelter_unknown=outcome == "evacuated" and shelter_id is None,
            )
            vid = uuid7()
            visits.append(
                {
                    "tenant_id": tenant_id,
                    "id": vid,
                    "client_id": v.client_id,
                    "operation_id": op_id,
                    "household_id": h.id,
                    "user_id": by,
                    "mode": "drill",
                    "outcome": outcome,
                    "shelter_id": v.shelter_id,
                    "shelter_unknown": v.shelter_unknown,
                    "note": v.note,
                    "device_time": device_time,
                    "server_time": device_time + timedelta(seconds=rng.uniform(0.5, 40)),
                    "content_hash": content_hash(op_id, v),
                    "revisit": n > 0,
                }
            )
            if outcome in ESCALATE:
                acknowledged = device_time + timedelta(minutes=rng.uniform(2, 12))
                resolved = acknowledged + timedelta(minutes=rng.uniform(20, 90))
                recipients = [u for u in (commissioner, coordinator) if u is not None]
                escalations.append(
                    {
                        "tenant_id": tenant_id,
                        "id": uuid.uuid4(),
                        "operation_id": op_id,
                        "household_id": h.id,
                        "visit_id": vid,
                        "mode": "drill",
                        "level": ESCALATE[outcome],
                        "outcome": outcome,
                        "status": "resolved",
                        "recipient_ids": recipients,
                        "raised_by": by,
                        "created_at": device_time,
                        "acknowledged_by": coordinator,
                        "acknowledged_at": acknowledged,
                        "resolved_by": coordinator,
                        "resolved_at": resolved,
                        "notes": "【訓練】消防・救急への連絡を確認し、対応完了（訓練）",
                    }
                )
    # First visits, then revisits, each followed by the ingest's own status statement: it keeps
    # the first visit's time as `first_visit_at` and moves the status to the latest report.
    rounds = ([v for v in visits if not v["revisit"]], [v for v in visits if v["revisit"]])
    for batch in rounds:
        for row in batch:
            del row["revisit"]
        for i in range(0, len(batch), 2000):
            await db.execute(insert(Visit), batch[i : i + 2000])
        pairs = sorted({(op_id, v["household_id"]) for v in batch}, key=str)
        if pairs:
            await db.execute(
                RECOMPUTE,
                {
                    "tenant": tenant_id,
                    "ops": [p[0] for p in pairs],
                    "hhs": [p[1] for p in pairs],
                    "need_help": NEED_HELP,
                },
            )
    if escalations:
        await db.execute(insert(Escalation), escalations)
    await db.execute(
        update(Operation)
        .where(Operation.tenant_id == tenant_id, Operation.id == op_id)
        .values(status="closed", closed_at=start + timedelta(hours=HOURS), updated_at=func.now())
    )
    return {"targets": targets, "visits": len(visits), "escalations": len(escalations)}
