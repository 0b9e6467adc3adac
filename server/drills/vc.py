"""The volunteer-centre half of a drill: the drill centre a `vc` scenario opens, its injects as VC
rows, the VC bots (a desk and the teams it sends out), and the VC part of the after-action report.

Everything goes through the VC's own service functions (`server/vc/`: the ones its routes call),
so a drill need, check-in, team, dispatch or report obeys the same rules as a real one (insurance
before dispatch, a minor's consent, stock never below zero) and lands in the drill centre's own
rows (mode `drill`, 【訓練】 on its board, statistics and export). A bot's refused action is
rolled back to a savepoint and counted, never half-written. Drill times are read from the rows'
own timestamps through the run's clock log (`tonari_drill_sim`).
"""

from __future__ import annotations

import hashlib
import statistics
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from server.core import context
from server.core.problems import Problem
from server.db.engine import restamp
from server.drills.models import DrillRun
from server.drills.scenario import Bots, Scenario, format_time
from server.operations.models import Operation
from server.vc import dispatch as vc_dispatch
from server.vc import needs as vc_needs
from server.vc import reception, teams
from server.vc.common import Centre, audit_vc, get_centre, normalise_kana, normalise_phone
from server.vc.models import VcDispatch, VcNeed, VcTeam
from server.vc.schemas import (
    CentreIn,
    DispatchIn,
    EquipmentIn,
    EquipmentLine,
    InsuranceIn,
    NeedIn,
    ReportIn,
    ReturnLine,
    SurveyIn,
    TeamIn,
    VolunteerIn,
)

DRILL = "【訓練】"
# Synthetic requesters: a family and a given name drawn by the run's seed (never a real person).
FAMILIES = ["アオヤマ", "イケダ", "ウチダ", "エモト", "オオノ", "カネコ", "キタムラ", "クロダ", "コウノ", "サカイ"]
GIVEN = ["ハルカ", "ミノル", "サチコ", "タケシ", "ノリコ", "イサム", "ヨウコ", "マサオ", "カズエ", "ススム"]
ADULT_BANDS = ["age_18_29", "age_30_49", "age_50_64", "age_65_plus"]


def share(seed: int, key: str) -> float:
    """A reproducible number in [0, 1) from the run's seed and a key (as the watcher bots draw)."""
    return int(hashlib.md5(f"{seed}:{key}".encode()).hexdigest()[:8], 16) / 2**32


# --- the drill centre ------------------------------------------------------------------------


_POINT_IN_DISTRICT = text(
    "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM district"
    " WHERE tenant_id = :t AND id = :d) x"
)


async def open_centre(db: AsyncSession, title: str, s: Scenario, districts: dict[str, uuid.UUID]) -> Operation:
    """Open the drill's centre (a `vc` operation, mode drill) and stock its shelves."""
    if s.vc.base is not None:
        lon, lat = s.vc.base
    else:
        name = s.vc.district or (s.area.districts[0] if s.area.districts else None)
        row = (
            (await db.execute(_POINT_IN_DISTRICT, {"t": context.current().tenant_id, "d": districts[name]})).first()
            if name
            else None
        )
        if row is None:
            raise Problem(
                "scenario_invalid",
                detail_ja="災害VCの場所がありません（vc.base か vc.district を指定してください）。",
                detail_en="The volunteer centre has no place: give vc.base or vc.district.",
            )
        lon, lat = float(row[0]), float(row[1])
    c = await vc_needs.create_centre(db, CentreIn(mode="drill", name=(s.vc.centre or title)[:200], lon=lon, lat=lat))
    for code, quantity in sorted(s.vc.equipment.items()):
        await vc_dispatch.add_stock(db, c, EquipmentIn(code=code, quantity=quantity))
    return c.op


# --- injects as VC rows ----------------------------------------------------------------------


_SPOT = text(
    "SELECT ST_X(p), ST_Y(p), name FROM (SELECT (ST_Dump(ST_GeneratePoints(geom, 1, :seed))).geom AS p, name"
    " FROM district WHERE tenant_id = :t AND id = :d) x"
)

_EARLIER_NEED = text(
    "SELECT id FROM vc_need WHERE tenant_id = :t AND operation_id = :o"
    " ORDER BY md5(CAST(:key AS text) || id::text) LIMIT 1"
)


