"""`/api/districts`, `/api/shelters`, `/api/hazard-zones`: the map's public-sector layers.

These hold no personal data, so every signed-in registry role may read them; only staff write.
District changes re-assign households to the district that contains them.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal, cast

import msgspec
from geoalchemy2.shape import to_shape
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from shapely.geometry import Point, mapping
from sqlalchemy import delete as sql_delete
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from server.audit.record import record as audit
from server.core.context import current_tenant
from server.core.guards import STAFF, signed_in
from server.core.openapi import GEOJSON, geojson_responses
from server.core.problems import Problem
from server.core.types import AreaGeometry, Code, CodeList, Int32, Lat, Lon, Note
from server.db.deps import DbSession
from server.registry import validation as v
from server.registry.crud import delete_audited
from server.registry.models import District, HazardZone, Shelter
from vocab import HAZARD_ZONE_KINDS, SHELTER_HAZARDS, SHELTER_KINDS


def _geojson(geom: Any) -> dict[str, Any] | None:
    return mapping(to_shape(geom)) if geom is not None else None


def feature_collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


# ---- districts -------------------------------------------------------------------------------

DistrictCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
DistrictName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
DistrictKana = Annotated[str, msgspec.Meta(max_length=200)]
WalkingRadius = Annotated[int, msgspec.Meta(ge=50, le=5000)]


class DistrictIn(msgspec.Struct, forbid_unknown_fields=True):
    code: DistrictCode
    name: DistrictName
    level: Literal["area", "branch", "unit"]
    geometry: AreaGeometry
    kana: DistrictKana | None = None
    parent_id: uuid.UUID | None = None
    walking_radius_m: WalkingRadius = 300


class DistrictPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change; `kana` and `parent_id` may be sent as null to clear them.
    The level is fixed once created (households and scopes depend on it)."""

    code: DistrictCode | msgspec.UnsetType = msgspec.UNSET
    name: DistrictName | msgspec.UnsetType = msgspec.UNSET
    kana: DistrictKana | msgspec.UnsetType | None = msgspec.UNSET
    walking_radius_m: WalkingRadius | msgspec.UnsetType = msgspec.UNSET
    geometry: AreaGeometry | msgspec.UnsetType = msgspec.UNSET
    parent_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET


class DistrictOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    kana: str | None
    level: str
    parent_id: uuid.UUID | None
    walking_radius_m: int
    geometry: dict[str, Any] | None = None


def _district_out(d: District, with_geometry: bool) -> DistrictOut:
    return DistrictOut(
        d.id,
        d.code,
        d.name,
        d.kana,
        d.level,
        d.parent_id,
        d.walking_radius_m,
        _geojson(d.geom) if with_geometry else None,
    )


