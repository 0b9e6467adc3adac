"""GeoJSON features, CSV/GeoJSON exports and counts of the registry: the same policy, audited."""

from __future__ import annotations

import io
import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter
from sqlalchemy import func, select

from server.core.context import current_tenant
from server.core.csv_export import SafeWriter
from server.core.guards import roles
from server.core.openapi import CSV, GEOJSON, geojson_responses
from server.db.deps import DbSession
from server.registry import disclosure
from server.registry.households import (
    HouseholdFilter,
    audit_households_read,
    household_query,
    render_households,
)
from server.registry.models import Household, Person
from server.registry.schemas import HouseholdOut, PersonOut
from vocab import SUPPORT_REASONS

READERS = roles(*disclosure.REGISTRY_READERS)
# The IANA name of Microsoft's Shift_JIS (CP932: NEC/IBM extensions such as ① and 髙 included).
CP932_CHARSET = "Windows-31J"
EXPORTERS = roles("admin", "staff", "commissioner", "coordinator")

CSV_COLUMNS = [
    ("世帯ID", "household_id"),
    ("住所", "address"),
    ("町字", "town"),
    ("地区ID", "district_id"),
    ("緯度", "lat"),
    ("経度", "lon"),
    ("位置は概略", "location_approximate"),
    ("個人ID", "person_id"),
    ("氏名", "name"),
    ("フリガナ", "kana"),
    ("生年月日", "birth_date"),
    ("性別", "sex"),
    ("電話番号", "phone"),
    ("要支援事由", "support_reasons"),
    ("要介護度", "care_level"),
    ("医療機器", "medical_devices"),
    ("開示区分", "disclosed_under"),
]


async def _all_visible(db: DbSession, f: HouseholdFilter) -> list[HouseholdOut]:
    rows = (await db.execute(household_query(f).order_by(Household.address, Household.id))).scalars().all()
    return await render_households(db, rows)


def _feature(h: HouseholdOut) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": str(h.id),
        "geometry": {"type": "Point", "coordinates": [round(h.lon, 7), round(h.lat, 7)]},
        "properties": {
            "address": h.address,
            "town": h.town,
            "district_id": str(h.district_id) if h.district_id else None,
            "location_approximate": h.location_approximate,
            "disclosed_under": h.disclosed_under,
            "people": [
                {
                    k: v
                    for k, v in {
                        "id": str(p.id),
                        "name": p.name,
                        "kana": p.kana,
                        "sex": p.sex,
                        "birth_date": p.birth_date.isoformat() if p.birth_date else None,
                        "phone": p.phone,
                        "support_reasons": p.support_reasons,
                        "medical_devices": p.medical_devices,
                    }.items()
                    if v is not None
                }
                for p in h.people
            ],
        },
    }


def _csv(rendered: list[HouseholdOut]) -> tuple[str, int]:
    buf = io.StringIO()
    writer = SafeWriter(buf)
    writer.writerow([label for label, _ in CSV_COLUMNS])
    for h in rendered:
        people: list[PersonOut | None] = [*h.people] if h.people else [None]
        for p in people:
            row = {
                "household_id": h.id,
                "address": h.address,
                "town": h.town or "",
                "district_id": h.district_id or "",
                "lat": f"{h.lat:.7f}",
                "lon": f"{h.lon:.7f}",
                "location_approximate": "1" if h.location_approximate else "0",
                "disclosed_under": h.disclosed_under,
            }
            if p is not None:
                row.update(
                    {
                        "person_id": p.id,
                        "name": p.name,
                        "kana": p.kana,
                        "birth_date": p.birth_date or "",
                        "sex": p.sex,
                        "phone": p.phone or "",
                        "support_reasons": "、".join(SUPPORT_REASONS.get(r, r) for r in p.support_reasons or []),
                        "care_level": p.care_level or "",
                        "medical_devices": "、".join(p.medical_devices or []),
                    }
                )
            writer.writerow([row.get(key, "") for _, key in CSV_COLUMNS])
    return buf.getvalue(), sum(len(h.people) for h in rendered)


class DistrictCount(msgspec.Struct):
    district_id: uuid.UUID | None
    households: int
    people: int


