"""Step 4 of the VC day: forming teams (班) and the matching board (オリエン・マッチング). Matching
ranks every open need for every waiting team in one SQL statement (PostGIS distances, array
operators); the reasons are written by the database for the few suggestions it returns."""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.core.problems import FieldError, Problem
from server.db.deps import DbSession
from server.vc.common import DESK, Centre, audit_vc, emit_vc, get_centre, label, vc_day
from server.vc.models import VcCheckin, VcTeam, VcTeamMember, VcVolunteer
from server.vc.reception import age_of, guardian_in_team_below
from server.vc.schemas import Suggestion, TeamIn, TeamOut, TeamSuggestions

SUGGESTIONS_PER_TEAM = 3

# Score of a (team, need) pair; the weights are judged by coordinators' order of concern: enough
# hands first, then the truck and skills the work needs, then urgency (flags, days waiting), then
# distance from the centre.
_MATCH = text(
    """
    WITH teams AS MATERIALIZED (
        SELECT t.id, t.name, t.people,
               coalesce(bool_or(v.light_truck), false) AS truck,
               coalesce(array_agg(DISTINCT s.skill) FILTER (WHERE s.skill IS NOT NULL), '{}') AS skills
        FROM vc_team t
        JOIN vc_team_member m ON m.tenant_id = t.tenant_id AND m.team_id = t.id
        JOIN vc_volunteer v ON v.tenant_id = m.tenant_id AND v.id = m.volunteer_id
        LEFT JOIN LATERAL unnest(v.skills) AS s(skill) ON true
        WHERE t.tenant_id = :t AND t.operation_id = :o AND t.vc_day = :d
          AND (CAST(:team AS uuid) IS NULL OR t.id = :team)
          AND NOT EXISTS (SELECT 1 FROM vc_dispatch x WHERE x.tenant_id = t.tenant_id AND x.team_id = t.id
                          AND x.state = 'active')
        GROUP BY t.id, t.name, t.people
    ), stock AS MATERIALIZED (
        SELECT coalesce(array_agg(CAST(code AS text)) FILTER (WHERE stock > 0), '{}') AS codes
        FROM vc_equipment WHERE tenant_id = :t AND operation_id = :o
    ), needs AS MATERIALIZED (
        -- What depends on the need alone is scored once per need (urgency, distance, equipment).
        SELECT n.id, n.people_needed, n.needs_truck, n.skills, cardinality(n.skills) > 0 AS wants_skills,
               ST_Distance(n.location::geography, c.base::geography) / 1000.0 AS km,
               greatest(:d - n.received_on, 0) AS days_open,
               n.equipment <@ stock.codes AS equipment_ok,
               CAST(cardinality(n.flags) * 0.5 + CASE WHEN 'crisis' = ANY(n.flags) THEN 1.0 ELSE 0 END
                    + least(greatest(:d - n.received_on, 0), 5) * 0.2
                    - CASE WHEN n.equipment <@ stock.codes THEN 0 ELSE 1.0 END AS float8)
                 - ST_Distance(n.location::geography, c.base::geography) / 1000.0 * 0.3 AS base_score
        FROM vc_need n
        JOIN vc_centre c ON c.tenant_id = n.tenant_id AND c.operation_id = n.operation_id, stock
        WHERE n.tenant_id = :t AND n.operation_id = :o AND n.state IN ('waiting', 'continued')
    ), profiles AS MATERIALIZED (
        -- Teams alike in size, truck and skills get the same ranking: rank each profile once.
        SELECT DISTINCT people, truck, skills FROM teams
    ), ranked AS MATERIALIZED (
        SELECT p.people, p.truck, p.skills, best.*
        FROM profiles p
        CROSS JOIN LATERAL (
            SELECT n.id AS need_id, n.people_needed, n.needs_truck, n.skills AS need_skills, n.wants_skills, n.km,
                   n.days_open, n.equipment_ok,
                   n.base_score
                   + CASE WHEN p.people >= n.people_needed
                          THEN 4.0::float8 - least(p.people - n.people_needed, 10) * 0.1::float8
                          ELSE 4.0::float8 * p.people / n.people_needed - 1.0::float8 END
                   + CASE WHEN NOT n.needs_truck THEN 0::float8 WHEN p.truck THEN 1.0::float8 ELSE -2.0::float8 END
                   + CASE WHEN NOT n.wants_skills THEN 0::float8 WHEN n.skills <@ p.skills THEN 1.0::float8
                          ELSE -1.0::float8 END AS score
            FROM needs n
            ORDER BY score DESC, n.id
            LIMIT :k
        ) best
    )
    SELECT t.id AS team_id, t.name AS team_name, t.people, best.need_id, best.score, best.people_needed, best.km,
           concat_ws(', ',
             '人数' || least(t.people, best.people_needed) || '/' || best.people_needed,
             CASE WHEN best.needs_truck AND t.truck THEN '軽トラあり'
                  WHEN best.needs_truck THEN '軽トラなし（必要）' END,
             CASE WHEN best.wants_skills AND best.need_skills <@ t.skills THEN '技能あり'
                  WHEN best.wants_skills THEN '技能不足' END,
             CASE WHEN NOT best.equipment_ok THEN '資機材不足' END,
             to_char(best.km, 'FM990.0') || ' km',
             CASE WHEN best.days_open > 0 THEN '受付' || (best.days_open + 1) || '日目' END
           ) AS reasons
    FROM teams t
    JOIN ranked best ON best.people = t.people AND best.truck = t.truck AND best.skills = t.skills
    ORDER BY t.name, best.score DESC
    """
)


