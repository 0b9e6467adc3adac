"""The disclosure rule as SQL functions: the single definition that both RLS and Python use.

Row visibility lives here (and only here) so the REST, GeoJSON, tile, search, export and count
paths cannot disagree: they all filter with `tonari_household_visible(...)` /
`tonari_person_visible(...)`, and the RLS policies on `household` and `person` call the same
functions, so a query that forgets the filter still leaks nothing.

The transaction carries the viewer in GUCs stamped by `server.db.engine`: tonari.tenant_id,
tonari.user_id, tonari.role and tonari.scope (comma-separated district ids incl. descendants,
empty = the whole tenant). Rules (PRODUCT.md §3, docs/decisions/0005-disclosure.md):

- admin, staff (registry keepers) and internal jobs ('system'): everything in the tenant;
- coordinator, commissioner, watcher: households in their district scope (whole-tenant only when
  the user is marked so: `app_user.all_districts`; no scope rows means no district), and then
  - people who consented (roster data set) for the viewer's recipient class (coordinator → 社協,
    commissioner → 民生委員, watcher → 見守り協力員), and for watchers only the households they
    are assigned to (watch links);
  - under an active *real* disaster declaration covering the household, to the extent evacuation
    support needs (49条の11③): everyone there for commissioners and coordinators; for watchers only
    the households assigned to them in an active real operation of that declaration;
- vc_volunteer and anyone without a role: nothing. A drill declaration never widens anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def _per_row(expr: str) -> str:
    return expr


def _per_statement(expr: str) -> str:
    """An uncorrelated sub-select: PostgreSQL evaluates it once per statement (an InitPlan)."""
    return f"(SELECT {expr})"


# The row checks, written once; {once(...)} marks values that do not depend on the row.
_ASSIGNED = """EXISTS (
         SELECT 1 FROM watch_link w JOIN watcher v ON v.tenant_id = w.tenant_id AND v.id = w.watcher_id
         WHERE w.tenant_id = {tenant} AND w.household_id = {id} AND w.ended_at IS NULL
           AND v.user_id = {once(tonari_current_user())})"""
# The watcher's households in an active real operation of an active real declaration that covers
# the household: the only way a disaster widens what a watcher sees (PRODUCT.md §3).
_OP_ASSIGNED = """EXISTS (
         SELECT 1 FROM operation_target t
         JOIN operation o ON o.tenant_id = t.tenant_id AND o.id = t.operation_id
         JOIN disaster_declaration d ON d.tenant_id = o.tenant_id AND d.id = o.declaration_id
         WHERE t.tenant_id = {tenant} AND t.household_id = {id}
           AND t.watcher_ids && {once(tonari_my_watcher_ids())}
           AND o.mode = 'real' AND o.status = 'active'
           AND d.mode = 'real' AND d.lifted_at IS NULL AND ST_Covers(d.area, {location}))"""
_CONSENTED = """EXISTS (
         SELECT 1 FROM consent c
         WHERE c.tenant_id = {tenant} AND c.household_id = {id}
           AND c.recipient_class = {once(tonari_recipient_class())} AND c.dataset = 'roster'
           AND c.consented_on <= {once(tonari_today())}
           AND (c.withdrawn_on IS NULL OR c.withdrawn_on > {once(tonari_today())}))"""


def _render(snippet: str, tenant: str, id: str, once: Callable[[str], str], location: str = "") -> str:
    out = snippet.replace("{tenant}", tenant).replace("{id}", id).replace("{location}", location)
    return re.sub(r"\{once\(([^{}]*\(\))\)\}", lambda m: once(m.group(1)), out)


# The consent summary on `household` (migration 0010): one date multirange per recipient class a
# role reads with, the days on which someone in the household has a roster consent for that class.
# Kept by the triggers below from `consent`, the record of what was given and withdrawn.
SUMMARISED_CLASSES: tuple[str, ...] = ("council", "commissioner", "watcher")


def _summarised(columns: str) -> str:
    """The viewer's class's summary column, tested against today: one comparison, no probe."""
    cases = " ".join(f"WHEN '{cls}' THEN {columns}roster_consent_{cls}" for cls in SUMMARISED_CLASSES)
    return (
        f"coalesce((CASE {_per_statement('tonari_recipient_class()')} {cases} END)"
        f" @> {_per_statement('tonari_today()')}, false)"
    )


def household_rule(
    tenant: str, id: str, district: str, location: str, *, per_statement: bool, consent_columns: str | None = None
) -> str:
    """The household visibility rule over the given columns (or function parameters): one text,
    two renderings.

    per_statement=False is the body of tonari_household_visible(). It holds no sub-query, so
    PostgreSQL inlines the function into the caller's WHERE clause; the row checks that need one
    (consent, assignment, disaster area) stay behind helper functions, reached only for responders
    in scope.
    per_statement=True is for the RLS policy and explicit filters in heavy queries (tiles): the
    viewer's settings and the disaster area become InitPlans, evaluated once per statement, and
    the consent/assignment checks are inline EXISTS (one index probe each). Columns must be
    table-qualified (household.id, h.id): inside the EXISTS an unqualified tenant_id would bind to
    consent or watch_link.
    consent_columns (per-statement only, e.g. "h."): read consent from the household's summary
    columns instead of probing `consent` once per row (the probe was most of a responder's tile,
    bench/HISTORY.md); None renders the probe, as migrations 0006–0009 created the policy.
    """
    once = _per_statement if per_statement else _per_row
    if per_statement:
        assigned = _render(_ASSIGNED, tenant, id, once)
        consented = _render(_CONSENTED, tenant, id, once) if consent_columns is None else _summarised(consent_columns)
        disaster = (
            f"(coalesce(ST_Covers({once('tonari_disaster_area()')}, {location}), false)"
            f" AND ({once('tonari_role()')} <> 'watcher' OR {_render(_OP_ASSIGNED, tenant, id, once, location)}))"
        )
    else:
        assigned = f"tonari_household_assigned({tenant}, {id})"
        consented = f"tonari_household_consented({tenant}, {id})"
        disaster = f"tonari_household_disaster_applies({tenant}, {id}, {location})"
    return f"""{tenant} = {once("tonari_current_tenant()")} AND (
         {once("tonari_sees_all()")}
         OR ({once("tonari_role()")} IN ('coordinator', 'commissioner', 'watcher')
             AND ({once("tonari_scope()")} IS NULL OR {district} = ANY ({once("tonari_scope()")}::uuid[]))
             AND ((({once("tonari_role()")} <> 'watcher' OR {assigned}) AND {consented})
                  OR {disaster})))"""


FUNCTIONS: list[str] = [
    # Consent dates are the council's calendar days: the database session runs in UTC, and at
    # 00:10 in Kasama current_date would still be yesterday.
    # PL/pgSQL, not SQL (migration 0009): a SQL function with a sub-query is never inlined, so
    # PostgreSQL parsed and planned its body again in every statement (≈ 0.05 ms per call site,
    # four per commissioner tile); PL/pgSQL keeps the plan for the session. STABLE as before: it
    # reads with the calling statement's snapshot.
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
    # Union of the active real declarations: evaluated once per statement (InitPlan). PL/pgSQL
    # for the same reason as tonari_today() (its plan is kept; a SQL body was planned per statement).
    """CREATE OR REPLACE FUNCTION tonari_disaster_area() RETURNS geometry
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS
    $$ BEGIN
         RETURN (SELECT ST_Union(area) FROM disaster_declaration
                 WHERE tenant_id = tonari_current_tenant() AND mode = 'real' AND lifted_at IS NULL);
       END $$""",
    """CREATE OR REPLACE FUNCTION tonari_sees_all() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT tonari_role() IN ('admin', 'staff', 'system') $$""",
    f"""CREATE OR REPLACE FUNCTION tonari_household_assigned(h_tenant uuid, h_id uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT {_render(_ASSIGNED, "h_tenant", "h_id", _per_row)} $$""",
    # The viewer's watcher profiles: once per statement where the rule is per-statement. PL/pgSQL
    # for the same reason as tonari_today().
    """CREATE OR REPLACE FUNCTION tonari_my_watcher_ids() RETURNS uuid[]
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS
    $$ BEGIN
         RETURN (SELECT coalesce(array_agg(id), '{}') FROM watcher
                 WHERE tenant_id = tonari_current_tenant() AND user_id = tonari_current_user());
       END $$""",
    f"""CREATE OR REPLACE FUNCTION tonari_household_op_assigned(h_tenant uuid, h_id uuid, h_location geometry) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT {_render(_OP_ASSIGNED, "h_tenant", "h_id", _per_row, "h_location")} $$""",
    f"""CREATE OR REPLACE FUNCTION tonari_household_consented(h_tenant uuid, h_id uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT {_render(_CONSENTED, "h_tenant", "h_id", _per_row)} $$""",
    """CREATE OR REPLACE FUNCTION tonari_household_under_disaster(h_location geometry) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT coalesce(ST_Covers((SELECT tonari_disaster_area()), h_location), false) $$""",
    # Whether the disaster rule applies to this household for this viewer (it is what widened, or
    # could widen, what they see): commissioners and coordinators anywhere in a real declaration's
    # area, watchers only on their households in a real operation of that declaration.
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
    # No sub-query in the body: PostgreSQL inlines it into the caller's WHERE clause.
    f"""CREATE OR REPLACE FUNCTION tonari_household_visible(
        h_tenant uuid, h_id uuid, h_district uuid, h_location geometry) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT {household_rule("h_tenant", "h_id", "h_district", "h_location", per_statement=False)} $$""",
    # A person: their household is visible (RLS on household applies inside), and they consented
    # or the disaster rule applies to their household for this viewer.
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
    "DROP FUNCTION IF EXISTS tonari_person_visible(uuid, uuid, uuid)",
    "DROP FUNCTION IF EXISTS tonari_household_disaster_applies(uuid, uuid, geometry)",
    "DROP FUNCTION IF EXISTS tonari_household_op_assigned(uuid, uuid, geometry)",
    "DROP FUNCTION IF EXISTS tonari_my_watcher_ids()",
    "DROP FUNCTION IF EXISTS tonari_household_under_disaster(geometry)",
    "DROP FUNCTION IF EXISTS tonari_household_visible(uuid, uuid, uuid, geometry)",
    "DROP FUNCTION IF EXISTS tonari_person_consented(uuid, uuid, text)",
    "DROP FUNCTION IF EXISTS tonari_household_consented(uuid, uuid)",
    "DROP FUNCTION IF EXISTS tonari_household_assigned(uuid, uuid)",
    "DROP FUNCTION IF EXISTS tonari_sees_all()",
    "DROP FUNCTION IF EXISTS tonari_disaster_area()",
    "DROP FUNCTION IF EXISTS tonari_recipient_class()",
    "DROP FUNCTION IF EXISTS tonari_scope()",
    "DROP FUNCTION IF EXISTS tonari_role()",
    "DROP FUNCTION IF EXISTS tonari_today()",
]

# The rule in its per-statement form over `household`: the RLS policy since migration 0010,
# consent read from the summary columns.
HOUSEHOLD_POLICY = household_rule(
    "household.tenant_id",
    "household.id",
    "household.district_id",
    "household.location",
    per_statement=True,
    consent_columns="household.",
)
# The policy of migrations 0006–0009 (consent probed per row); they and 0010's downgrade create it.
HOUSEHOLD_POLICY_PROBING = household_rule(
    "household.tenant_id", "household.id", "household.district_id", "household.location", per_statement=True
)

# The summary's upkeep. Statement-level triggers with transition tables, so a bulk load (the
# benchmark's 750,000 consents) recomputes each household once, not once per row. A transition
# table cannot serve a trigger with more than one event, hence three triggers on one function.
# The UPDATE runs as the writer, under household's FORCE RLS: only a registry keeper (or a session
# RLS does not apply to) sees every household of the tenant, so anyone else is refused loudly rather
# than leaving a summary silently stale. Writing consent is a registry keeper's job anyway.
_SUMMARY_SETS = ",\n               ".join(
    f"roster_consent_{cls} = s.roster_consent_{cls}" for cls in SUMMARISED_CLASSES
)
_SUMMARY_AGGREGATES = ",\n                   ".join(
    f"coalesce(range_agg(daterange(c.consented_on, c.withdrawn_on)) FILTER (WHERE c.recipient_class = '{cls}'),"
    f" '{{}}') AS roster_consent_{cls}"
    for cls in SUMMARISED_CLASSES
)
_SUMMARY_CHANGED = " OR ".join(
    f"h.roster_consent_{cls} IS DISTINCT FROM s.roster_consent_{cls}" for cls in SUMMARISED_CLASSES
)

CONSENT_SUMMARY: list[str] = [
    f"""CREATE OR REPLACE FUNCTION tonari_summarise_consent(p_tenants uuid[], p_households uuid[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
    BEGIN
        IF row_security_active('household'::regclass) AND NOT tonari_sees_all() THEN
            RAISE EXCEPTION 'consent is recorded by registry keepers only'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        UPDATE household h SET
               {_SUMMARY_SETS}
        FROM (
            SELECT k.tenant_id, k.household_id,
                   {_SUMMARY_AGGREGATES}
            FROM (SELECT DISTINCT * FROM unnest(p_tenants, p_households) AS u(tenant_id, household_id)) k
            LEFT JOIN consent c ON c.tenant_id = k.tenant_id AND c.household_id = k.household_id
                               AND c.dataset = 'roster'
            GROUP BY k.tenant_id, k.household_id
        ) s
        WHERE h.tenant_id = s.tenant_id AND h.id = s.household_id AND ({_SUMMARY_CHANGED});
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
    "DROP TRIGGER IF EXISTS consent_summary_delete ON consent",
    "DROP TRIGGER IF EXISTS consent_summary_update ON consent",
    "DROP TRIGGER IF EXISTS consent_summary_insert ON consent",
    "DROP FUNCTION IF EXISTS tonari_consent_summary_trigger()",
    "DROP FUNCTION IF EXISTS tonari_summarise_consent(uuid[], uuid[])",
]

# Writes to the registry's personal tables: registry keepers and internal jobs only.
_WRITE_CHECK = "tenant_id = tonari_current_tenant() AND tonari_sees_all()"

POLICIES: list[str] = [
    "ALTER TABLE household ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE household FORCE ROW LEVEL SECURITY",
    f"""CREATE POLICY disclosure ON household
        USING (tonari_household_visible(tenant_id, id, district_id, location))
        WITH CHECK ({_WRITE_CHECK})""",
    "ALTER TABLE person ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE person FORCE ROW LEVEL SECURITY",
    f"""CREATE POLICY disclosure ON person
        USING (tonari_person_visible(tenant_id, id, household_id))
        WITH CHECK ({_WRITE_CHECK})""",
]

DROP_POLICIES: list[str] = [
    "DROP POLICY IF EXISTS disclosure ON person",
    "ALTER TABLE person NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE person DISABLE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS disclosure ON household",
    "ALTER TABLE household NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE household DISABLE ROW LEVEL SECURITY",
]