class RegistryExportController(Controller):
    path = "/api"
    tags = ("registry",)

    @get(
        "/households/geojson",
        guards=[READERS],
        summary="Visible households as RFC 7946 GeoJSON",
        media_type=GEOJSON,
        responses=geojson_responses(),
    )
    async def households_geojson(
        self,
        db_session: DbSession,
        district_id: Annotated[list[uuid.UUID] | None, QueryParameter(max_items=100)] = None,
        support_reason: Annotated[str | None, QueryParameter(max_length=32)] = None,
    ) -> Response[dict[str, Any]]:
        rendered = await _all_visible(db_session, HouseholdFilter(district_id, support_reason))
        await audit_households_read(db_session, rendered, via="geojson")
        await db_session.commit()
        return Response(
            {"type": "FeatureCollection", "features": [_feature(h) for h in rendered]},
            media_type="application/geo+json",
            headers={"Cache-Control": "private, no-store"},
        )

    @get(
        "/exports/households.geojson",
        guards=[EXPORTERS],
        summary="Export visible households as GeoJSON",
        media_type=GEOJSON,
        responses=geojson_responses(),
    )
    async def export_households_geojson(
        self,
        db_session: DbSession,
        district_id: Annotated[list[uuid.UUID] | None, QueryParameter(max_items=100)] = None,
        support_reason: Annotated[str | None, QueryParameter(max_length=32)] = None,
    ) -> Response[bytes]:
        rendered = await _all_visible(db_session, HouseholdFilter(district_id, support_reason))
        await audit_households_read(db_session, rendered, via="export.geojson")
        await db_session.commit()
        body = msgspec.json.encode({"type": "FeatureCollection", "features": [_feature(h) for h in rendered]})
        return Response(
            body,
            media_type=GEOJSON,
            headers={
                "Cache-Control": "private, no-store",
                "Content-Disposition": 'attachment; filename="households.geojson"',
            },
        )

    @get(
        "/exports/households.csv",
        guards=[EXPORTERS],
        media_type=CSV,
        summary="Export visible households as CSV (UTF-8 with BOM, or CP932)",
    )
    async def export_households(
        self,
        db_session: DbSession,
        encoding: Annotated[Literal["utf-8-bom", "cp932"], QueryParameter(description="CSV encoding")] = "utf-8-bom",
        district_id: Annotated[list[uuid.UUID] | None, QueryParameter(max_items=100)] = None,
        support_reason: Annotated[str | None, QueryParameter(max_length=32)] = None,
    ) -> Response[bytes]:
        rendered = await _all_visible(db_session, HouseholdFilter(district_id, support_reason))
        await audit_households_read(db_session, rendered, via="export.csv")
        await db_session.commit()
        headers = {"Cache-Control": "private, no-store"}
        text, _ = _csv(rendered)
        if encoding == "cp932":
            data = text.encode("cp932", errors="replace")
            replaced = sum(1 for ch in text if ch.encode("cp932", errors="replace") == b"?" and ch != "?")
            headers["X-Encoding-Replacements"] = str(replaced)
            charset = CP932_CHARSET
        else:
            data = b"\xef\xbb\xbf" + text.encode("utf-8")
            charset = "utf-8"
        headers["Content-Disposition"] = 'attachment; filename="households.csv"'
        # Litestar adds "; charset=<encoding>" to a text/* media type itself: name it only there.
        return Response(data, media_type=CSV, encoding=charset, headers=headers)

    @get("/registry/counts", guards=[READERS], summary="Counts per district of what the viewer may see")
    async def counts(self, db_session: DbSession) -> list[DistrictCount]:
        tenant = current_tenant()
        visible_people = (
            select(Person.household_id, func.count().label("people"))
            .where(Person.tenant_id == tenant, disclosure.person_visible())
            .group_by(Person.household_id)
            .subquery()
        )
        rows = await db_session.execute(
            select(Household.district_id, func.count(Household.id), func.coalesce(func.sum(visible_people.c.people), 0))
            .outerjoin(visible_people, visible_people.c.household_id == Household.id)
            .where(Household.tenant_id == tenant, disclosure.household_visible())
            .group_by(Household.district_id)
        )
        return [DistrictCount(d, int(h), int(p)) for d, h, p in rows]
