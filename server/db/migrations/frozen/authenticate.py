"""tonari_authenticate() as each migration that changed it created it, frozen (never edit).

0008 made it; 0011 reads `app_user.all_districts` (scope fails closed); 0012 also returns
`must_change_password` (its result type changes, so 0012 drops and creates it).
"""

from __future__ import annotations

V0008 = """
CREATE OR REPLACE FUNCTION tonari_authenticate(p_tenant uuid, p_session text, p_idle interval, p_touch interval)
RETURNS TABLE (session_id text, user_id uuid, login text, display_name text, role text,
               expires_at timestamptz, absolute_expires_at timestamptz,
               district_ids uuid[], scope uuid[], touched boolean)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
#variable_conflict use_column
DECLARE
    s record;
    v_direct uuid[];
    v_scope uuid[];
    v_expires timestamptz;
    v_touched boolean := false;
BEGIN
    PERFORM set_config('tonari.tenant_id', p_tenant::text, true);
    SELECT us.id, us.user_id, us.last_seen_at, us.expires_at, us.absolute_expires_at,
           u.login, u.display_name, u.role
      INTO s
      FROM user_session us
      JOIN app_user u ON u.tenant_id = us.tenant_id AND u.id = us.user_id
     WHERE us.tenant_id = p_tenant AND us.id = p_session AND us.expires_at > now() AND u.is_active;
    IF NOT FOUND THEN
        PERFORM set_config('tonari.tenant_id', '', true);
        RETURN;
    END IF;
    SELECT array_agg(sc.district_id ORDER BY sc.district_id) INTO v_direct
      FROM user_district_scope sc WHERE sc.tenant_id = p_tenant AND sc.user_id = s.user_id;
    IF v_direct IS NOT NULL THEN
        WITH RECURSIVE tree AS (
            SELECT d.id FROM district d WHERE d.tenant_id = p_tenant AND d.id = ANY (v_direct)
            UNION
            SELECT c.id FROM district c JOIN tree t ON c.parent_id = t.id WHERE c.tenant_id = p_tenant
        )
        SELECT coalesce(array_agg(tree.id ORDER BY tree.id::text), '{}') INTO v_scope FROM tree;
    END IF;
    v_expires := s.expires_at;
    IF now() - s.last_seen_at >= p_touch THEN
        v_expires := least(now() + p_idle, s.absolute_expires_at);
        UPDATE user_session SET last_seen_at = now(), expires_at = v_expires
         WHERE tenant_id = p_tenant AND id = p_session;
        v_touched := true;
    END IF;
    PERFORM set_config('tonari.user_id', s.user_id::text, true),
            set_config('tonari.role', s.role, true),
            set_config('tonari.scope', CASE WHEN v_direct IS NULL THEN ''
                                            WHEN cardinality(v_scope) = 0 THEN '00000000-0000-0000-0000-000000000000'
                                            ELSE array_to_string(v_scope, ',') END, true);
    RETURN QUERY SELECT s.id::text, s.user_id, s.login::text, s.display_name::text, s.role::text,
                        v_expires, s.absolute_expires_at, v_direct, v_scope, v_touched;
END $$
"""

V0011 = """
CREATE OR REPLACE FUNCTION tonari_authenticate(p_tenant uuid, p_session text, p_idle interval, p_touch interval)
RETURNS TABLE (session_id text, user_id uuid, login text, display_name text, role text,
               expires_at timestamptz, absolute_expires_at timestamptz,
               district_ids uuid[], scope uuid[], touched boolean)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
#variable_conflict use_column
DECLARE
    s record;
    v_direct uuid[];
    v_scope uuid[];
    v_expires timestamptz;
    v_touched boolean := false;
BEGIN
    -- The tenant first: every read below is under row-level security for it.
    PERFORM set_config('tonari.tenant_id', p_tenant::text, true);
    SELECT us.id, us.user_id, us.last_seen_at, us.expires_at, us.absolute_expires_at,
           u.login, u.display_name, u.role, u.all_districts
      INTO s
      FROM user_session us
      JOIN app_user u ON u.tenant_id = us.tenant_id AND u.id = us.user_id
     WHERE us.tenant_id = p_tenant AND us.id = p_session AND us.expires_at > now() AND u.is_active;
    IF NOT FOUND THEN
        PERFORM set_config('tonari.tenant_id', '', true);
        RETURN;
    END IF;
    -- district_ids and scope are NULL only for a whole-tenant user; otherwise arrays, possibly
    -- empty (no district: sees nothing), never "everything" by absence.
    IF NOT s.all_districts THEN
        SELECT coalesce(array_agg(sc.district_id ORDER BY sc.district_id), '{}') INTO v_direct
          FROM user_district_scope sc WHERE sc.tenant_id = p_tenant AND sc.user_id = s.user_id;
        WITH RECURSIVE tree AS (
            SELECT d.id FROM district d WHERE d.tenant_id = p_tenant AND d.id = ANY (v_direct)
            UNION
            SELECT c.id FROM district c JOIN tree t ON c.parent_id = t.id WHERE c.tenant_id = p_tenant
        )
        SELECT coalesce(array_agg(tree.id ORDER BY tree.id::text), '{}') INTO v_scope FROM tree;
    END IF;
    v_expires := s.expires_at;
    IF now() - s.last_seen_at >= p_touch THEN
        v_expires := least(now() + p_idle, s.absolute_expires_at);
        UPDATE user_session SET last_seen_at = now(), expires_at = v_expires
         WHERE tenant_id = p_tenant AND id = p_session;
        v_touched := true;
    END IF;
    PERFORM set_config('tonari.user_id', s.user_id::text, true),
            set_config('tonari.role', s.role, true),
            -- '' = the whole tenant; an empty scope is "no district at all", never "everything"
            set_config('tonari.scope', CASE WHEN s.all_districts THEN ''
                                            WHEN cardinality(v_scope) = 0 THEN '00000000-0000-0000-0000-000000000000'
                                            ELSE array_to_string(v_scope, ',') END, true);
    RETURN QUERY SELECT s.id::text, s.user_id, s.login::text, s.display_name::text, s.role::text,
                        v_expires, s.absolute_expires_at, v_direct, v_scope, v_touched;
END $$
"""

