"""Step 8 of the VC day: daily statistics (振り返り) per VC day and period, and the CSV in the layout
prefectures ask councils for. Counts only (no personal data), one centre at a time: a drill centre's
figures can never mix into a real one's."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import FromPath, FromQuery, QueryParameter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.csv_export import SafeWriter
from server.core.openapi import CSV
from server.core.problems import FieldError, Problem
from server.db.deps import DbSession
from server.vc.common import DESK, Centre, audit_vc, get_centre
from server.vc.schemas import DayStatistics, StatisticsOut

MAX_DAYS = 366

_DAYS = text(
    """
    WITH days AS (SELECT d::date AS day FROM generate_series(CAST(:opened AS date), CAST(:to AS date), '1 day') d),
    vol AS (
        SELECT ci.vc_day AS day, sum(ci.people) AS volunteers,
               sum(ci.people) FILTER (WHERE v.kind = 'individual') AS individual,
               sum(ci.people) FILTER (WHERE v.kind = 'group') AS grp,
               sum(ci.people) FILTER (WHERE v.prefecture <> :pref) AS outside
        FROM vc_checkin ci JOIN vc_volunteer v ON v.tenant_id = ci.tenant_id AND v.id = ci.volunteer_id
        WHERE ci.tenant_id = :t AND ci.operation_id = :o AND ci.vc_day <= :to
        GROUP BY ci.vc_day
    ),
    act AS (SELECT vc_day AS day, count(*) AS n FROM vc_dispatch
            WHERE tenant_id = :t AND operation_id = :o AND vc_day <= :to GROUP BY vc_day),
    rec AS (SELECT received_on AS day, count(*) AS n FROM vc_need
            WHERE tenant_id = :t AND operation_id = :o AND received_on <= :to GROUP BY received_on),
    clo AS (SELECT closed_on AS day, count(*) AS n FROM vc_need
            WHERE tenant_id = :t AND operation_id = :o AND closed_on <= :to GROUP BY closed_on),
    sur AS (SELECT s.vc_day AS day, count(DISTINCT s.need_id) AS n
            FROM vc_survey s JOIN vc_need n ON n.tenant_id = s.tenant_id AND n.id = s.need_id
            WHERE s.tenant_id = :t AND n.operation_id = :o AND s.vc_day <= :to GROUP BY s.vc_day),
    daily AS (
        SELECT days.day, coalesce(vol.volunteers, 0) AS volunteers, coalesce(vol.individual, 0) AS individual,
               coalesce(vol.grp, 0) AS grp, coalesce(vol.outside, 0) AS outside, coalesce(act.n, 0) AS activities,
               coalesce(rec.n, 0) AS received, coalesce(sur.n, 0) AS surveyed, coalesce(clo.n, 0) AS closed
        FROM days LEFT JOIN vol USING (day) LEFT JOIN act USING (day) LEFT JOIN rec USING (day)
                  LEFT JOIN clo USING (day) LEFT JOIN sur USING (day)
    )
    SELECT day, volunteers, individual, grp, outside, activities, received, surveyed, closed,
           sum(volunteers) OVER w AS cumulative,
           sum(received) OVER w - sum(closed) OVER w AS open
    FROM daily
    WINDOW w AS (ORDER BY day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ORDER BY day
    """
)

_BREAKDOWN = text(
    """
    SELECT 'work' AS kind, w AS key, count(*) AS n
    FROM vc_need, unnest(work_types) AS w
    WHERE tenant_id = :t AND operation_id = :o AND received_on BETWEEN :from AND :to GROUP BY w
    UNION ALL
    SELECT 'district', coalesce(CAST(district_id AS text), ''), count(*)
    FROM vc_need WHERE tenant_id = :t AND operation_id = :o AND received_on BETWEEN :from AND :to
    GROUP BY district_id
    """
)

CSV_HEADER = [
    "日付",
    "ボランティア数",
    "累計ボランティア数",
    "ニーズ受付数",
    "ニーズ完了数",
    "未完了ニーズ数",
]


async def _period(db: AsyncSession, c: Centre, start: date | None, end: date | None) -> tuple[date, date]:
    now = c.today()
    start = start or c.centre.opened_on
    end = end or now
    if start > end or start < c.centre.opened_on or end > now or (end - start).days >= MAX_DAYS:
        raise Problem("vc_bad_date", errors=[FieldError("from", "out_of_range")])
    return start, end


async def statistics(db: AsyncSession, c: Centre, start: date, end: date) -> StatisticsOut:
    """Every figure of every day from the centre's opening (cumulative ones need them), then the period."""
    code = (
        await db.execute(text("SELECT municipality_code FROM tenant WHERE id = :t"), {"t": c.op.tenant_id})
    ).scalar_one()
    params = {"t": c.op.tenant_id, "o": c.id, "opened": c.centre.opened_on, "to": end, "pref": code[:2]}
    rows = (await db.execute(_DAYS, params)).all()
    days = [
        DayStatistics(
            vc_day=r.day,
            volunteers=int(r.volunteers),
            individual=int(r.individual),
            group=int(r.grp),
            out_of_prefecture=int(r.outside),
            cumulative_volunteers=int(r.cumulative),
            activities=int(r.activities),
            needs_received=int(r.received),
            needs_surveyed=int(r.surveyed),
            needs_closed=int(r.closed),
            needs_open=int(r.open),
        )
        for r in rows
        if r.day >= start
    ]
    by_work: dict[str, int] = {}
    by_district: dict[str, int] = {}
    for r in (await db.execute(_BREAKDOWN, {"t": c.op.tenant_id, "o": c.id, "from": start, "to": end})).all():
        (by_work if r.kind == "work" else by_district)[r.key] = int(r.n)
    return StatisticsOut(operation_id=c.id, label=c.label, days=days, by_work_type=by_work, by_district=by_district)


class StatisticsController(Controller):
    path = "/api/vc/centres/{operation_id:uuid}"
    tags = ("vc",)
    guards = (DESK,)

    @get("/statistics", summary="Daily statistics of a centre for a period (default: from opening to today)")
    async def get_statistics(
        self,
        db_session: DbSession,
        operation_id: FromPath[uuid.UUID],
        from_: Annotated[date | None, QueryParameter(name="from")] = None,
        to: FromQuery[date | None] = None,
    ) -> StatisticsOut:
        c = await get_centre(db_session, operation_id)
        start, end = await _period(db_session, c, from_, to)
        return await statistics(db_session, c, start, end)

    @get(
        "/statistics.csv",
        summary="Daily figures in the prefecture's layout (CSV, UTF-8 with BOM)",
        media_type=CSV,
    )
    async def statistics_csv(
        self,
        db_session: DbSession,
        operation_id: FromPath[uuid.UUID],
        from_: Annotated[date | None, QueryParameter(name="from")] = None,
        to: FromQuery[date | None] = None,
    ) -> Response[bytes]:
        c = await get_centre(db_session, operation_id)
        start, end = await _period(db_session, c, from_, to)
        stats = await statistics(db_session, c, start, end)
        out = io.StringIO()
        w = SafeWriter(out)
        if c.label:
            w.writerow([c.label])
        w.writerow(CSV_HEADER)
        for d in stats.days:
            w.writerow(
                [
                    d.vc_day.isoformat(),
                    d.volunteers,
                    d.cumulative_volunteers,
                    d.needs_received,
                    d.needs_closed,
                    d.needs_open,
                ]
            )
        await audit_vc(db_session, c, "vc.statistics.export", "operation", [c.id], start=str(start), end=str(end))
        await db_session.commit()
        name = f"vc-{'drill-' if c.label else ''}{start}_{end}.csv"
        return Response(
            b"\xef\xbb\xbf" + out.getvalue().encode(),
            media_type=CSV,
            encoding="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "private, no-store",
            },
        )