async def _need_phoned_in(db: AsyncSession, run: DrillRun, c: Centre, seq: int, spec: dict[str, Any]) -> dict[str, Any]:
    need = spec.get("need") or {}
    count, repeats = int(spec.get("count") or 1), int(spec.get("duplicates") or 0)
    district = spec.get("district_id") or spec.get("area_district_id")
    created: list[str] = []
    repeated: list[str] = []
    for i in range(count):
        earlier = None
        if i >= count - repeats:  # a repeat call about a need phoned in before (as desks get)
            earlier_id = (
                await db.execute(_EARLIER_NEED, {"t": run.tenant_id, "o": c.id, "key": f"{run.seed}:{seq}:{i}"})
            ).scalar()
            earlier = await db.get(VcNeed, (run.tenant_id, earlier_id)) if earlier_id else None
        if earlier is not None:
            lon, lat = await _lon_lat(db, earlier)
            data = NeedIn(
                requester_name=earlier.requester_name,
                requester_kana=earlier.requester_kana,
                phone=earlier.phone,
                address=earlier.address,
                lon=lon,
                lat=lat,
                people_needed=earlier.people_needed,
                work_types=list(earlier.work_types),
                equipment=list(earlier.equipment),
                notes=DRILL + "状況付与（重複の電話）",
            )
        else:
            lon, lat, place = await _spot(db, run, c, district, f"{seq}{i:03d}")
            family = FAMILIES[int(share(run.seed, f"f{seq}:{i}") * len(FAMILIES))]
            given = GIVEN[int(share(run.seed, f"g{seq}:{i}") * len(GIVEN))]
            data = NeedIn(
                requester_name=f"訓練 {family}{given}"[:100],
                requester_kana=f"{family} {given}",
                phone=f"000-{seq:04d}-{i:04d}",  # 000: no such number in Japan
                address=f"{place}（訓練用の架空の住所 {seq}-{i + 1}）"[:300],
                lon=lon,
                lat=lat,
                people_needed=int(need.get("people") or 3),
                work_types=list(need.get("work_types") or []),
                damage_kinds=list(need.get("damage_kinds") or []),
                equipment=list(need.get("equipment") or []),
                flags=list(need.get("flags") or []),
                needs_truck=bool(need.get("needs_truck")),
                notes=(DRILL + "状況付与: " + spec["message"]["ja"])[:2000],
            )
        row = await vc_needs.take_need(db, c, data)
        (repeated if earlier is not None else created).append(str(row.id))
    return {"needs": created, "repeat_calls": repeated}


async def _lon_lat(db: AsyncSession, need: VcNeed) -> tuple[float, float]:
    row = (
        await db.execute(
            text("SELECT ST_X(location), ST_Y(location) FROM vc_need WHERE tenant_id = :t AND id = :n"),
            {"t": need.tenant_id, "n": need.id},
        )
    ).one()
    return float(row[0]), float(row[1])


async def _spot(db: AsyncSession, run: DrillRun, c: Centre, district: str | None, key: str) -> tuple[float, float, str]:
    """A house somewhere in the district (PostGIS draws it, reproducibly by the run's seed)."""
    if district:
        seed = 1 + int(share(run.seed, key) * 2**30)
        row = (await db.execute(_SPOT, {"t": run.tenant_id, "d": uuid.UUID(district), "seed": seed})).first()
        if row is not None:
            return float(row[0]), float(row[1]), str(row[2])
    lon, lat = await _lon_lat_of_base(db, c)
    return lon, lat, c.op.name


async def _lon_lat_of_base(db: AsyncSession, c: Centre) -> tuple[float, float]:
    row = (
        await db.execute(
            text("SELECT ST_X(base), ST_Y(base) FROM vc_centre WHERE tenant_id = :t AND operation_id = :o"),
            {"t": c.op.tenant_id, "o": c.id},
        )
    ).one()
    return float(row[0]), float(row[1])


async def _walk_in(db: AsyncSession, run: DrillRun, c: Centre, seq: int, spec: dict[str, Any]) -> dict[str, Any]:
    count, uninsured, minors = (
        int(spec.get("count") or 1),
        int(spec.get("uninsured") or 0),
        int(spec.get("minors") or 0),
    )
    day = c.today()
    ids = []
    for i in range(count):
        minor = uninsured <= i < uninsured + minors
        data = VolunteerIn(
            name=f"訓練ボランティア{seq}-{i + 1}",
            kana="クンレン ボランティア",
            age_band="age_16_17" if minor else ADULT_BANDS[i % len(ADULT_BANDS)],
            prefecture="08",
            group_name=spec.get("group"),
            skills=["driving"] if i % 7 == 3 else [],
            light_truck=i % 10 == 3,
            insurance="none" if i < uninsured else "enrolled",
            insured_where=None if i < uninsured else "社会福祉協議会（訓練）",
            guardian_consent_by=f"訓練 保護者{seq}-{i + 1}" if minor else None,
            vc_day=day,
        )
        ids.append(str((await reception.register_volunteer(db, c, data, day)).id))
    return {"volunteers": ids, "uninsured": uninsured, "minors": minors}


