"""The disclosure SQL as migration 0011 installed it, frozen.

Rendered once from `server/registry/disclosure_sql.py` when 0011 was written. Never edit this file:
a change to the live rule is a new migration with its own frozen text (tests/test_migrations.py checks
that the live rule equals the newest frozen one).
"""

from __future__ import annotations

FUNCTIONS: list[str] = [
    """CREATE OR REPLACE FUNCTION tonari_today() RETURNS date
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS
    $$ BEGIN
         RETURN (now() AT TIME ZONE coalesce(
             (SELECT time_zone FROM tenant WHERE id = tonari_current_tenant()), 'Asia/Tokyo'))::date;
       END $$""",
    """CREATE OR REPLACE FUNCTION tonari_role() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT coalesce(current_setting('tonari.role', true), '') $$""",
    """CREATE OR REPLACE FUNCTION tonari_scope() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT CASE WHEN coalesce(current_setting('tonari.scope', true), '') = '' THEN NULL
                   ELSE string_to_array(current_setting('tonari.scope', true), ',')::uuid[] END $$""",
    """CREATE OR REPLACE FUNCTION tonari_recipient_class() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT CASE tonari_role() WHEN 'commissioner' THEN 'commissioner'
                                 WHEN 'watcher' THEN 'watcher'
                                 WHEN 'coordinator' THEN 'council' END $$""",
    """CREATE OR REPLACE FUNCTION tonari_disaster_area() RETURNS geometry
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS
    $$ BEGIN
         RETURN (SELECT ST_Union(area) FROM disaster_declaration
                 WHERE tenant_id = tonari_current_tenant() AND mode = 'real' AND lifted_at IS NULL);
       END $$""",
    """CREATE OR REPLACE FUNCTION tonari_sees_all() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT tonari_role() IN ('admin', 'staff', 'system') $$""",
    """CREATE OR REPLACE FUNCTION tonari_household_assigned(h_tenant uuid, h_id uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT EXISTS (
         SELECT 1 FROM watch_link w JOIN watcher v ON v.tenant_id = w.tenant_id AND v.id = w.watcher_id
         WHERE w.tenant_id = h_tenant AND w.household_id = h_id AND w.ended_at IS NULL
           AND v.user_id = tonari_current_user()) $$""",
    """CREATE OR REPLACE FUNCTION tonari_my_watcher_ids() RETURNS uuid[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS
    $$ BEGIN
         RETURN (SELECT coalesce(array_agg(id), '{}') FROM watcher
                 WHERE tenant_id = tonari_current_tenant() AND user_id = tonari_current_user());
       END $$""",
    """CREATE OR REPLACE FUNCTION tonari_household_op_assigned(h_tenant uuid, h_id uuid, h_location geometry) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT EXISTS (
         SELECT 1 FROM operation_target t
         JOIN operation o ON o.tenant_id = t.tenant_id AND o.id = t.operation_id
         JOIN disaster_declaration d ON d.tenant_id = o.tenant_id AND d.id = o.declaration_id
         WHERE t.tenant_id = h_tenant AND t.household_id = h_id
           AND t.watcher_ids && tonari_my_watcher_ids()
           AND o.mode = 'real' AND o.status = 'active'
           AND d.mode = 'real' AND d.lifted_at IS NULL AND ST_Covers(d.area, h_location)) $$""",
    """CREATE OR REPLACE FUNCTION tonari_household_consented(h_tenant uuid, h_id uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT EXISTS (
         SELECT 1 FROM consent c
         WHERE c.tenant_id = h_tenant AND c.household_id = h_id
           AND c.recipient_class = tonari_recipient_class() AND c.dataset = 'roster'
           AND c.consented_on <= tonari_today()
           AND (c.withdrawn_on IS NULL OR c.withdrawn_on > tonari_today())) $$""",
    """CREATE OR REPLACE FUNCTION tonari_household_under_disaster(h_location geometry) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT coalesce(ST_Covers((SELECT tonari_disaster_area()), h_location), false) $$""",
    """CREATE OR REPLACE FUNCTION tonari_household_disaster_applies(h_tenant uuid, h_id uuid, h_location geometry)
    RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT tonari_household_under_disaster(h_location)
              AND (tonari_role() <> 'watcher' OR tonari_household_op_assigned(h_tenant, h_id, h_location)) $$""",
    """CREATE OR REPLACE FUNCTION tonari_person_consented(p_tenant uuid, p_id uuid, p_dataset text) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT EXISTS (
         SELECT 1 FROM consent c
         WHERE c.tenant_id = p_tenant AND c.person_id = p_id
           AND c.recipient_class = tonari_recipient_class() AND c.dataset = p_dataset
           AND c.consented_on <= tonari_today()
           AND (c.withdrawn_on IS NULL OR c.withdrawn_on > tonari_today())) $$""",
    """CREATE OR REPLACE FUNCTION tonari_household_visible(
        h_tenant uuid, h_id uuid, h_district uuid, h_location geometry) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT h_tenant = tonari_current_tenant() AND (
         tonari_sees_all()
         OR (tonari_role() IN ('coordinator', 'commissioner', 'watcher')
             AND (tonari_scope() IS NULL OR h_district = ANY (tonari_scope()::uuid[]))
             AND (((tonari_role() <> 'watcher' OR tonari_household_assigned(h_tenant, h_id)) AND tonari_household_consented(h_tenant, h_id))
                  OR tonari_household_disaster_applies(h_tenant, h_id, h_location)))) $$""",
    """CREATE OR REPLACE FUNCTION tonari_person_visible(p_tenant uuid, p_id uuid, p_household uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT p_tenant = tonari_current_tenant() AND (
         tonari_sees_all()
         OR EXISTS (
             SELECT 1 FROM household h
             WHERE h.tenant_id = p_tenant AND h.id = p_household
               AND (tonari_household_disaster_applies(p_tenant, h.id, h.location)
                    OR tonari_person_consented(p_tenant, p_id, 'roster')))) $$""",
]

