"""The after-action report (振り返り) of a drill run, computed from its rows.

Every figure is a count or a time read from the drill operation's own rows (targets, visits,
escalations) and the run's (fired injects, bot steps, marks); times are drill time, mapped from
wall time through the run's clock log (`tonari_drill_sim`, migration 0021), so a pause or a speed
change does not distort them. No personal data: districts, outcomes, counts and row ids only.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.csv_export import SafeWriter
from server.drills import vc
from server.drills.models import DrillRun
from server.drills.scenario import VC_EXPECTATIONS, Scenario, format_time
from vocab import DRILL_INJECT_KINDS, OUTCOMES

CONFIRMING = ("safe", "injured", "rescue", "evacuated")  # as the progress figures count "confirmed"

_TARGETS = text(
    """
    SELECT t.household_id, h.district_id, d.name AS district, t.status,
           (SELECT min(tonari_drill_sim(:t, :r, least(v.device_time, v.server_time))) FROM visit v
            WHERE v.tenant_id = t.tenant_id AND v.operation_id = t.operation_id AND v.household_id = t.household_id)
             AS first_report_s,
           (SELECT min(tonari_drill_sim(:t, :r, least(v.device_time, v.server_time))) FROM visit v
            WHERE v.tenant_id = t.tenant_id AND v.operation_id = t.operation_id AND v.household_id = t.household_id
              AND v.outcome = ANY(CAST(:confirming AS text[]))) AS confirmed_s
    FROM operation_target t
    JOIN household h ON h.tenant_id = t.tenant_id AND h.id = t.household_id
    LEFT JOIN district d ON d.tenant_id = h.tenant_id AND d.id = h.district_id
    WHERE t.tenant_id = :t AND t.operation_id = :op
    """
)

_VISITS = text(
    """
    SELECT v.id, v.outcome, v.household_id, h.district_id, d.name AS district, v.user_id,
           tonari_drill_sim(:t, :r, least(v.device_time, v.server_time)) AS sim_s, v.server_time,
           EXISTS (SELECT 1 FROM drill_bot_step s WHERE s.tenant_id = v.tenant_id AND s.run_id = :r
                   AND s.household_id = v.household_id AND s.kind = 'visit' AND s.done_at IS NOT NULL
                   AND s.user_id = v.user_id) AS by_bot,
           v.client_id
    FROM visit v
    JOIN household h ON h.tenant_id = v.tenant_id AND h.id = v.household_id
    LEFT JOIN district d ON d.tenant_id = h.tenant_id AND d.id = h.district_id
    WHERE v.tenant_id = :t AND v.operation_id = :op
    ORDER BY sim_s, v.server_time, v.id
    """
)

_ESCALATIONS = text(
    """
    SELECT e.id, e.level, e.outcome, e.status, h.district_id, d.name AS district,
           -- raised when its visit was recorded (the row's created_at is its transaction's start,
           -- which may precede a jump of the drill clock in the same transaction)
           tonari_drill_sim(:t, :r, least(v.device_time, v.server_time)) AS raised_s,
           tonari_drill_sim(:t, :r, e.acknowledged_at) AS acknowledged_s, e.created_at, e.acknowledged_at
    FROM escalation e
    JOIN visit v ON v.tenant_id = e.tenant_id AND v.id = e.visit_id
    JOIN household h ON h.tenant_id = e.tenant_id AND h.id = e.household_id
    LEFT JOIN district d ON d.tenant_id = h.tenant_id AND d.id = h.district_id
    WHERE e.tenant_id = :t AND e.operation_id = :op
    ORDER BY e.created_at, e.id
    """
)

_INJECTS = text(
    """
    SELECT i.seq, i.at_s, i.kind, i.audience, i.spec, f.sim_s, f.fired_at, f.due_at, f.effect
    FROM drill_inject i LEFT JOIN drill_inject_fired f USING (tenant_id, run_id, seq)
    WHERE i.tenant_id = :t AND i.run_id = :r ORDER BY i.at_s, i.seq
    """
)

_DISTRICT_SCOPE = text(
    """
    WITH RECURSIVE down AS (
        SELECT id FROM district WHERE tenant_id = :t AND (name = :name OR code = :name)
        UNION SELECT d.id FROM district d JOIN down ON d.parent_id = down.id WHERE d.tenant_id = :t)
    SELECT id FROM down
    """
)


def _t(seconds: float | None) -> str | None:
    return format_time(seconds) if seconds is not None else None


def _within(value: float | None, limit: float) -> bool:
    return value is not None and value <= limit + 0.001


async def build(db: AsyncSession, run: DrillRun) -> dict[str, Any]:
    """The report as JSON values."""
    s = msgspec.convert(run.scenario, Scenario)
    p = {"t": run.tenant_id, "r": run.id, "op": run.operation_id, "confirming": list(CONFIRMING)}
    targets = (await db.execute(_TARGETS, p)).all() if run.operation_id else []
    visits = (await db.execute(_VISITS, p)).all() if run.operation_id else []
    escalations = (await db.execute(_ESCALATIONS, p)).all() if run.operation_id else []
    injects = (await db.execute(_INJECTS, p)).all()
    marks = {
        r.expectation: r
        for r in (
            await db.execute(
                text(
                    "SELECT expectation, passed, comment, marked_at FROM drill_mark WHERE tenant_id = :t AND run_id = :r"
                ),
                p,
            )
        ).all()
    }
    steps = (
        await db.execute(
            text(
                "SELECT kind, coalesce(result, 'pending') AS result, count(*) AS n FROM drill_bot_step"
                " WHERE tenant_id = :t AND run_id = :r GROUP BY 1, 2 ORDER BY 1, 2"
            ),
            p,
        )
    ).all()

    # Per district: totals, confirmation curve, first report and completion (drill time).
    districts: dict[str, dict[str, Any]] = {}
    for row in targets:
        key = str(row.district_id) if row.district_id else "-"
        d = districts.setdefault(
            key,
            {
                "district_id": key if row.district_id else None,
                "name": row.district or "-",
                "total": 0,
                "confirmed": 0,
                "first_report_s": None,
                "confirmed_times": [],
            },
        )
        d["total"] += 1
        if row.status in CONFIRMING:
            d["confirmed"] += 1
        if row.first_report_s is not None:
            d["first_report_s"] = min(x for x in (d["first_report_s"], row.first_report_s) if x is not None)
        if row.confirmed_s is not None:
            d["confirmed_times"].append(row.confirmed_s)
    for d in districts.values():
        times = sorted(d.pop("confirmed_times"))
        d["curve"] = [[round(t, 1), i + 1] for i, t in enumerate(times)]
        d["completion_s"] = times[-1] if times and len(times) == d["total"] else None
        d["first_report"], d["completion"] = _t(d["first_report_s"]), _t(d["completion_s"])
    all_confirmed = sorted(r.confirmed_s for r in targets if r.confirmed_s is not None)
    first_report = min((v.sim_s for v in visits if v.sim_s is not None), default=None)
    completion = all_confirmed[-1] if targets and len(all_confirmed) == len(targets) else None

    ack_times = [
        e.acknowledged_s - e.raised_s for e in escalations if e.acknowledged_s is not None and e.raised_s is not None
    ]
    by_status: dict[str, int] = {}
    for r in targets:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    by_outcome: dict[str, int] = {}
    for v in visits:
        by_outcome[v.outcome] = by_outcome.get(v.outcome, 0) + 1

    vc_part: dict[str, Any] | None = None
    if s.exercise == "vc" and run.operation_id is not None:
        end_s = run.sim_anchor_s if run.status in ("stopped", "finished") else float(run.duration_s)
        vc_part = await vc.report_part(db, run, end_s)

    expectations = []
    for i, exp in enumerate(s.expectations):
        if exp.kind in VC_EXPECTATIONS and vc_part is not None:
            passed, evidence = vc.judge(exp, vc_part)
            expectations.append(_judged(i, exp, passed, evidence))
            continue
        expectations.append(await _judge(db, run, i, exp, targets, visits, escalations, first_report, marks))
    if vc_part is not None:
        vc_part.pop("_rows")

    timeline: list[dict[str, Any]] = []
    for inj in injects:
        timeline.append(
            {
                "at_s": inj.sim_s if inj.sim_s is not None else float(inj.at_s),
                "type": "inject",
                "kind": inj.kind,
                "label": DRILL_INJECT_KINDS.get(inj.kind, inj.kind),
                "due": _t(inj.at_s),
                "fired": inj.sim_s is not None,
                "late_ms": round((inj.fired_at - inj.due_at).total_seconds() * 1000) if inj.fired_at else None,
                "text": inj.spec["message"]["ja"],
                "ref": f"inject:{inj.seq}",
                "error": (inj.effect or {}).get("error"),
            }
        )
    for v in visits:
        timeline.append(
            {
                "at_s": v.sim_s,
                "type": "visit",
                "kind": v.outcome,
                "label": OUTCOMES["safety_check"].get(v.outcome, v.outcome),
                "district": v.district,
                "by": "bot" if v.by_bot else "person",
                "ref": str(v.id),
            }
        )
    for e in escalations:
        timeline.append(
            {
                "at_s": e.raised_s,
                "type": "escalation",
                "kind": e.outcome,
                "label": OUTCOMES["safety_check"].get(e.outcome, e.outcome),
                "district": e.district,
                "ref": str(e.id),
            }
        )
        if e.acknowledged_s is not None:
            timeline.append(
                {
                    "at_s": e.acknowledged_s,
                    "type": "acknowledged",
                    "kind": e.outcome,
                    "label": "受信確認",
                    "district": e.district,
                    "ref": str(e.id),
                }
            )
    timeline.sort(key=lambda x: (x["at_s"] if x["at_s"] is not None else float("inf"), x["type"] != "inject"))
    for item in timeline:
        item["at"] = _t(item["at_s"])

    return {
        "run_id": str(run.id),
        "title": run.title,
        "label": "【訓練】",
        "status": run.status,
        "scenario": run.scenario_name,
        "hazard": s.hazard.kind,
        "drill_start": s.start,
        "duration": s.duration,
        "created_at": run.created_at.isoformat(),
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
        "totals": {
            "targets": len(targets),
            "confirmed": sum(1 for r in targets if r.status in CONFIRMING),
            "by_status": dict(sorted(by_status.items())),
            "visits": len(visits),
            "visits_by_outcome": dict(sorted(by_outcome.items())),
            "visits_by_bots": sum(1 for v in visits if v.by_bot),
            "first_report_s": first_report,
            "first_report": _t(first_report),
            "completion_s": completion,
            "completion": _t(completion),
        },
        "escalations": {
            "total": len(escalations),
            "acknowledged": sum(1 for e in escalations if e.acknowledged_at is not None),
            "acknowledge_s": [round(x, 1) for x in ack_times],
            "acknowledge_median_s": round(statistics.median(ack_times), 1) if ack_times else None,
            "acknowledge_max_s": round(max(ack_times), 1) if ack_times else None,
        },
        "injects": {
            "total": len(injects),
            "fired": sum(1 for i in injects if i.sim_s is not None),
            "late_ms_max": max(
                (round((i.fired_at - i.due_at).total_seconds() * 1000) for i in injects if i.fired_at is not None),
                default=None,
            ),
        },
        "bots": [{"kind": r.kind, "result": r.result, "count": r.n} for r in steps],
        "districts": sorted(districts.values(), key=lambda d: d["name"]),
        "expectations": expectations,
        "timeline": timeline,
        "vc": vc_part,
    }


def _judged(i: int, exp: Any, passed: bool | None, evidence: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "index": i,
        "kind": exp.kind,
        "text": {"ja": exp.text.ja, "en": exp.text.en},
        "role": exp.role,
        "passed": passed,
        "evidence": evidence,
        "how": "automatic",
        "mark": "○" if passed else ("×" if passed is False else "—"),
    }


async def _judge(
    db: AsyncSession,
    run: DrillRun,
    i: int,
    exp: Any,
    targets: Sequence[Any],
    visits: Sequence[Any],
    escalations: Sequence[Any],
    first_report: float | None,
    marks: dict[int, Any],
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "index": i,
        "kind": exp.kind,
        "text": {"ja": exp.text.ja, "en": exp.text.en},
        "role": exp.role,
        "passed": None,
        "evidence": [],
        "how": "automatic",
    }
    if exp.kind == "escalations_acknowledged_within":
        limit = 60 * exp.minutes
        late = [e for e in escalations if e.acknowledged_s is None or e.acknowledged_s - e.raised_s > limit + 0.001]
        out["passed"] = not late
        out["evidence"] = [
            {"ref": str(e.id), "raised": _t(e.raised_s), "acknowledged": _t(e.acknowledged_s), "within": e not in late}
            for e in escalations
        ]
    elif exp.kind == "first_report_by":
        out["passed"] = _within(first_report, exp.by_s)
        first = next((v for v in visits if v.sim_s is not None), None)
        out["evidence"] = [{"ref": str(first.id), "at": _t(first.sim_s)}] if first else []
    elif exp.kind == "district_confirmed_by":
        ids = set((await db.execute(_DISTRICT_SCOPE, {"t": run.tenant_id, "name": exp.district})).scalars())
        inside = [r for r in targets if r.district_id in ids]
        done = [r for r in inside if _within(r.confirmed_s, exp.by_s)]
        share = 100.0 * len(done) / len(inside) if inside else 0.0
        out["passed"] = bool(inside) and share + 1e-9 >= exp.percent
        out["evidence"] = [
            {
                "district": exp.district,
                "households": len(inside),
                "confirmed_by": len(done),
                "percent": round(share, 1),
                "by": exp.by,
                "unconfirmed": [str(r.household_id) for r in inside if r not in done][:200],
            }
        ]
    else:
        mark = marks.get(i)
        out["how"] = "evaluator"
        if mark is not None:
            out["passed"] = mark.passed
            out["evidence"] = [{"comment": mark.comment, "marked_at": mark.marked_at.isoformat()}]
    out["mark"] = "○" if out["passed"] else ("×" if out["passed"] is False else "—")
    return out


# The figures two runs are compared by, read from their reports (a path into the report's JSON).
_COMPARED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("targets", ("totals", "targets")),
    ("confirmed", ("totals", "confirmed")),
    ("first_report_s", ("totals", "first_report_s")),
    ("completion_s", ("totals", "completion_s")),
    ("escalations", ("escalations", "total")),
    ("escalations_acknowledged", ("escalations", "acknowledged")),
    ("acknowledge_median_s", ("escalations", "acknowledge_median_s")),
)
_VC_COMPARED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("needs_received", ("needs", "received")),
    ("needs_closed", ("needs", "closed")),
    ("needs_closed_without_team", ("needs", "closed_without_team")),
    ("volunteers_checked_in", ("volunteers", "checked_in_people")),
    ("volunteers_enrolled_here", ("volunteers", "enrolled_here")),
    ("volunteers_minors", ("volunteers", "minors")),
    ("teams", ("teams", "total")),
    ("team_utilisation", ("teams", "utilisation")),
    ("need_to_dispatch_median_s", ("need_to_dispatch", "median_s")),
    ("need_to_dispatch_max_s", ("need_to_dispatch", "max_s")),
    ("dispatches", ("dispatches", "total")),
    ("reports_done", ("dispatches", "done")),
    ("reports_continued", ("dispatches", "continued")),
    ("near_misses", ("dispatches", "near_misses")),
    ("injuries", ("dispatches", "injuries")),
    ("equipment_lost", ("equipment_lost",)),
)
NO_VC = {
    "ja": "この回には災害VCの記録がありません（災害VCを開かないシナリオか、VCの集計が入る前に保存された報告です）。",
    "en": "This run has no volunteer-centre record (its scenario opened no centre, or its report was archived"
    " before the report had a VC part).",
}


def _at(report: dict[str, Any] | None, path: tuple[str, ...]) -> Any:
    value: Any = report
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _expectation_rows(a: dict[str, Any], b: dict[str, Any], kinds: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """Each expectation of either run (matched by kind and text, as two runs of one scenario share
    them) with its mark in each run; None where that run has no such expectation."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for side, report in (("a", a), ("b", b)):
        for e in report.get("expectations", []):
            if kinds is not None and e["kind"] not in kinds:
                continue
            row = rows.setdefault(
                (e["kind"], e["text"]["ja"]), {"kind": e["kind"], "text": e["text"], "a": None, "b": None}
            )
            row[side] = {"mark": e["mark"], "passed": e["passed"]}
    return list(rows.values())


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two runs' reports side by side (this year's drill against last year's): the safety-check
    figures and, when either run opened a drill centre, the VC part. A run without a VC part is
    said to have none (`vc.missing`, values null), never shown as zeros."""

    def run(r: dict[str, Any]) -> dict[str, Any]:
        return {
            "run_id": r["run_id"],
            "title": r["title"],
            "scenario": r.get("scenario"),
            "status": r.get("status"),
            "created_at": r.get("created_at"),
            "has_vc": r.get("vc") is not None,
        }

    vc_a, vc_b = a.get("vc"), b.get("vc")
    vc_part: dict[str, Any] | None = None
    if vc_a is not None or vc_b is not None:
        missing = [side for side, part in (("a", vc_a), ("b", vc_b)) if part is None]
        vc_part = {
            "missing": missing,
            "note": NO_VC if missing else None,
            "figures": [{"key": k, "a": _at(vc_a, path), "b": _at(vc_b, path)} for k, path in _VC_COMPARED],
            "expectations": _expectation_rows(a, b, VC_EXPECTATIONS),
        }
    return {
        "label": "【訓練】",
        "same_scenario": a.get("scenario") is not None and a.get("scenario") == b.get("scenario"),
        "runs": [run(a), run(b)],
        "figures": [{"key": k, "a": _at(a, path), "b": _at(b, path)} for k, path in _COMPARED],
        "expectations": _expectation_rows(a, b, None),
        "vc": vc_part,
    }


def timeline_csv(report: dict[str, Any]) -> bytes:
    """The raw timeline as CSV (UTF-8 with BOM, every cell inert for spreadsheets)."""
    buf = io.StringIO()
    w = SafeWriter(buf)
    w.writerow(["訓練時刻", "訓練秒", "種別", "内容", "区分", "地区", "担い手", "参照ID"])
    for item in report["timeline"]:
        w.writerow(
            [
                item.get("at") or "",
                item.get("at_s") if item.get("at_s") is not None else "",
                item["type"],
                item.get("label") or "",
                item.get("kind") or "",
                item.get("district") or "",
                item.get("by") or "",
                item.get("ref") or "",
            ]
        )
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")