async def team_out(db: AsyncSession, team: VcTeam, mode: str) -> TeamOut:
    rows = (
        await db.execute(
            select(VcVolunteer.id, VcVolunteer.light_truck, VcVolunteer.skills)
            .join(
                VcTeamMember,
                (VcTeamMember.tenant_id == VcVolunteer.tenant_id) & (VcTeamMember.volunteer_id == VcVolunteer.id),
            )
            .where(VcTeamMember.tenant_id == team.tenant_id, VcTeamMember.team_id == team.id)
        )
    ).all()
    skills = sorted({s for r in rows for s in r.skills})
    return TeamOut(
        id=team.id,
        operation_id=team.operation_id,
        vc_day=team.vc_day,
        name=team.name,
        leader_id=team.leader_id,
        member_ids=sorted(r.id for r in rows),
        people=team.people,
        light_truck=any(r.light_truck for r in rows),
        skills=skills,
        label=label(mode),
    )


async def form_team(db: AsyncSession, c: Centre, data: TeamIn, day: date) -> VcTeam:
    members = list(dict.fromkeys([data.leader_id, *data.member_ids]))
    rows = (
        await db.execute(
            select(VcVolunteer, VcCheckin.id, VcTeamMember.team_id)
            .outerjoin(
                VcCheckin,
                (VcCheckin.tenant_id == VcVolunteer.tenant_id)
                & (VcCheckin.volunteer_id == VcVolunteer.id)
                & (VcCheckin.vc_day == day),
            )
            .outerjoin(
                VcTeamMember,
                (VcTeamMember.tenant_id == VcVolunteer.tenant_id)
                & (VcTeamMember.volunteer_id == VcVolunteer.id)
                & (VcTeamMember.vc_day == day),
            )
            .where(
                VcVolunteer.tenant_id == c.op.tenant_id,
                VcVolunteer.operation_id == c.id,
                VcVolunteer.id.in_(members),
            )
            .with_for_update(of=VcVolunteer)
        )
    ).all()
    found = {r[0].id: r for r in rows}
    unknown = [i for i, m in enumerate(members) if m not in found]
    if unknown:
        raise Problem(
            "invalid_reference", errors=[FieldError(f"member_ids[{i}]", "unknown_reference") for i in unknown]
        )
    absent = [m for m in members if found[m][1] is None]
    if absent:
        raise Problem("vc_not_checked_in", extra={"volunteer_ids": [str(m) for m in absent]})
    taken = [m for m in members if found[m][2] is not None]
    if taken:
        raise Problem("vc_already_in_team", extra={"volunteer_ids": [str(m) for m in taken]})
    people = sum(found[m][0].group_size for m in members)
    if data.people is not None and data.people > people:
        raise Problem(
            "vc_team_too_big",
            errors=[
                FieldError(
                    "people",
                    "out_of_range",
                    f"本日受付済みのメンバーは{people}人です。",
                    f"The members checked in today are {people}.",
                )
            ],
        )
    below = await guardian_in_team_below(db)
    for m in members:
        v = found[m][0]
        age = age_of(v, day)
        if age is not None and age < below and (v.guardian_id is None or v.guardian_id not in found):
            raise Problem("vc_minor_needs_guardian_in_team", extra={"volunteer_ids": [str(m)]})
    team = VcTeam(
        tenant_id=c.op.tenant_id,
        id=uuid.uuid4(),
        operation_id=c.id,
        vc_day=day,
        name=data.name,
        leader_id=data.leader_id,
        people=data.people or people,
    )
    db.add(team)
    await db.flush()
    db.add_all([VcTeamMember(tenant_id=c.op.tenant_id, team_id=team.id, volunteer_id=m, vc_day=day) for m in members])
    await db.flush()
    return team