DROP_FUNCTIONS: list[str] = [
    """DROP FUNCTION IF EXISTS tonari_person_visible(uuid, uuid, uuid)""",
    """DROP FUNCTION IF EXISTS tonari_household_disaster_applies(uuid, uuid, geometry)""",
    """DROP FUNCTION IF EXISTS tonari_household_op_assigned(uuid, uuid, geometry)""",
    """DROP FUNCTION IF EXISTS tonari_my_watcher_ids()""",
    """DROP FUNCTION IF EXISTS tonari_household_under_disaster(geometry)""",
    """DROP FUNCTION IF EXISTS tonari_household_visible(uuid, uuid, uuid, geometry)""",
    """DROP FUNCTION IF EXISTS tonari_person_consented(uuid, uuid, text)""",
    """DROP FUNCTION IF EXISTS tonari_household_consented(uuid, uuid)""",
    """DROP FUNCTION IF EXISTS tonari_household_assigned(uuid, uuid)""",
    """DROP FUNCTION IF EXISTS tonari_sees_all()""",
    """DROP FUNCTION IF EXISTS tonari_disaster_area()""",
    """DROP FUNCTION IF EXISTS tonari_recipient_class()""",
    """DROP FUNCTION IF EXISTS tonari_scope()""",
    """DROP FUNCTION IF EXISTS tonari_role()""",
    """DROP FUNCTION IF EXISTS tonari_today()""",
]

HOUSEHOLD_POLICY = """household.tenant_id = (SELECT tonari_current_tenant()) AND (
         (SELECT tonari_sees_all())
         OR ((SELECT tonari_role()) IN ('coordinator', 'commissioner', 'watcher')
             AND ((SELECT tonari_scope()) IS NULL OR household.district_id = ANY ((SELECT tonari_scope())::uuid[]))
             AND ((((SELECT tonari_role()) <> 'watcher' OR EXISTS (
         SELECT 1 FROM watch_link w JOIN watcher v ON v.tenant_id = w.tenant_id AND v.id = w.watcher_id
         WHERE w.tenant_id = household.tenant_id AND w.household_id = household.id AND w.ended_at IS NULL
           AND v.user_id = (SELECT tonari_current_user()))) AND coalesce((CASE (SELECT tonari_recipient_class()) WHEN 'council' THEN household.roster_consent_council WHEN 'commissioner' THEN household.roster_consent_commissioner WHEN 'watcher' THEN household.roster_consent_watcher END) @> (SELECT tonari_today()), false))
                  OR (coalesce(ST_Covers((SELECT tonari_disaster_area()), household.location), false) AND ((SELECT tonari_role()) <> 'watcher' OR EXISTS (
         SELECT 1 FROM operation_target t
         JOIN operation o ON o.tenant_id = t.tenant_id AND o.id = t.operation_id
         JOIN disaster_declaration d ON d.tenant_id = o.tenant_id AND d.id = o.declaration_id
         WHERE t.tenant_id = household.tenant_id AND t.household_id = household.id
           AND t.watcher_ids && (SELECT tonari_my_watcher_ids())
           AND o.mode = 'real' AND o.status = 'active'
           AND d.mode = 'real' AND d.lifted_at IS NULL AND ST_Covers(d.area, household.location)))))))"""