V0012 = """
CREATE FUNCTION tonari_authenticate(p_tenant uuid, p_session text, p_idle interval, p_touch interval)
RETURNS TABLE (session_id text, user_id uuid, login text, display_name text, role text,
               expires_at timestamptz, absolute_expires_at timestamptz,
               district_ids uuid[], scope uuid[], touched boolean, must_change_password boolean)
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
#variable_conflict use_column
DECLARE
    s record;
    v_direct uuid[];
    v_scope uuid[];
    v_expires timestamptz;
    v_touched boolean := false;
BEGIN
    -- The tenant first: every read below is under row-level security for it.
    PERFORM set_config('tonari.tenant_id', p_tenant::text, true);
    SELECT us.id, us.user_id, us.last_seen_at, us.expires_at, us.absolute_expires_at,
           u.login, u.display_name, u.role, u.all_districts, u.must_change_password
      INTO s
      FROM user_session us
      JOIN app_user u ON u.tenant_id = us.tenant_id AND u.id = us.user_id
     WHERE us.tenant_id = p_tenant AND us.id = p_session AND us.expires_at > now() AND u.is_active;
    IF NOT FOUND THEN
        PERFORM set_config('tonari.tenant_id', '', true);
        RETURN;
    END IF;
    -- district_ids and scope are NULL only for a whole-tenant user; otherwise arrays, possibly
    -- empty (no district: sees nothing), never "everything" by absence.
    IF NOT s.all_districts THEN
        SELECT coalesce(array_agg(sc.district_id ORDER BY sc.district_id), '{}') INTO v_direct
          FROM user_district_scope sc WHERE sc.tenant_id = p_tenant AND sc.user_id = s.user_id;
        WITH RECURSIVE tree AS (
            SELECT d.id FROM district d WHERE d.tenant_id = p_tenant AND d.id = ANY (v_direct)
            UNION
            SELECT c.id FROM district c JOIN tree t ON c.parent_id = t.id WHERE c.tenant_id = p_tenant
        )
        SELECT coalesce(array_agg(tree.id ORDER BY tree.id::text), '{}') INTO v_scope FROM tree;
    END IF;
    v_expires := s.expires_at;
    IF now() - s.last_seen_at >= p_touch THEN
        v_expires := least(now() + p_idle, s.absolute_expires_at);
        UPDATE user_session SET last_seen_at = now(), expires_at = v_expires
         WHERE tenant_id = p_tenant AND id = p_session;
        v_touched := true;
    END IF;
    PERFORM set_config('tonari.user_id', s.user_id::text, true),
            set_config('tonari.role', s.role, true),
            -- '' = the whole tenant; an empty scope is "no district at all", never "everything"
            set_config('tonari.scope', CASE WHEN s.all_districts THEN ''
                                            WHEN cardinality(v_scope) = 0 THEN '00000000-0000-0000-0000-000000000000'
                                            ELSE array_to_string(v_scope, ',') END, true);
    RETURN QUERY SELECT s.id::text, s.user_id, s.login::text, s.display_name::text, s.role::text,
                        v_expires, s.absolute_expires_at, v_direct, v_scope, v_touched, s.must_change_password;
END $$
"""