async def new_team(db: AsyncSession, c: Centre, data: TeamIn, day: date) -> VcTeam:
    """Form a team by the rules of `form_team`, audited and on the stream; the caller commits."""
    team = await form_team(db, c, data, day)
    await audit_vc(db, c, "vc.team.create", "vc_team", [team.id])
    await emit_vc(db, c, "vc.team", {"team_id": str(team.id), "people": team.people})
    return team


async def suggestions(
    db: AsyncSession,
    c: Centre,
    day: date,
    team_id: uuid.UUID | None = None,
    per_team: int = SUGGESTIONS_PER_TEAM,
) -> list[TeamSuggestions]:
    rows = (await db.execute(_MATCH, {"t": c.op.tenant_id, "o": c.id, "d": day, "team": team_id, "k": per_team})).all()
    out: dict[uuid.UUID, TeamSuggestions] = {}
    for r in rows:
        entry = out.setdefault(
            r.team_id,
            TeamSuggestions(team_id=r.team_id, team_name=r.team_name, people=r.people, suggestions=[]),
        )
        entry.suggestions.append(
            Suggestion(
                need_id=r.need_id,
                score=round(float(r.score), 2),
                reasons=r.reasons,
                people_needed=r.people_needed,
                distance_km=round(float(r.km), 2),
            )
        )
    return list(out.values())


class TeamController(Controller):
    path = "/api/vc/centres/{operation_id:uuid}"
    tags = ("vc",)
    guards = (DESK,)

    @post("/teams", status_code=HTTP_201_CREATED, summary="Form a team (班) of volunteers checked in today")
    async def create_team(
        self, db_session: DbSession, operation_id: FromPath[uuid.UUID], data: JSONBody[TeamIn]
    ) -> TeamOut:
        c = await get_centre(db_session, operation_id, writable=True)
        day = await vc_day(db_session, c, data.vc_day)
        team = await new_team(db_session, c, data, day)
        await db_session.commit()
        return await team_out(db_session, team, c.mode)

    @get("/teams", summary="Teams of a VC day")
    async def list_teams(
        self, db_session: DbSession, operation_id: FromPath[uuid.UUID], vc_day: FromQuery[date | None] = None
    ) -> list[TeamOut]:

        c = await get_centre(db_session, operation_id)
        day = vc_day or c.today()
        teams = (
            (
                await db_session.execute(
                    select(VcTeam)
                    .where(VcTeam.tenant_id == c.op.tenant_id, VcTeam.operation_id == c.id, VcTeam.vc_day == day)
                    .order_by(VcTeam.name)
                )
            )
            .scalars()
            .all()
        )
        return [await team_out(db_session, t, c.mode) for t in teams]

    @get("/matching", summary="Suggested needs for each waiting team, best first, with the reasons")
    async def matching(
        self,
        db_session: DbSession,
        operation_id: FromPath[uuid.UUID],
        vc_day: FromQuery[date | None] = None,
        team_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[TeamSuggestions]:

        c = await get_centre(db_session, operation_id)
        day = vc_day or c.today()
        return await suggestions(db_session, c, day, team_id)