class DistrictController(Controller):
    path = "/api/districts"
    tags = ("registry",)

    @get("/", guards=[signed_in], summary="The district tree (geometry on request)")
    async def list_districts(self, db_session: DbSession, geometry: FromQuery[bool] = False) -> list[DistrictOut]:
        rows = (
            await db_session.execute(
                select(District).where(District.tenant_id == current_tenant()).order_by(District.code)
            )
        ).scalars()
        return [_district_out(d, geometry) for d in rows]

    @get(
        "/geojson",
        guards=[signed_in],
        summary="Districts as a GeoJSON FeatureCollection",
        media_type=GEOJSON,
        responses=geojson_responses(),
    )
    async def districts_geojson(self, db_session: DbSession) -> dict[str, Any]:
        rows = (
            await db_session.execute(
                select(District).where(District.tenant_id == current_tenant()).order_by(District.code)
            )
        ).scalars()
        return feature_collection(
            [
                {
                    "type": "Feature",
                    "id": str(d.id),
                    "geometry": _geojson(d.geom),
                    "properties": {
                        "code": d.code,
                        "name": d.name,
                        "kana": d.kana,
                        "level": d.level,
                        "parent_id": str(d.parent_id) if d.parent_id else None,
                    },
                }
                for d in rows
            ]
        )

    @post("/", guards=[STAFF], status_code=HTTP_201_CREATED, summary="Create a district")
    async def create_district(self, db_session: DbSession, data: JSONBody[DistrictIn]) -> DistrictOut:
        geom = v.parse_area("geometry", data.geometry)
        if data.kana:
            v.raise_if([v.check_kana("kana", v.normalise_kana(data.kana))])
        d = District(
            tenant_id=current_tenant(),
            id=uuid.uuid4(),
            code=data.code,
            name=data.name,
            level=data.level,
            kana=v.normalise_kana(data.kana) if data.kana else None,
            parent_id=data.parent_id,
            walking_radius_m=data.walking_radius_m,
            geom=v.to_db(geom),
        )
        db_session.add(d)
        await db_session.flush()  # a taken code (409) or a missing parent (422): server/core/errors.py
        await v.reassign_households(db_session, current_tenant())
        await audit(db_session, "district.create", object_type="district", object_ids=[d.id])
        await db_session.commit()
        return _district_out(d, True)

    @patch("/{district_id:uuid}", guards=[STAFF], summary="Edit a district (only the fields sent)")
    async def update_district(
        self, db_session: DbSession, district_id: FromPath[uuid.UUID], data: JSONBody[DistrictPatch]
    ) -> DistrictOut:
        d = await db_session.get(District, (current_tenant(), district_id))
        if d is None:
            raise Problem("not_found")
        if data.geometry is not msgspec.UNSET:
            d.geom = v.to_db(v.parse_area("geometry", data.geometry))
        if data.code is not msgspec.UNSET:
            d.code = data.code
        if data.name is not msgspec.UNSET:
            d.name = data.name
        if data.walking_radius_m is not msgspec.UNSET:
            d.walking_radius_m = data.walking_radius_m
        if data.kana is not msgspec.UNSET:
            kana = v.normalise_kana(data.kana or "")
            v.raise_if([v.check_kana("kana", kana)])
            d.kana = kana or None
        if data.parent_id is not msgspec.UNSET:
            d.parent_id = data.parent_id
        await db_session.flush()  # also a parent that makes a cycle (409 district_cycle): server/core/errors.py
        await v.reassign_households(db_session, current_tenant())
        await audit(db_session, "district.update", object_type="district", object_ids=[d.id])
        await db_session.commit()
        await db_session.refresh(d)
        return _district_out(d, True)

    @delete(
        "/{district_id:uuid}",
        guards=[STAFF],
        status_code=HTTP_204_NO_CONTENT,
        summary="Delete a district",
        description="Refused with 409 `district_in_use` while anything depends on the district: users whose"
        " scope it is, sub-districts, households, watchers, operations or active declarations.",
    )
    async def delete_district(self, db_session: DbSession, district_id: FromPath[uuid.UUID]) -> None:
        tenant = current_tenant()
        if await db_session.get(District, (tenant, district_id)) is None:
            raise Problem("not_found")
        dependents = {
            k: n
            for k, n in (await db_session.execute(_DEPENDENTS, {"t": tenant, "d": district_id})).one()._asdict().items()
            if n
        }
        if dependents:
            ja = "、".join(f"{_DEPENDENT_WORDS[k][0]} {n}" for k, n in dependents.items())
            en = ", ".join(f"{n} {_DEPENDENT_WORDS[k][1]}" for k, n in dependents.items())
            raise Problem(
                "district_in_use",
                detail_ja=f"この地区には {ja} が結び付いているため削除できません。先に付け替えてください。",
                detail_en=f"This district cannot be deleted: {en} depend on it. Move them first.",
                extra={"dependents": dependents},
            )
        await db_session.execute(sql_delete(District).where(District.tenant_id == tenant, District.id == district_id))
        await audit(db_session, "district.delete", object_type="district", object_ids=[district_id])
        await db_session.commit()


