"""`/api/watchers`: the people who watch (見守り協力員, 民生委員), their home point, load and availability.

Watchers are volunteers whose home address is personal data too: who may list whom, and who sees
the home point, is `server.registry.disclosure_watchers`; a watcher may read only their own profile.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, cast

import msgspec
from geoalchemy2.shape import to_shape
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.audit.record import record as audit
from server.core import context
from server.core.context import current_tenant
from server.core.guards import STAFF, roles
from server.core.problems import Problem
from server.core.types import MAX_OFFSET, Lat, Lon
from server.db.deps import DbSession
from server.registry import validation as v
from server.registry.crud import delete_audited
from server.registry.disclosure_watchers import WATCHER_LISTERS, sees_watcher_home, watcher_rows
from server.registry.models import Watcher, WatchLink

LISTERS = roles(*sorted(WATCHER_LISTERS))


WatcherName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
WatcherKana = Annotated[str, msgspec.Meta(max_length=200)]
WatcherPhone = Annotated[str, msgspec.Meta(max_length=32)]


class WatcherIn(msgspec.Struct, forbid_unknown_fields=True):
    name: WatcherName
    lon: Lon
    lat: Lat
    kana: WatcherKana = ""
    role: Literal["watcher", "commissioner"] = "watcher"
    phone: WatcherPhone | None = None
    capacity: Annotated[int, msgspec.Meta(ge=0, le=100)] = 5
    available: bool = True
    user_id: uuid.UUID | None = None
    district_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = None


class WatcherPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: WatcherName | None = None
    kana: WatcherKana | None = None
    phone: WatcherPhone | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    capacity: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None
    available: bool | None = None
    district_id: uuid.UUID | None = None


class WatcherOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    kana: str
    role: str
    phone: str | None
    lon: float | None  # the home point: registry keepers and the watcher themself only
    lat: float | None
    capacity: int
    load: int
    available: bool
    user_id: uuid.UUID | None
    district_id: uuid.UUID | None


async def _load(db: DbSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await db.execute(
        select(WatchLink.watcher_id, func.count())
        .where(WatchLink.tenant_id == current_tenant(), WatchLink.watcher_id.in_(ids), WatchLink.ended_at.is_(None))
        .group_by(WatchLink.watcher_id)
    )
    return {row[0]: row[1] for row in rows}  # dict(rows) fails: a Row is no 2-tuple to dict()


def _out(w: Watcher, load: int, *, home: bool = True) -> WatcherOut:
    pt = cast(Point, to_shape(w.home)) if home else None
    return WatcherOut(
        w.id,
        w.name,
        w.kana,
        w.role,
        w.phone,
        pt.x if pt else None,
        pt.y if pt else None,
        w.capacity,
        load,
        w.available,
        w.user_id,
        w.district_id,
    )


async def _validated(
    db: DbSession, name: str, kana: str, phone: str | None, lon: float | None, lat: float | None
) -> None:
    errors = [v.check_kana("kana", kana), v.check_phone("phone", phone)]
    if lon is not None and lat is not None:
        errors.append(await v.check_inside_tenant(db, current_tenant(), "lon", v.point(lon, lat)))
    v.raise_if(errors)


class WatcherController(Controller):
    path = "/api/watchers"
    tags = ("registry",)

    @get("/", guards=[LISTERS], summary="Watchers and commissioners with their current load (within my scope)")
    async def list_watchers(
        self,
        db_session: DbSession,
        district_id: FromQuery[uuid.UUID | None] = None,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
    ) -> list[WatcherOut]:
        q = select(Watcher).where(Watcher.tenant_id == current_tenant(), watcher_rows())
        if district_id:
            q = q.where(Watcher.district_id == district_id)
        rows = (
            (await db_session.execute(q.order_by(Watcher.kana, Watcher.id).offset(offset).limit(limit))).scalars().all()
        )
        load = await _load(db_session, [w.id for w in rows])
        await audit(db_session, "watcher.read", object_type="watcher", object_ids=[w.id for w in rows])
        await db_session.commit()
        home = sees_watcher_home()
        return [_out(w, load.get(w.id, 0), home=home) for w in rows]

    @get("/me", guards=[roles("watcher", "commissioner")], summary="My own watcher profile")
    async def my_profile(self, db_session: DbSession) -> WatcherOut:
        w = (
            await db_session.execute(
                select(Watcher).where(
                    Watcher.tenant_id == current_tenant(), Watcher.user_id == context.current().user_id
                )
            )
        ).scalar_one_or_none()
        if w is None:
            raise Problem("not_found")
        return _out(w, (await _load(db_session, [w.id])).get(w.id, 0))

    @post("/", guards=[STAFF], status_code=HTTP_201_CREATED, summary="Register a watcher")
    async def create_watcher(self, db_session: DbSession, data: JSONBody[WatcherIn]) -> WatcherOut:
        kana = v.normalise_kana(data.kana)
        phone = v.normalise_phone(data.phone)
        await _validated(db_session, data.name, kana, phone, data.lon, data.lat)
        w = Watcher(
            tenant_id=current_tenant(),
            id=uuid.uuid4(),
            name=data.name,
            kana=kana,
            role=data.role,
            phone=phone,
            home=v.to_db(v.point(data.lon, data.lat)),
            capacity=data.capacity,
            available=data.available,
            user_id=data.user_id,
            district_id=data.district_id,
            household_id=data.household_id,
        )
        db_session.add(w)
        try:
            await db_session.flush()
        except IntegrityError as exc:
            raise Problem(
                "conflict",
                detail_ja="このユーザーには既に見守り登録があるか、参照先が存在しません。",
                detail_en="This user already has a watcher profile, or a reference does not exist.",
            ) from exc
        await audit(db_session, "watcher.create", object_type="watcher", object_ids=[w.id])
        await db_session.commit()
        return _out(w, 0)

    @patch("/{watcher_id:uuid}", guards=[STAFF], summary="Edit a watcher")
    async def update_watcher(
        self, db_session: DbSession, watcher_id: FromPath[uuid.UUID], data: JSONBody[WatcherPatch]
    ) -> WatcherOut:
        w = await db_session.get(Watcher, (current_tenant(), watcher_id))
        if w is None:
            raise Problem("not_found")
        kana = v.normalise_kana(data.kana) if data.kana is not None else w.kana
        phone = v.normalise_phone(data.phone) if data.phone is not None else w.phone
        await _validated(db_session, data.name or w.name, kana, phone, data.lon, data.lat)
        w.kana, w.phone = kana, phone
        if data.lon is not None and data.lat is not None:
            w.home = v.to_db(v.point(data.lon, data.lat))
        for key in ("name", "capacity", "available", "district_id"):
            if getattr(data, key) is not None:
                setattr(w, key, getattr(data, key))
        await db_session.flush()
        await audit(db_session, "watcher.update", object_type="watcher", object_ids=[w.id])
        await db_session.commit()
        await db_session.refresh(w)
        return _out(w, (await _load(db_session, [w.id])).get(w.id, 0))

    @delete("/{watcher_id:uuid}", guards=[STAFF], status_code=HTTP_204_NO_CONTENT, summary="Remove a watcher")
    async def delete_watcher(self, db_session: DbSession, watcher_id: FromPath[uuid.UUID]) -> None:
        await delete_audited(db_session, Watcher, watcher_id, "watcher")