_ACTIVE = text(
    """
    SELECT d.id, d.team_id FROM vc_dispatch d
    WHERE d.tenant_id = :t AND d.operation_id = :o AND d.state = 'active'
      AND (NOT :with_equipment OR EXISTS (
            SELECT 1 FROM vc_equipment_move m JOIN vc_equipment e ON e.tenant_id = m.tenant_id AND e.id = m.equipment_id
            WHERE m.tenant_id = d.tenant_id AND m.dispatch_id = d.id AND (CAST(:code AS text) IS NULL OR e.code = :code)
            GROUP BY m.dispatch_id HAVING sum(CASE m.kind WHEN 'loan' THEN m.quantity ELSE -m.quantity END) > 0))
    ORDER BY d.dispatched_at, d.id LIMIT 1
    """
)


async def _injured(db: AsyncSession, run: DrillRun, c: Centre, spec: dict[str, Any]) -> dict[str, Any]:
    """An injury on the first team out: the team's report must carry it (the report counts it)."""
    row = (await db.execute(_ACTIVE, {"t": run.tenant_id, "o": c.id, "with_equipment": False, "code": None})).first()
    if row is None:
        return {"dispatch_id": None, "note": "no team out"}
    await audit_vc(db, c, "vc.dispatch.injury", "vc_dispatch", [row.id], drill_inject=True)
    return {"dispatch_id": str(row.id), "team_id": str(row.team_id), "injured": int(spec.get("count") or 1)}


async def _equipment_lost(db: AsyncSession, run: DrillRun, c: Centre, spec: dict[str, Any]) -> dict[str, Any]:
    """A team loses what it took out: a loss in the ledger, through the VC's own returns."""
    code = spec.get("equipment")
    row = (await db.execute(_ACTIVE, {"t": run.tenant_id, "o": c.id, "with_equipment": True, "code": code})).first()
    if row is None:
        return {"dispatch_id": None, "note": "no equipment out"}
    d = (
        await db.execute(
            select(VcDispatch).where(VcDispatch.tenant_id == run.tenant_id, VcDispatch.id == row.id).with_for_update()
        )
    ).scalar_one()
    out = {k: n for k, (_, n) in (await vc_dispatch.outstanding(db, d)).items() if n > 0}
    code = code if code in out else sorted(out)[0]
    lost = min(int(spec.get("count") or 1), out[code])
    await vc_dispatch.take_back(db, c, d, [ReturnLine(code=code, lost=lost)])
    await audit_vc(db, c, "vc.equipment.return", "vc_dispatch", [d.id], lost=lost, drill_inject=True)
    return {"dispatch_id": str(d.id), "code": code, "lost": lost}