# What keeps a district from being deleted. Registry keepers run it (RLS lets them count every
# household); a household or scope row pointing at a vanished district would silently change who
# sees whom (a scoped user became tenant-wide this way before migration 0011).
_DEPENDENTS = text(
    """
    SELECT (SELECT count(*) FROM user_district_scope WHERE tenant_id = :t AND district_id = :d) AS users,
           (SELECT count(*) FROM district WHERE tenant_id = :t AND parent_id = :d) AS districts,
           (SELECT count(*) FROM household WHERE tenant_id = :t AND district_id = :d) AS households,
           (SELECT count(*) FROM watcher WHERE tenant_id = :t AND district_id = :d) AS watchers,
           (SELECT count(*) FROM operation WHERE tenant_id = :t AND :d = ANY (district_ids)) AS operations,
           (SELECT count(*) FROM disaster_declaration
             WHERE tenant_id = :t AND lifted_at IS NULL AND :d = ANY (district_ids)) AS declarations
    """
)
_DEPENDENT_WORDS = {
    "users": ("担当範囲とする利用者", "users scoped to it"),
    "districts": ("下位の地区", "sub-districts"),
    "households": ("世帯", "households"),
    "watchers": ("見守り協力員", "watchers"),
    "operations": ("活動", "operations"),
    "declarations": ("発令中の災害モード", "active declarations"),
}


# ---- shelters --------------------------------------------------------------------------------


class ShelterIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Code
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    lon: Lon
    lat: Lat
    address: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    source_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    hazards: CodeList = []
    capacity: Int32 | None = None
    is_open: bool = False
    occupancy: Int32 = 0
    note: Note | None = None


class ShelterStatusIn(msgspec.Struct, forbid_unknown_fields=True):
    is_open: bool | None = None
    occupancy: Int32 | None = None
    capacity: Int32 | None = None


class ShelterOut(msgspec.Struct):
    id: uuid.UUID
    source_id: str | None
    kind: str  # the main designation
    name: str
    address: str | None
    lon: float
    lat: float
    hazards: list[str]
    capacity: int | None
    is_open: bool
    occupancy: int
    note: str | None
    designations: list[str]  # every designation, the main one included (指定避難所 and 指定緊急避難場所)


def _shelter_out(s: Shelter) -> ShelterOut:
    pt = cast(Point, to_shape(s.location))
    return ShelterOut(
        s.id,
        s.source_id,
        s.kind,
        s.name,
        s.address,
        pt.x,
        pt.y,
        list(s.hazards),
        s.capacity,
        s.is_open,
        s.occupancy,
        s.note,
        s.all_designations,
    )


class ShelterController(Controller):
    path = "/api/shelters"
    tags = ("registry",)

    @get("/", guards=[signed_in], summary="Shelters")
    async def list_shelters(
        self, db_session: DbSession, kind: Annotated[str | None, QueryParameter(max_length=32)] = None
    ) -> list[ShelterOut]:
        q = select(Shelter).where(Shelter.tenant_id == current_tenant())
        if kind:
            q = q.where(Shelter.kind == kind)
        return [_shelter_out(s) for s in (await db_session.execute(q.order_by(Shelter.kind, Shelter.name))).scalars()]

    @get(
        "/geojson", guards=[signed_in], summary="Shelters as GeoJSON", media_type=GEOJSON, responses=geojson_responses()
    )
    async def shelters_geojson(self, db_session: DbSession) -> dict[str, Any]:
        rows = (await db_session.execute(select(Shelter).where(Shelter.tenant_id == current_tenant()))).scalars()
        features = []
        for s in rows:
            out = msgspec.to_builtins(_shelter_out(s))
            lon, lat = out.pop("lon"), out.pop("lat")
            features.append(
                {
                    "type": "Feature",
                    "id": out["id"],
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": out,
                }
            )
        return feature_collection(features)

    @post("/", guards=[STAFF], status_code=HTTP_201_CREATED, summary="Add a shelter")
    async def create_shelter(self, db_session: DbSession, data: JSONBody[ShelterIn]) -> ShelterOut:
        pt = v.point(data.lon, data.lat)
        v.raise_if(
            [
                v.check_codes("kind", [data.kind], SHELTER_KINDS),
                v.check_codes("hazards", data.hazards, SHELTER_HAZARDS),
                await v.check_inside_tenant(db_session, current_tenant(), "lon", pt),
            ]
        )
        s = Shelter(
            tenant_id=current_tenant(),
            id=uuid.uuid4(),
            kind=data.kind,
            designations=[data.kind],
            name=data.name,
            address=data.address,
            source_id=data.source_id,
            location=v.to_db(pt),
            hazards=data.hazards,
            capacity=data.capacity,
            is_open=data.is_open,
            occupancy=data.occupancy,
            note=data.note,
        )
        db_session.add(s)
        try:
            await db_session.flush()
        except IntegrityError as exc:
            raise Problem("conflict") from exc
        await audit(db_session, "shelter.create", object_type="shelter", object_ids=[s.id])
        await db_session.commit()
        await db_session.refresh(s)
        return _shelter_out(s)

    @patch("/{shelter_id:uuid}/status", guards=[STAFF], summary="Open/close a shelter, report occupancy")
    async def shelter_status(
        self, db_session: DbSession, shelter_id: FromPath[uuid.UUID], data: JSONBody[ShelterStatusIn]
    ) -> ShelterOut:
        s = await db_session.get(Shelter, (current_tenant(), shelter_id))
        if s is None:
            raise Problem("not_found")
        for key in ("is_open", "occupancy", "capacity"):
            if getattr(data, key) is not None:
                setattr(s, key, getattr(data, key))
        await audit(
            db_session, "shelter.status", object_type="shelter", object_ids=[s.id], details=msgspec.to_builtins(data)
        )
        await db_session.commit()
        await db_session.refresh(s)
        return _shelter_out(s)

    @delete("/{shelter_id:uuid}", guards=[STAFF], status_code=HTTP_204_NO_CONTENT, summary="Remove a shelter")
    async def delete_shelter(self, db_session: DbSession, shelter_id: FromPath[uuid.UUID]) -> None:
        await delete_audited(db_session, Shelter, shelter_id, "shelter")


