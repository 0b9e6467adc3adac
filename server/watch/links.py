"""Watch links: the rules for making, changing and ending them (the API only maps HTTP onto these).

- A link is made by staff, from a suggestion or by hand. Refused: a watcher who lives in that
  household (400), a second active link between the same pair (409, also guarded by the partial
  unique index `uq_watch_link_active`), a second active primary for a household (409: demote the
  current one first, or promote with PATCH, which swaps), and a watcher at or above capacity or
  marked unavailable (409 unless `override`: staff may knowingly overload someone).
- The watcher and household rows are locked (FOR NO KEY UPDATE) for the rest of the
  transaction, so two staff accepting suggestions at once cannot both take a watcher's last
  slot or both make a primary.
- Changing the watcher of a link ends that link and makes a new one (history is kept: who
  watched whom, when); changing only the kind updates it in place. Promoting a backup to
  primary demotes the current primary.
- Ending a link sets `ended_at`; the row stays. Ending an ended link changes nothing.
- A watcher living beyond the household's district walking radius is linked only when staff
  confirm it (`confirm_far`; 409 `watch_link_beyond_radius` with the distance until then): after
  a quake they cannot walk there, so coverage counts such a link as weak cover.
- `distance_m` is measured at creation (geography, metres) and kept as the link's record;
  `since` is the tenant's local date (the column default would be the UTC date).
Every change writes one audit row in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.audit.record import record as audit
from server.core.context import current_tenant
from server.core.problems import FieldError, Problem
from server.registry.models import Household, Watcher, WatchLink
from server.tenancy.models import Tenant
from server.watch.common import DEFAULT_RADIUS_M


def _not_found(what: str) -> Problem:
    ja = {"household": "世帯", "watcher": "見守り協力員", "link": "見守りの割り当て"}[what]
    return Problem("not_found", detail_ja=f"{ja}が見つかりません。", detail_en=f"The {what} was not found.")


async def _lock_household(db: AsyncSession, household_id: uuid.UUID) -> None:
    found = await db.execute(
        select(Household.id)
        .where(Household.tenant_id == current_tenant(), Household.id == household_id)
        .with_for_update(key_share=True)
    )
    if found.first() is None:
        raise _not_found("household")


async def _lock_watcher(db: AsyncSession, watcher_id: uuid.UUID) -> Watcher:
    w = (
        await db.execute(
            select(Watcher)
            .where(Watcher.tenant_id == current_tenant(), Watcher.id == watcher_id)
            .with_for_update(key_share=True)
        )
    ).scalar_one_or_none()
    if w is None:
        raise _not_found("watcher")
    return w


async def watcher_load(db: AsyncSession, watcher_id: uuid.UUID) -> int:
    return int(
        (
            await db.execute(
                select(func.count())
                .select_from(WatchLink)
                .where(
                    WatchLink.tenant_id == current_tenant(),
                    WatchLink.watcher_id == watcher_id,
                    WatchLink.ended_at.is_(None),
                )
            )
        ).scalar_one()
    )


async def _active(db: AsyncSession, household_id: uuid.UUID) -> list[WatchLink]:
    return list(
        (
            await db.execute(
                select(WatchLink).where(
                    WatchLink.tenant_id == current_tenant(),
                    WatchLink.household_id == household_id,
                    WatchLink.ended_at.is_(None),
                )
            )
        ).scalars()
    )


async def _check_watcher(db: AsyncSession, w: Watcher, household_id: uuid.UUID, override: bool) -> dict[str, Any]:
    if w.household_id == household_id:
        raise Problem(
            "validation_failed",
            errors=[
                FieldError(
                    "watcher_id",
                    "invalid",
                    "見守り協力員は自分の世帯を見守ることはできません。",
                    "A watcher cannot watch their own household.",
                )
            ],
        )
    load = await watcher_load(db, w.id)
    notes: dict[str, Any] = {"load_before": load, "capacity": w.capacity}
    if not override:
        if not w.available:
            raise Problem(
                "conflict",
                detail_ja="この見守り協力員は現在受け付けていません（override で強制できます）。",
                detail_en="This watcher is marked unavailable (override to link anyway).",
                extra={"reason": "unavailable"},
            )
        if load >= w.capacity:
            raise Problem(
                "conflict",
                detail_ja=f"この見守り協力員は上限（{w.capacity}世帯）に達しています（override で強制できます）。",
                detail_en=f"This watcher already watches {load} of at most {w.capacity} households (override to link anyway).",
                extra={"reason": "over_capacity", "load": load, "capacity": w.capacity},
            )
    notes["over_capacity"] = load + 1 > w.capacity
    return notes


_REACH = text(
    f"""
    SELECT round(ST_Distance(w.home::geography, h.location::geography))::int AS distance_m,
           coalesce(d.walking_radius_m, {DEFAULT_RADIUS_M}) AS walking_radius_m
    FROM household h
    JOIN watcher w ON w.tenant_id = h.tenant_id AND w.id = :w
    LEFT JOIN district d ON d.tenant_id = h.tenant_id AND d.id = h.district_id
    WHERE h.tenant_id = :t AND h.id = :h
    """
)


async def _reach(db: AsyncSession, household_id: uuid.UUID, watcher_id: uuid.UUID) -> tuple[int, int]:
    """(distance in metres, the household's district's walking radius)."""
    r = (await db.execute(_REACH, {"t": current_tenant(), "h": household_id, "w": watcher_id})).one()
    return int(r.distance_m), int(r.walking_radius_m)


_REACH_OF_LINKS = text(
    f"""
    SELECT l.id, round(ST_Distance(w.home::geography, h.location::geography))::int AS distance_m,
           coalesce(d.walking_radius_m, {DEFAULT_RADIUS_M}) AS walking_radius_m
    FROM watch_link l
    JOIN household h ON h.tenant_id = l.tenant_id AND h.id = l.household_id
    JOIN watcher w ON w.tenant_id = l.tenant_id AND w.id = l.watcher_id
    LEFT JOIN district d ON d.tenant_id = h.tenant_id AND d.id = h.district_id
    WHERE l.tenant_id = :t AND l.id = ANY(CAST(:ids AS uuid[]))
    """
)


async def reach_of(db: AsyncSession, link_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """Per link: (distance between the watcher's home and the household now, the walking radius)."""
    if not link_ids:
        return {}
    rows = await db.execute(_REACH_OF_LINKS, {"t": current_tenant(), "ids": link_ids})
    return {r.id: (int(r.distance_m), int(r.walking_radius_m)) for r in rows}


def _check_reach(distance_m: int, radius_m: int, confirm_far: bool) -> dict[str, Any]:
    """A watcher beyond walking distance cannot check on the household after a quake: such a link
    is made only when staff confirm it (409 until then), and it counts as weak cover."""
    beyond = distance_m > radius_m
    if beyond and not confirm_far:
        raise Problem(
            "watch_link_beyond_radius",
            detail_ja=f"この見守り協力員の自宅は世帯から約{distance_m:,}mで、地区の徒歩圏（{radius_m}m）の外です。"
            "割り当てても見守りが手薄な世帯として数えられます。それでも割り当てる場合は確認してください。",
            detail_en=f"This watcher lives about {distance_m:,} m from the household, beyond the district's "
            f"walking radius of {radius_m} m; the household will still count as weakly covered. "
            "Confirm to link anyway.",
            extra={"distance_m": distance_m, "walking_radius_m": radius_m},
        )
    return {
        "distance_m": distance_m,
        "walking_radius_m": radius_m,
        "beyond_walking_radius": beyond,
        "confirm_far": confirm_far,
    }


async def local_today(db: AsyncSession) -> date:
    """Today in the tenant's time zone (the column default, current_date, would be UTC's)."""
    tz = (await db.execute(select(Tenant.time_zone).where(Tenant.id == current_tenant()))).scalar_one_or_none()
    return datetime.now(ZoneInfo(tz or "Asia/Tokyo")).date()


async def _insert(
    db: AsyncSession, household_id: uuid.UUID, watcher_id: uuid.UUID, kind: str, distance_m: int
) -> WatchLink:
    link = WatchLink(
        tenant_id=current_tenant(),
        id=uuid.uuid4(),
        household_id=household_id,
        watcher_id=watcher_id,
        kind=kind,
        since=await local_today(db),
        distance_m=distance_m,
    )
    db.add(link)
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError as exc:
        raise _duplicate() from exc
    return link


def _duplicate() -> Problem:
    return Problem(
        "conflict",
        detail_ja="この見守り協力員は既にこの世帯を見守っています。",
        detail_en="This watcher already watches this household.",
        extra={"reason": "duplicate"},
    )


def _primary_taken() -> Problem:
    return Problem(
        "conflict",
        detail_ja="この世帯には既に主担当がいます。先に副担当に変更してください。",
        detail_en="This household already has a primary watcher; make that one a backup first.",
        extra={"reason": "primary_exists"},
    )


async def create_link(
    db: AsyncSession,
    household_id: uuid.UUID,
    watcher_id: uuid.UUID,
    kind: str,
    override: bool = False,
    via: str = "manual",
    confirm_far: bool = False,
) -> WatchLink:
    await _lock_household(db, household_id)
    w = await _lock_watcher(db, watcher_id)
    active = await _active(db, household_id)
    if any(link.watcher_id == watcher_id for link in active):
        raise _duplicate()
    notes = await _check_watcher(db, w, household_id, override)
    if kind == "primary" and any(link.kind == "primary" for link in active):
        raise _primary_taken()
    notes.update(_check_reach(*await _reach(db, household_id, watcher_id), confirm_far))
    link = await _insert(db, household_id, watcher_id, kind, notes["distance_m"])
    await audit(
        db,
        "watch_link.create",
        object_type="watch_link",
        object_ids=[link.id, household_id, watcher_id],
        details={
            "household_id": str(household_id),
            "watcher_id": str(watcher_id),
            "kind": kind,
            "override": override,
            "via": via,
            **notes,
        },
    )
    return link


async def _get_active_link(db: AsyncSession, link_id: uuid.UUID) -> WatchLink:
    link = (
        await db.execute(
            select(WatchLink).where(WatchLink.tenant_id == current_tenant(), WatchLink.id == link_id).with_for_update()
        )
    ).scalar_one_or_none()
    if link is None:
        raise _not_found("link")
    if link.ended_at is not None:
        raise Problem(
            "conflict",
            detail_ja="この割り当ては既に終了しています。",
            detail_en="This link has ended.",
            extra={"reason": "ended"},
        )
    return link


async def change_link(
    db: AsyncSession,
    link_id: uuid.UUID,
    kind: str | None,
    watcher_id: uuid.UUID | None,
    override: bool = False,
    confirm_far: bool = False,
) -> WatchLink:
    link = await _get_active_link(db, link_id)
    await _lock_household(db, link.household_id)
    new_kind = kind or link.kind
    details: dict[str, Any] = {
        "household_id": str(link.household_id),
        "from": {"watcher_id": str(link.watcher_id), "kind": link.kind},
    }
    demoted: list[WatchLink] = []
    if new_kind == "primary":
        demoted = [x for x in await _active(db, link.household_id) if x.kind == "primary" and x.id != link.id]
    result = link
    if watcher_id is not None and watcher_id != link.watcher_id:
        w = await _lock_watcher(db, watcher_id)
        if any(x.watcher_id == watcher_id for x in await _active(db, link.household_id)):
            raise _duplicate()
        details.update(await _check_watcher(db, w, link.household_id, override))
        details.update(_check_reach(*await _reach(db, link.household_id, watcher_id), confirm_far))
        link.ended_at = datetime.now(UTC)
        await db.flush()
        result = await _insert(db, link.household_id, watcher_id, new_kind, details["distance_m"])
        details["replaced_link_id"] = str(link.id)
    else:
        link.kind = new_kind
    for x in demoted:
        x.kind = "backup"
    await db.flush()
    details["to"] = {"watcher_id": str(result.watcher_id), "kind": result.kind}
    if demoted:
        details["demoted_link_ids"] = [str(x.id) for x in demoted]
    await audit(
        db,
        "watch_link.update",
        object_type="watch_link",
        object_ids=list(dict.fromkeys([result.id, link.id, *(x.id for x in demoted)])),
        details=details,
    )
    return result


async def ensure_exists(db: AsyncSession, household_id: uuid.UUID, watcher_id: uuid.UUID) -> None:
    if (
        await db.execute(
            select(Household.id).where(Household.tenant_id == current_tenant(), Household.id == household_id)
        )
    ).first() is None:
        raise _not_found("household")
    if (
        await db.execute(select(Watcher.id).where(Watcher.tenant_id == current_tenant(), Watcher.id == watcher_id))
    ).first() is None:
        raise _not_found("watcher")


async def end_link(db: AsyncSession, link_id: uuid.UUID) -> bool:
    """End an active link. False if it had already ended (nothing changes, nothing is audited)."""
    link = (
        await db.execute(
            select(WatchLink).where(WatchLink.tenant_id == current_tenant(), WatchLink.id == link_id).with_for_update()
        )
    ).scalar_one_or_none()
    if link is None:
        raise _not_found("link")
    if link.ended_at is not None:
        return False
    link.ended_at = datetime.now(UTC)
    await db.flush()
    await audit(
        db,
        "watch_link.end",
        object_type="watch_link",
        object_ids=[link.id, link.household_id, link.watcher_id],
        details={"household_id": str(link.household_id), "watcher_id": str(link.watcher_id), "kind": link.kind},
    )
    return True