async def apply(db: AsyncSession, run: DrillRun, seq: int, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A VC inject's effect as rows of the drill centre."""
    if run.operation_id is None:
        return {"note": "no volunteer centre"}
    c = await get_centre(db, run.operation_id, writable=True)
    if kind == "need_phoned_in":
        return await _need_phoned_in(db, run, c, seq, spec)
    if kind == "volunteer_walk_in":
        return await _walk_in(db, run, c, seq, spec)
    if kind == "volunteer_injured":
        return await _injured(db, run, c, spec)
    return await _equipment_lost(db, run, c, spec)


# --- the VC bots -----------------------------------------------------------------------------


def vc_bots(s: Scenario) -> tuple[Bots | None, Bots | None]:
    """(desk bots, volunteer-team bots) of the scenario: who the bots play."""
    return s.bots_for("vc_staff"), s.bots_for("vc_volunteer")


_PLAN_TICKS = text(
    """
    INSERT INTO drill_bot_step (tenant_id, run_id, seq, at_s, kind, user_id)
    SELECT :t, :r, (SELECT coalesce(max(seq) + 1, 0) FROM drill_bot_step WHERE tenant_id = :t AND run_id = :r) + k,
           CAST(:first AS float8) + k * CAST(:every AS float8), 'vc_desk', :user
    FROM generate_series(0, floor((CAST(:end AS float8) - :first) / :every)::int) AS k
    WHERE CAST(:first AS float8) <= :end
    """
)


async def plan(db: AsyncSession, run: DrillRun, s: Scenario) -> int:
    """The VC bots look at the board every `desk_minutes` of drill time, from their start delay to
    the drill's end (a tick does whatever is due then; no plan can know the day ahead)."""
    desk, volunteers = vc_bots(s)
    b = desk or volunteers
    if b is None or run.operation_id is None or s.exercise != "vc":
        return 0
    user = await desk_user(db, run)
    result = await db.execute(
        _PLAN_TICKS,
        {
            "t": run.tenant_id,
            "r": run.id,
            "first": 60 * b.start_delay_minutes,
            "every": 60 * b.desk_minutes,
            "end": float(run.duration_s),
            "user": user,
        },
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult of an INSERT


async def desk_user(db: AsyncSession, run: DrillRun) -> uuid.UUID:
    """The desk bots sign as the council's VC desk account (応援職員), else as the run's starter."""
    found: uuid.UUID | None = (
        await db.execute(
            text("SELECT id FROM app_user WHERE tenant_id = :t AND is_active AND role = 'vc_desk' ORDER BY id LIMIT 1"),
            {"t": run.tenant_id},
        )
    ).scalar_one_or_none()
    return found or run.started_by


def _sim(column: str) -> str:
    return f"tonari_drill_sim(:t, :r, {column})"


class Desk:
    """One look at the board by the VC bots, in the firing transaction."""

    def __init__(self, db: AsyncSession, run: DrillRun, c: Centre, s: Scenario, sim: float, now: datetime) -> None:
        self.db, self.run, self.c, self.s, self.sim, self.now = db, run, c, s, sim, now
        self.desk, self.volunteers = vc_bots(s)
        # The desk's settings (pace, surveys, teams) and the teams' (work time, 完了/継続, ヒヤリハット).
        self.desk_b: Bots = self.desk or self.volunteers or Bots()
        self.team_b: Bots = self.volunteers or self.desk or Bots()
        self.day = c.today()
        self.done: Counter[str] = Counter()
        self.p = {"t": run.tenant_id, "r": run.id, "o": c.id, "d": self.day}

    async def attempt(self, what: str, action: Any) -> Any:
        """One action in a savepoint: refused by the VC's rules, it leaves nothing and is counted."""
        try:
            async with self.db.begin_nested():
                found = await action
        except Problem as p:
            self.done[f"refused:{p.code}"] += 1
            return None
        self.done[what] += 1
        return found

    async def ids(self, sql: str, **extra: Any) -> list[uuid.UUID]:
        return list((await self.db.execute(text(sql), {**self.p, **extra})).scalars())

    async def run_desk(self) -> None:
        for need_id in await self.ids(
            "SELECT id FROM vc_need WHERE tenant_id = :t AND operation_id = :o AND state = 'received'"
            " ORDER BY created_at, id"
        ):
            await self.attempt("to_survey", self._to_survey(need_id))
        for need_id in await self.ids(
            "SELECT id FROM vc_need WHERE tenant_id = :t AND operation_id = :o AND state = 'survey'"
            f" AND {_sim('created_at')} + :wait <= :sim ORDER BY created_at, id",
            wait=60 * self.desk_b.survey_minutes,
            sim=self.sim + 0.001,
        ):
            await self.attempt("surveyed", self._survey(need_id))
        if self.desk_b.enrol_uninsured:
            for v in await self.ids(
                "SELECT v.id FROM vc_volunteer v JOIN vc_checkin ci ON ci.tenant_id = v.tenant_id"
                " AND ci.volunteer_id = v.id AND ci.vc_day = :d"
                " WHERE v.tenant_id = :t AND v.operation_id = :o AND v.insurance = 'none' ORDER BY ci.checked_in_at, v.id"
            ):
                await self.attempt("enrolled", self._enrol(v))
        await self._form_teams()
        await self._dispatch()

    async def _to_survey(self, need_id: uuid.UUID) -> None:
        c, need = await vc_needs.need_for_update(self.db, need_id)
        await vc_needs.set_need_state(self.db, c, need, "survey")

    async def _survey(self, need_id: uuid.UUID) -> None:
        """A repeat call (same phone as a need taken earlier) is closed as 活動不要 with the reason."""
        c, need = await vc_needs.need_for_update(self.db, need_id)
        found = await vc_needs.find_duplicates(
            self.db, c, normalise_phone(need.phone), normalise_kana(need.requester_kana), None, None
        )
        earlier = (  # taken before this one (calls taken in one transaction: in order of id)
            await self.db.execute(
                select(VcNeed.id).where(
                    VcNeed.tenant_id == need.tenant_id,
                    VcNeed.id.in_([f.need_id for f in found if "phone" in f.reasons and f.need_id != need.id]),
                    tuple_(VcNeed.created_at, VcNeed.id) < tuple_(need.created_at, need.id),
                )
            )
        ).first()
        if earlier is not None:
            self.done["duplicates"] += 1
        await vc_needs.record_survey(
            self.db,
            c,
            need,
            SurveyIn(
                verdict="not_needed" if earlier is not None else "needed",
                surveyor="訓練 調査員（模擬）",
                risk_notes=f"{DRILL}重複受付（先の受付 {earlier[0]}）" if earlier is not None else None,
            ),
        )

    async def _enrol(self, volunteer_id: uuid.UUID) -> None:
        c, v = await reception.volunteer_for_update(self.db, volunteer_id)
        await reception.record_insurance(
            self.db, c, v, InsuranceIn(insurance="enrolled_here", insurance_receipt=f"訓練-{str(v.id)[-8:]}")
        )

    async def _form_teams(self) -> None:
        free = (
            await self.db.execute(
                text(
                    "SELECT v.id, v.age_band, v.group_size FROM vc_volunteer v JOIN vc_checkin ci"
                    " ON ci.tenant_id = v.tenant_id AND ci.volunteer_id = v.id AND ci.vc_day = :d"
                    " WHERE v.tenant_id = :t AND v.operation_id = :o AND v.insurance <> 'none'"
                    "   AND NOT EXISTS (SELECT 1 FROM vc_team_member m WHERE m.tenant_id = v.tenant_id"
                    "                   AND m.volunteer_id = v.id AND m.vc_day = :d)"
                    " ORDER BY ci.checked_in_at, v.id"
                ),
                self.p,
            )
        ).all()
        size = self.desk_b.team_size
        chunks = [free[i : i + size] for i in range(0, len(free), size)]
        if chunks and len(chunks[-1]) < max(2, size // 2):
            chunks.pop()  # too few for a team yet: they wait for the next walk-ins
        existing = len(
            await self.ids("SELECT id FROM vc_team WHERE tenant_id = :t AND operation_id = :o AND vc_day = :d")
        )
        for k, chunk in enumerate(chunks):
            adults = [v for v in chunk if v.age_band not in reception.MINOR_BANDS] or list(chunk)
            leader = adults[0].id
            data = TeamIn(
                name=f"訓練{existing + k + 1}班",
                leader_id=leader,
                member_ids=[v.id for v in chunk if v.id != leader] or [leader],
                vc_day=self.day,
            )
            await self.attempt("teams", teams.new_team(self.db, self.c, data, self.day))

    async def _dispatch(self) -> None:
        idle = (
            await self.db.execute(
                select(VcTeam)
                .where(
                    VcTeam.tenant_id == self.run.tenant_id,
                    VcTeam.operation_id == self.c.id,
                    VcTeam.vc_day == self.day,
                    ~select(VcDispatch.id)
                    .where(
                        VcDispatch.tenant_id == VcTeam.tenant_id,
                        VcDispatch.team_id == VcTeam.id,
                        VcDispatch.state == "active",
                    )
                    .exists(),
                )
                .order_by(VcTeam.created_at, VcTeam.id)
            )
        ).scalars()
        taken: set[uuid.UUID] = set()
        for team in list(idle):
            found = await teams.suggestions(self.db, self.c, self.day, team.id, per_team=10)
            pick = next((s for f in found for s in f.suggestions if s.need_id not in taken), None)
            if pick is None:
                continue
            taken.add(pick.need_id)
            need = await self.db.get(VcNeed, (self.run.tenant_id, pick.need_id))
            assert need is not None
            stock = {e.code: e.stock for e in await vc_dispatch.ledger(self.db, self.c)}
            lines = [
                EquipmentLine(code=code, quantity=min(team.people, stock[code]))
                for code in need.equipment
                if stock.get(code, 0) > 0
            ]
            await self.attempt(
                "dispatches",
                vc_dispatch.send_team(self.db, self.c, DispatchIn(team_id=team.id, need_id=need.id, equipment=lines)),
            )

    async def run_teams(self) -> None:
        """Teams whose work time is up report back: 完了 or 継続 by the scenario's share, a
        ヒヤリハット now and then, an injury an inject gave them, everything not lost returned."""
        due = await self.ids(
            "SELECT id FROM vc_dispatch WHERE tenant_id = :t AND operation_id = :o AND state = 'active'"
            f" AND {_sim('dispatched_at')} + :work <= :sim ORDER BY dispatched_at, id",
            work=60 * self.team_b.work_minutes,
            sim=self.sim + 0.001,
        )
        for dispatch_id in due:
            await self.attempt("reports", self._report(dispatch_id))

    async def _report(self, dispatch_id: uuid.UUID) -> None:
        d = (
            await self.db.execute(
                select(VcDispatch)
                .where(VcDispatch.tenant_id == self.run.tenant_id, VcDispatch.id == dispatch_id)
                .with_for_update()
            )
        ).scalar_one()
        if d.state != "active":  # a person reported it first
            return
        team = await self.db.get(VcTeam, (d.tenant_id, d.team_id))
        assert team is not None
        injured = (
            await self.db.execute(
                text(
                    "SELECT coalesce(sum(CAST(effect->>'injured' AS int)), 0) FROM drill_inject_fired"
                    " WHERE tenant_id = :t AND run_id = :r AND effect->>'dispatch_id' = :d"
                ),
                {"t": self.run.tenant_id, "r": self.run.id, "d": str(d.id)},
            )
        ).scalar_one()
        done = share(self.run.seed, f"done:{d.id}") < self.team_b.done_share
        near_miss = share(self.run.seed, f"near:{d.id}") < self.team_b.near_miss_share
        returns = [
            ReturnLine(code=code, returned=n)
            for code, (_, n) in sorted((await vc_dispatch.outstanding(self.db, d)).items())
            if n > 0
        ]
        await vc_dispatch.file_report(
            self.db,
            self.c,
            d,
            ReportIn(
                client_id=uuid.uuid5(self.run.id, f"vc-report:{d.id}"),
                outcome="done" if done else "continued",
                people=team.people,
                hours=round(self.team_b.work_minutes / 60, 1),
                device_time=self.now,
                work_done=DRILL + "模擬: 作業を実施",
                remaining=None if done else DRILL + "模擬: 作業が残っています",
                injuries=int(injured),
                injury_notes=DRILL + "状況付与による負傷" if injured else None,
                near_misses=DRILL + "模擬: 足元の釘に注意" if near_miss else None,
                returns=returns,
            ),
        )


async def desk_tick(db: AsyncSession, run: DrillRun, s: Scenario, user_id: uuid.UUID, sim: float, now: datetime) -> str:
    """One look at the board by the VC bots, signed as the desk user; returns what it did."""
    assert run.operation_id is not None
    c = await get_centre(db, run.operation_id)
    if c.op.status != "active":
        return "closed"
    role = (
        await db.execute(
            text("SELECT role FROM app_user WHERE tenant_id = :t AND id = :u"), {"t": run.tenant_id, "u": user_id}
        )
    ).scalar_one_or_none()
    outer = context.current()
    token = context.set_context(
        context.RequestContext(
            request_id=outer.request_id, tenant_id=run.tenant_id, user_id=user_id, role=role or "staff"
        )
    )
    try:
        await restamp(db)
        desk = Desk(db, run, c, s, sim, now)
        if desk.volunteers is not None:
            await desk.run_teams()
        if desk.desk is not None:
            await desk.run_desk()
    finally:
        context.reset(token)
        await restamp(db)
    done = desk.done
    return ",".join(f"{k}{n}" for k, n in sorted(done.items()) if not k.startswith("refused"))[:32] or "idle"


# The drill centre's rows, children first (the VC's foreign keys restrict), only a drill centre's.
_DELETE = [
    "DELETE FROM vc_report r USING vc_dispatch d WHERE r.tenant_id = :t AND d.tenant_id = r.tenant_id"
    " AND d.id = r.dispatch_id AND d.operation_id = :o",
    "DELETE FROM vc_equipment_move m USING vc_equipment e WHERE m.tenant_id = :t AND e.tenant_id = m.tenant_id"
    " AND e.id = m.equipment_id AND e.operation_id = :o",
    "DELETE FROM vc_dispatch WHERE tenant_id = :t AND operation_id = :o",
    "DELETE FROM vc_team_member m USING vc_team t WHERE m.tenant_id = :t AND t.tenant_id = m.tenant_id"
    " AND t.id = m.team_id AND t.operation_id = :o",
    "DELETE FROM vc_team WHERE tenant_id = :t AND operation_id = :o",
    "DELETE FROM vc_checkin WHERE tenant_id = :t AND operation_id = :o",
    "DELETE FROM vc_survey s USING vc_need n WHERE s.tenant_id = :t AND n.tenant_id = s.tenant_id"
    " AND n.id = s.need_id AND n.operation_id = :o",
    "UPDATE vc_volunteer SET guardian_id = NULL WHERE tenant_id = :t AND operation_id = :o AND guardian_id IS NOT NULL",
    "DELETE FROM vc_volunteer WHERE tenant_id = :t AND operation_id = :o",
    "DELETE FROM vc_need WHERE tenant_id = :t AND operation_id = :o",
    "DELETE FROM vc_equipment WHERE tenant_id = :t AND operation_id = :o",
    "DELETE FROM vc_centre WHERE tenant_id = :t AND operation_id = :o AND mode = 'drill'",
]


async def delete(db: AsyncSession, run: DrillRun) -> None:
    """The drill centre's rows go with its archived drill (the audit log keeps the trail)."""
    if run.operation_id is None:
        return
    is_drill_centre = (
        await db.execute(
            text("SELECT 1 FROM vc_centre WHERE tenant_id = :t AND operation_id = :o AND mode = 'drill'"),
            {"t": run.tenant_id, "o": run.operation_id},
        )
    ).first()
    if is_drill_centre is None:
        return
    for sql in _DELETE:
        await db.execute(text(sql), {"t": run.tenant_id, "o": run.operation_id})


# --- the report's VC part --------------------------------------------------------------------


_NEEDS = text(
    f"""
    SELECT n.id, n.state, {_sim("n.created_at")} AS received_s,
           (SELECT min({_sim("d.dispatched_at")}) FROM vc_dispatch d
            WHERE d.tenant_id = n.tenant_id AND d.need_id = n.id) AS dispatched_s,
           EXISTS (SELECT 1 FROM vc_survey s WHERE s.tenant_id = n.tenant_id AND s.need_id = n.id
                   AND s.verdict = 'not_needed') AS closed_without_team,
           (SELECT max({_sim("r.server_time")}) FROM vc_report r JOIN vc_dispatch d
              ON d.tenant_id = r.tenant_id AND d.id = r.dispatch_id
            WHERE d.tenant_id = n.tenant_id AND d.need_id = n.id AND r.outcome = 'done') AS done_s,
           (SELECT max({_sim("s.surveyed_at")}) FROM vc_survey s WHERE s.tenant_id = n.tenant_id
              AND s.need_id = n.id AND s.verdict = 'not_needed') AS not_needed_s
    FROM vc_need n WHERE n.tenant_id = :t AND n.operation_id = :o ORDER BY n.created_at, n.id
    """
)

_TEAMS = text(
    f"""
    SELECT t.id, t.name, t.people, {_sim("t.created_at")} AS formed_s,
           coalesce((SELECT sum(least(coalesce({_sim("r.server_time")}, :end), :end) - {_sim("d.dispatched_at")})
                     FROM vc_dispatch d LEFT JOIN vc_report r ON r.tenant_id = d.tenant_id AND r.dispatch_id = d.id
                     WHERE d.tenant_id = t.tenant_id AND d.team_id = t.id), 0) AS busy_s,
           (SELECT count(*) FROM vc_dispatch d WHERE d.tenant_id = t.tenant_id AND d.team_id = t.id) AS dispatches
    FROM vc_team t WHERE t.tenant_id = :t AND t.operation_id = :o ORDER BY t.created_at, t.id
    """
)

_DISPATCHES = text(
    f"""
    SELECT d.id, d.state, {_sim("d.dispatched_at")} AS dispatched_s, r.outcome, r.injuries, r.near_misses,
           {_sim("r.server_time")} AS reported_s,
           (SELECT array_agg(v.id) FROM vc_team_member m JOIN vc_volunteer v ON v.tenant_id = m.tenant_id
              AND v.id = m.volunteer_id WHERE m.tenant_id = d.tenant_id AND m.team_id = d.team_id
              AND (v.insurance = 'none' OR (v.insured_on IS NOT NULL AND v.insured_on > d.vc_day)))
             AS uninsured
    FROM vc_dispatch d LEFT JOIN vc_report r ON r.tenant_id = d.tenant_id AND r.dispatch_id = d.id
    WHERE d.tenant_id = :t AND d.operation_id = :o ORDER BY d.dispatched_at, d.id
    """
)

_PEOPLE = text(
    """
    SELECT count(*) AS registered, coalesce(sum(ci.people), 0) AS checked_in,
           count(*) FILTER (WHERE v.age_band IN ('under_16', 'age_16_17')) AS minors,
           count(*) FILTER (WHERE v.insurance = 'enrolled_here') AS enrolled_here,
           count(*) FILTER (WHERE v.insurance = 'none') AS uninsured
    FROM vc_volunteer v LEFT JOIN vc_checkin ci ON ci.tenant_id = v.tenant_id AND ci.volunteer_id = v.id
    WHERE v.tenant_id = :t AND v.operation_id = :o
    """
)

_LOST = text(
    "SELECT coalesce(sum(m.quantity), 0) FROM vc_equipment_move m JOIN vc_equipment e ON e.tenant_id = m.tenant_id"
    " AND e.id = m.equipment_id WHERE m.tenant_id = :t AND e.operation_id = :o AND m.kind = 'loss'"
)


def _t(seconds: float | None) -> str | None:
    return format_time(seconds) if seconds is not None else None


async def report_part(db: AsyncSession, run: DrillRun, end_s: float) -> dict[str, Any]:
    """Needs received and closed, team utilisation, need → dispatch times, the teams' reports."""
    assert run.operation_id is not None
    p = {"t": run.tenant_id, "r": run.id, "o": run.operation_id, "end": end_s}
    needs = (await db.execute(_NEEDS, p)).all()
    team_rows = (await db.execute(_TEAMS, p)).all()
    dispatches = (await db.execute(_DISPATCHES, p)).all()
    people = (await db.execute(_PEOPLE, p)).one()
    lost = (await db.execute(_LOST, p)).scalar_one()
    waits = [n.dispatched_s - n.received_s for n in needs if n.dispatched_s is not None and n.received_s is not None]
    by_state = Counter(n.state for n in needs)
    per_team = []
    for t in team_rows:
        available = max(end_s - (t.formed_s or 0.0), 0.0)
        per_team.append(
            {
                "ref": str(t.id),
                "name": t.name,
                "people": t.people,
                "formed": _t(t.formed_s),
                "dispatches": t.dispatches,
                "busy_s": round(float(t.busy_s), 1),
                "utilisation": round(float(t.busy_s) / available, 3) if available > 0 else None,
            }
        )
    busy, available = (
        sum(float(t.busy_s) for t in team_rows),
        sum(max(end_s - (t.formed_s or 0.0), 0.0) for t in team_rows),
    )
    reported = [d for d in dispatches if d.outcome is not None]
    return {
        "operation_id": str(run.operation_id),
        "needs": {
            "received": len(needs),
            "closed": by_state.get("done", 0),
            "closed_by_teams": sum(1 for n in needs if n.done_s is not None),
            "closed_without_team": sum(1 for n in needs if n.closed_without_team),
            "by_state": dict(sorted(by_state.items())),
        },
        "volunteers": {
            "registered": people.registered,
            "checked_in_people": int(people.checked_in),
            "minors": people.minors,
            "enrolled_here": people.enrolled_here,
            "uninsured": people.uninsured,
        },
        "teams": {
            "total": len(team_rows),
            "utilisation": round(busy / available, 3) if available > 0 else None,
            "per_team": per_team,
        },
        "need_to_dispatch": {
            "count": len(waits),
            "median_s": round(statistics.median(waits), 1) if waits else None,
            "max_s": round(max(waits), 1) if waits else None,
            "median": _t(statistics.median(waits)) if waits else None,
        },
        "dispatches": {
            "total": len(dispatches),
            "reported": len(reported),
            "done": sum(1 for d in reported if d.outcome == "done"),
            "continued": sum(1 for d in reported if d.outcome == "continued"),
            "near_misses": sum(1 for d in reported if d.near_misses),
            "injuries": sum(int(d.injuries or 0) for d in reported),
        },
        "equipment_lost": int(lost),
        "_rows": {"needs": needs, "dispatches": dispatches},
    }


def judge(exp: Any, part: dict[str, Any]) -> tuple[bool | None, list[dict[str, Any]]]:
    """A VC expectation ○/× from the rows, with the rows that prove it."""
    needs, dispatches = part["_rows"]["needs"], part["_rows"]["dispatches"]
    if exp.kind == "vc_no_dispatch_without_insurance":
        bad = [d for d in dispatches if d.uninsured]
        evidence: list[dict[str, Any]] = [
            {"ref": str(d.id), "at": _t(d.dispatched_s), "uninsured": [str(v) for v in d.uninsured]} for d in bad
        ] or [{"dispatches": len(dispatches), "uninsured": 0}]
        return not bad, evidence
    if exp.kind == "vc_dispatch_within":
        limit = 60 * exp.minutes
        judged = [n for n in needs if not n.closed_without_team]
        late = [n for n in judged if n.dispatched_s is None or n.dispatched_s - n.received_s > limit + 0.001]
        return not late, [
            {
                "ref": str(n.id),
                "received": _t(n.received_s),
                "dispatched": _t(n.dispatched_s),
                "within": n not in late,
            }
            for n in judged
        ]
    # vc_needs_closed_by
    by = exp.by_s
    closed = [
        n
        for n in needs
        if (n.done_s is not None and n.done_s <= by + 0.001)
        or (n.not_needed_s is not None and n.not_needed_s <= by + 0.001)
    ]
    percent = 100.0 * len(closed) / len(needs) if needs else 0.0
    return bool(needs) and percent + 1e-9 >= exp.percent, [
        {
            "needs": len(needs),
            "closed_by": len(closed),
            "percent": round(percent, 1),
            "by": exp.by,
            "open": [str(n.id) for n in needs if n not in closed][:200],
        }
    ]
