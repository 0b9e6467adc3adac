"""The needs map of one volunteer centre (災害VC, #18): a Mapbox Vector Tile of the centre's needs.

A tile is always of one centre (`operation_id`), so a drill centre's needs appear only on that
drill's map and a real centre's map can never hold a drill row. Only the roles that run the VC
read it (server/maps/tiles/api.py); decision 0025 lets all of them see the VC's records, so every
desk role gets the same attributes, except the link to the registry: `household_id` is present
only where the viewer may see that household under the disclosure rule (never for `vc_desk`).

A feature carries no name, phone or address: `id`, `state`, `people`, `work_types` and `flags`
(comma-joined codes of vocab/vocabulary.json), and `approximate` / `truck` only where
they hold. The point is the requester's home, so the tile is a read of VC personal data: the same
statement appends the audit row (`vc.need.read`, via tile), and a second row (`household.read`)
when it names registry households.
"""

from __future__ import annotations

from sqlalchemy import TextClause, text

from server.maps.tiles.sql import BUFFER, EXTENT

LAYER = "vc-needs"
MVT_LAYER = "vc_needs"

# :tenant, :op, :z, :x, :y.
_CTES = f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS geom),
    centre AS MATERIALIZED (
        SELECT c.operation_id, c.mode FROM vc_centre c WHERE c.tenant_id = :tenant AND c.operation_id = :op
    ),
    rows AS (
        SELECT n.id, n.state, n.people_needed, n.work_types, n.flags, n.needs_truck, n.location_approximate,
               n.location_3857, centre.mode AS op_mode,
               CASE WHEN h.id IS NOT NULL
                     AND ((SELECT tonari_sees_all()) OR tonari_household_visible(h.tenant_id, h.id, h.district_id, h.location))
                    THEN h.id END AS household_id,
               h.location AS household_location
        FROM centre
        JOIN vc_need n ON n.tenant_id = :tenant AND n.operation_id = centre.operation_id
        CROSS JOIN bounds
        LEFT JOIN household h ON h.tenant_id = n.tenant_id AND h.id = n.household_id
        WHERE n.location_3857 && bounds.geom
    ),
    mvt AS (
        SELECT ST_AsMVTGeom(rows.location_3857, bounds.geom, {EXTENT}, {BUFFER}, true) AS geom,
               rows.id::text AS id, rows.state, rows.people_needed::int AS people,
               array_to_string(rows.work_types, ',') AS work_types,
               nullif(array_to_string(rows.flags, ','), '') AS flags,
               CASE WHEN rows.location_approximate THEN true END AS approximate,
               CASE WHEN rows.needs_truck THEN true END AS truck,
               rows.household_id::text AS household_id
        FROM rows, bounds
    )
"""

# Two audit rows at most per tile, written by tonari_audit_append() in the same statement (the
# only way the app's role writes the audit log): the needs read, and the registry households the
# tile names (mode 'disaster' where the disaster rule decided it, as for the households layer).
# Extra parameters: :actor, :login, :request_id, :client, :tile.
_AUDIT = """,
    needs_audit AS MATERIALIZED (
        SELECT tonari_audit_append(
                   p_action => 'vc.need.read', p_object_type => 'vc_need',
                   p_object_ids => array_agg(rows.id::text ORDER BY rows.id),
                   p_mode => CASE WHEN min(rows.op_mode) = 'drill' THEN 'drill' ELSE 'normal' END,
                   p_operation_id => CAST(:op AS uuid),
                   p_request_id => CAST(:request_id AS text), p_client_addr => CAST(:client AS inet),
                   p_details => jsonb_build_object('via', 'tile', 'count', count(*), 'tile', CAST(:tile AS text)),
                   p_tenant_id => :tenant, p_actor_user_id => CAST(:actor AS uuid),
                   p_actor_login => CAST(:login AS text)) AS id
        FROM rows HAVING count(*) > 0
    ),
    household_audit AS MATERIALIZED (
        SELECT tonari_audit_append(
                   p_action => 'household.read', p_object_type => 'household',
                   p_object_ids => array_agg(r.household_id::text ORDER BY r.household_id), p_mode => r.mode,
                   p_operation_id => CAST(:op AS uuid),
                   p_request_id => CAST(:request_id AS text), p_client_addr => CAST(:client AS inet),
                   p_details => jsonb_build_object('via', 'vc-needs-tile', 'count', count(*), 'tile', CAST(:tile AS text)),
                   p_tenant_id => :tenant, p_actor_user_id => CAST(:actor AS uuid),
                   p_actor_login => CAST(:login AS text)) AS id
        FROM (SELECT rows.household_id,
                     CASE WHEN NOT (SELECT tonari_sees_all())
                               AND tonari_household_disaster_applies(:tenant, rows.household_id, rows.household_location)
                          THEN 'disaster'
                          WHEN rows.op_mode = 'drill' THEN 'drill' ELSE 'normal' END AS mode
              FROM rows WHERE rows.household_id IS NOT NULL) r
        GROUP BY r.mode
    )
"""

_SELECT = f"""
    SELECT (SELECT ST_AsMVT(mvt, '{MVT_LAYER}', {EXTENT}, 'geom') FROM mvt),
           NULL::text[],  -- the ids go to the audit row only (the route needs no list)
           {{audited}},
           (SELECT EXISTS (SELECT 1 FROM centre)) AS centre_found
"""

NEEDS_TILE = text(
    _CTES
    + _AUDIT
    + _SELECT.format(audited="(SELECT count(*) FROM needs_audit) + (SELECT count(*) FROM household_audit)")
)


def unaudited_needs_sql() -> TextClause:
    """The served needs tile without its audit rows (same features). Only for bench/, which sets
    it beside the served statement and a bare ST_AsMVT of the same points; never served."""
    return text(_CTES + _SELECT.format(audited="0"))


def bare_needs_sql() -> TextClause:
    """A bare ST_AsMVT of one centre's need points with the same attributes and no registry link
    or audit: the raw database's share of a needs tile. Only for bench/; never served."""
    return text(
        f"""
        WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS geom),
        mvt AS (
            SELECT ST_AsMVTGeom(n.location_3857, bounds.geom, {EXTENT}, {BUFFER}, true) AS geom,
                   n.id::text AS id, n.state, n.people_needed::int AS people,
                   array_to_string(n.work_types, ',') AS work_types
            FROM vc_need n, bounds
            WHERE n.tenant_id = :tenant AND n.operation_id = :op AND n.location_3857 && bounds.geom
        )
        SELECT ST_AsMVT(mvt, '{MVT_LAYER}', {EXTENT}, 'geom') FROM mvt
        """
    )