# ---- hazard zones ----------------------------------------------------------------------------


class HazardZoneIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Code
    geometry: AreaGeometry
    level: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    source: Annotated[str, msgspec.Meta(max_length=300)] | None = None


class HazardZoneOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    level: str | None
    name: str | None


class HazardZoneController(Controller):
    path = "/api/hazard-zones"
    tags = ("registry",)

    @get(
        "/geojson",
        guards=[signed_in],
        summary="Hazard zones as GeoJSON",
        media_type=GEOJSON,
        responses=geojson_responses(),
    )
    async def hazard_geojson(
        self, db_session: DbSession, kind: Annotated[str | None, QueryParameter(max_length=32)] = None
    ) -> dict[str, Any]:
        q = select(HazardZone).where(HazardZone.tenant_id == current_tenant())
        if kind:
            q = q.where(HazardZone.kind == kind)
        return feature_collection(
            [
                {
                    "type": "Feature",
                    "id": str(z.id),
                    "geometry": _geojson(z.geom),
                    "properties": {"kind": z.kind, "level": z.level, "name": z.name, "source": z.source},
                }
                for z in (await db_session.execute(q)).scalars()
            ]
        )

    @post("/", guards=[STAFF], status_code=HTTP_201_CREATED, summary="Add a hazard zone")
    async def create_hazard_zone(self, db_session: DbSession, data: JSONBody[HazardZoneIn]) -> HazardZoneOut:
        v.raise_if([v.check_codes("kind", [data.kind], HAZARD_ZONE_KINDS)])
        geom = v.parse_area("geometry", data.geometry)
        z = HazardZone(
            tenant_id=current_tenant(),
            id=uuid.uuid4(),
            kind=data.kind,
            level=data.level,
            name=data.name,
            source=data.source,
            geom=v.to_db(geom),
        )
        db_session.add(z)
        await db_session.flush()
        await audit(db_session, "hazard_zone.create", object_type="hazard_zone", object_ids=[z.id])
        await db_session.commit()
        return HazardZoneOut(z.id, z.kind, z.level, z.name)

    @delete("/{zone_id:uuid}", guards=[STAFF], status_code=HTTP_204_NO_CONTENT, summary="Remove a hazard zone")
    async def delete_hazard_zone(self, db_session: DbSession, zone_id: FromPath[uuid.UUID]) -> None:
        await delete_audited(db_session, HazardZone, zone_id, "hazard_zone")
