"""The disclosure SQL as migrations 0002 and 0006–0010 ran it on a fresh database, frozen.

Rendered once from `server/registry/disclosure_sql.py` as it stood at revision 0010 (commit 0344c28).
Never edit this file: migrations must replay the same SQL whatever the live rule becomes; a new rule
is a new migration carrying its own text (0011 onwards).
"""

from __future__ import annotations

SUMMARISED_CLASSES: tuple[str, ...] = ('council', 'commissioner', 'watcher')

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
                  OR tonari_household_under_disaster(h_location)))) $$""",
    """CREATE OR REPLACE FUNCTION tonari_person_visible(p_tenant uuid, p_id uuid, p_household uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT p_tenant = tonari_current_tenant() AND (
         tonari_sees_all()
         OR EXISTS (
             SELECT 1 FROM household h
             WHERE h.tenant_id = p_tenant AND h.id = p_household
               AND (tonari_household_under_disaster(h.location)
                    OR tonari_person_consented(p_tenant, p_id, 'roster')))) $$""",
]

DROP_FUNCTIONS: list[str] = [
    """DROP FUNCTION IF EXISTS tonari_person_visible(uuid, uuid, uuid)""",
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

POLICIES: list[str] = [
    """ALTER TABLE household ENABLE ROW LEVEL SECURITY""",
    """ALTER TABLE household FORCE ROW LEVEL SECURITY""",
    """CREATE POLICY disclosure ON household
        USING (tonari_household_visible(tenant_id, id, district_id, location))
        WITH CHECK (tenant_id = tonari_current_tenant() AND tonari_sees_all())""",
    """ALTER TABLE person ENABLE ROW LEVEL SECURITY""",
    """ALTER TABLE person FORCE ROW LEVEL SECURITY""",
    """CREATE POLICY disclosure ON person
        USING (tonari_person_visible(tenant_id, id, household_id))
        WITH CHECK (tenant_id = tonari_current_tenant() AND tonari_sees_all())""",
]

DROP_POLICIES: list[str] = [
    """DROP POLICY IF EXISTS disclosure ON person""",
    """ALTER TABLE person NO FORCE ROW LEVEL SECURITY""",
    """ALTER TABLE person DISABLE ROW LEVEL SECURITY""",
    """DROP POLICY IF EXISTS disclosure ON household""",
    """ALTER TABLE household NO FORCE ROW LEVEL SECURITY""",
    """ALTER TABLE household DISABLE ROW LEVEL SECURITY""",
]

HOUSEHOLD_POLICY = """household.tenant_id = (SELECT tonari_current_tenant()) AND (
         (SELECT tonari_sees_all())
         OR ((SELECT tonari_role()) IN ('coordinator', 'commissioner', 'watcher')
             AND ((SELECT tonari_scope()) IS NULL OR household.district_id = ANY ((SELECT tonari_scope())::uuid[]))
             AND ((((SELECT tonari_role()) <> 'watcher' OR EXISTS (
         SELECT 1 FROM watch_link w JOIN watcher v ON v.tenant_id = w.tenant_id AND v.id = w.watcher_id
         WHERE w.tenant_id = household.tenant_id AND w.household_id = household.id AND w.ended_at IS NULL
           AND v.user_id = (SELECT tonari_current_user()))) AND coalesce((CASE (SELECT tonari_recipient_class()) WHEN 'council' THEN household.roster_consent_council WHEN 'commissioner' THEN household.roster_consent_commissioner WHEN 'watcher' THEN household.roster_consent_watcher END) @> (SELECT tonari_today()), false))
                  OR coalesce(ST_Covers((SELECT tonari_disaster_area()), household.location), false))))"""

HOUSEHOLD_POLICY_PROBING = """household.tenant_id = (SELECT tonari_current_tenant()) AND (
         (SELECT tonari_sees_all())
         OR ((SELECT tonari_role()) IN ('coordinator', 'commissioner', 'watcher')
             AND ((SELECT tonari_scope()) IS NULL OR household.district_id = ANY ((SELECT tonari_scope())::uuid[]))
             AND ((((SELECT tonari_role()) <> 'watcher' OR EXISTS (
         SELECT 1 FROM watch_link w JOIN watcher v ON v.tenant_id = w.tenant_id AND v.id = w.watcher_id
         WHERE w.tenant_id = household.tenant_id AND w.household_id = household.id AND w.ended_at IS NULL
           AND v.user_id = (SELECT tonari_current_user()))) AND EXISTS (
         SELECT 1 FROM consent c
         WHERE c.tenant_id = household.tenant_id AND c.household_id = household.id
           AND c.recipient_class = (SELECT tonari_recipient_class()) AND c.dataset = 'roster'
           AND c.consented_on <= (SELECT tonari_today())
           AND (c.withdrawn_on IS NULL OR c.withdrawn_on > (SELECT tonari_today()))))
                  OR coalesce(ST_Covers((SELECT tonari_disaster_area()), household.location), false))))"""

CONSENT_SUMMARY: list[str] = [
    """CREATE OR REPLACE FUNCTION tonari_summarise_consent(p_tenants uuid[], p_households uuid[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
    BEGIN
        IF row_security_active('household'::regclass) AND NOT tonari_sees_all() THEN
            RAISE EXCEPTION 'consent is recorded by registry keepers only'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        UPDATE household h SET
               roster_consent_council = s.roster_consent_council,
               roster_consent_commissioner = s.roster_consent_commissioner,
               roster_consent_watcher = s.roster_consent_watcher
        FROM (
            SELECT k.tenant_id, k.household_id,
                   coalesce(range_agg(daterange(c.consented_on, c.withdrawn_on)) FILTER (WHERE c.recipient_class = 'council'), '{}') AS roster_consent_council,
                   coalesce(range_agg(daterange(c.consented_on, c.withdrawn_on)) FILTER (WHERE c.recipient_class = 'commissioner'), '{}') AS roster_consent_commissioner,
                   coalesce(range_agg(daterange(c.consented_on, c.withdrawn_on)) FILTER (WHERE c.recipient_class = 'watcher'), '{}') AS roster_consent_watcher
            FROM (SELECT DISTINCT * FROM unnest(p_tenants, p_households) AS u(tenant_id, household_id)) k
            LEFT JOIN consent c ON c.tenant_id = k.tenant_id AND c.household_id = k.household_id
                               AND c.dataset = 'roster'
            GROUP BY k.tenant_id, k.household_id
        ) s
        WHERE h.tenant_id = s.tenant_id AND h.id = s.household_id AND (h.roster_consent_council IS DISTINCT FROM s.roster_consent_council OR h.roster_consent_commissioner IS DISTINCT FROM s.roster_consent_commissioner OR h.roster_consent_watcher IS DISTINCT FROM s.roster_consent_watcher);
    END $$""",
    """CREATE OR REPLACE FUNCTION tonari_consent_summary_trigger() RETURNS trigger
    LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
    DECLARE
        v_tenants uuid[];
        v_households uuid[];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            SELECT array_agg(tenant_id), array_agg(household_id) INTO v_tenants, v_households FROM new_consent;
        ELSIF TG_OP = 'DELETE' THEN
            SELECT array_agg(tenant_id), array_agg(household_id) INTO v_tenants, v_households FROM old_consent;
        ELSE
            SELECT array_agg(tenant_id), array_agg(household_id) INTO v_tenants, v_households
            FROM (SELECT tenant_id, household_id FROM new_consent
                  UNION ALL SELECT tenant_id, household_id FROM old_consent) changed;
        END IF;
        IF v_households IS NOT NULL THEN
            PERFORM tonari_summarise_consent(v_tenants, v_households);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER consent_summary_insert AFTER INSERT ON consent
        REFERENCING NEW TABLE AS new_consent FOR EACH STATEMENT EXECUTE FUNCTION tonari_consent_summary_trigger()""",
    """CREATE TRIGGER consent_summary_update AFTER UPDATE ON consent
        REFERENCING OLD TABLE AS old_consent NEW TABLE AS new_consent
        FOR EACH STATEMENT EXECUTE FUNCTION tonari_consent_summary_trigger()""",
    """CREATE TRIGGER consent_summary_delete AFTER DELETE ON consent
        REFERENCING OLD TABLE AS old_consent FOR EACH STATEMENT EXECUTE FUNCTION tonari_consent_summary_trigger()""",
]

DROP_CONSENT_SUMMARY: list[str] = [
    """DROP TRIGGER IF EXISTS consent_summary_delete ON consent""",
    """DROP TRIGGER IF EXISTS consent_summary_update ON consent""",
    """DROP TRIGGER IF EXISTS consent_summary_insert ON consent""",
    """DROP FUNCTION IF EXISTS tonari_consent_summary_trigger()""",
    """DROP FUNCTION IF EXISTS tonari_summarise_consent(uuid[], uuid[])""",
]
