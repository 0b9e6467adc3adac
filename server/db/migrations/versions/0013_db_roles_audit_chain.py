"""The app's role keeps to DML; the audit log is written through one function and hash-chained.

Migrations run as the owner role (it owns every table); the app signs in as a member of the
NOLOGIN group `tonari_app`, which gets SELECT/INSERT/UPDATE/DELETE on the tables (now and, by
default privileges, on every table the owner creates later) and nothing else: no TRUNCATE, no
ALTER, no trigger or RLS switches. On the audit tables it only reads. Audit rows are appended by
`tonari_audit_append()` (SECURITY DEFINER, owned by the owner), which takes the tenant and the
actor from the transaction's GUCs; `tonari_audit_seal()` chains committed rows per tenant
afterwards, off the request path. See docs/decisions/0004-audit-log.md (Addendum #14) and 0002.

The SQL is frozen here on purpose (a later change to a live module must not rewrite history).

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_GROUP = "tonari_app"

_PRECONDITIONS = f"""DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_GROUP}') THEN
        RAISE EXCEPTION 'the database role {APP_GROUP} does not exist'
            USING HINT = 'Create it once (as a superuser or a CREATEROLE role): CREATE ROLE {APP_GROUP} NOLOGIN; '
                         'GRANT {APP_GROUP} TO <the app''s login role>. See the README, "Production notes".';
    END IF;
    IF pg_has_role('{APP_GROUP}', current_user, 'USAGE') THEN
        RAISE EXCEPTION 'the role % that runs the migrations is granted to {APP_GROUP}: the app would own its tables',
            current_user
            USING HINT = 'Run migrations as a separate owner role that is not granted to the app (README, "Production notes").';
    END IF;
END $$"""

# PostGIS's spatial_ref_sys and the like belong to their extension, not to us.
_IN_EXTENSION = "EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')"

# The app reads and writes rows, nothing more; migration bookkeeping it only reads.
_GRANTS = [
    f"GRANT USAGE ON SCHEMA public TO {APP_GROUP}",
    f"""DO $$
    DECLARE t regclass;
    BEGIN
        FOR t IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v')
                   AND pg_has_role(current_user, c.relowner, 'USAGE') AND NOT {_IN_EXTENSION}
        LOOP
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO {APP_GROUP}', t);
        END LOOP;
        FOR t IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relkind = 'S'
                   AND pg_has_role(current_user, c.relowner, 'USAGE') AND NOT {_IN_EXTENSION}
        LOOP
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO {APP_GROUP}', t);
        END LOOP;
    END $$""",
    f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {APP_GROUP}",
    # Tables, views and sequences the owner creates from now on (other migrations) get the same.
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_GROUP}",
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_GROUP}",
]

_UNGRANTS = [
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_GROUP}",
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_GROUP}",
    f"""DO $$
    DECLARE t regclass;
    BEGIN
        FOR t IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'S')
                   AND pg_has_role(current_user, c.relowner, 'USAGE') AND NOT {_IN_EXTENSION}
        LOOP
            EXECUTE format('REVOKE ALL ON %s FROM {APP_GROUP}', t);
        END LOOP;
    END $$""",
    f"REVOKE USAGE ON SCHEMA public FROM {APP_GROUP}",
]

_APPEND_ONLY = """CREATE FUNCTION tonari_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$"""


def _tenant_rls(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"""CREATE POLICY tenant_isolation ON {table}
            USING (tenant_id = tonari_current_tenant())
            WITH CHECK (tenant_id = tonari_current_tenant())""",
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION tonari_refuse_change()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION tonari_refuse_change()""",
    ]


# What a link's hash covers: every column of the row, in a text form that depends on nothing but
# the row (UTC timestamps, jsonb's canonical output). Changing it breaks every existing chain.
_DIGEST = """CREATE FUNCTION tonari_audit_digest(a public.audit_log) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT sha256(convert_to(jsonb_build_array(
        a.tenant_id::text, a.id, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        a.actor_user_id::text, a.actor_login, a.action, a.object_type, to_jsonb(a.object_ids), a.mode,
        a.operation_id::text, a.request_id, a.client_addr::text, a.details, a.txid
    )::text, 'UTF8'))
    $$"""

# The only way the app writes the audit log. The tenant is the one stamped on the transaction
# (server/db/engine.py, tonari_authenticate()); an argument may only repeat it. The actor is the
# stamped user unless the caller names another: before anyone is signed in (a sign-in attempt) or
# in a group commit (several users' requests of one tenant in one transaction); then it must be a
# user of that tenant. The common case (no actor argument, or the stamped one) costs no lookup.
_APPEND = """CREATE FUNCTION tonari_audit_append(
        p_action text,
        p_object_type text DEFAULT NULL,
        p_object_ids text[] DEFAULT '{}',
        p_mode text DEFAULT 'normal',
        p_operation_id uuid DEFAULT NULL,
        p_details jsonb DEFAULT '{}',
        p_request_id text DEFAULT NULL,
        p_client_addr inet DEFAULT NULL,
        p_tenant_id uuid DEFAULT NULL,
        p_actor_user_id uuid DEFAULT NULL,
        p_actor_login text DEFAULT NULL
    ) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
        v_tenant uuid := nullif(current_setting('tonari.tenant_id', true), '')::uuid;
        v_actor uuid := nullif(current_setting('tonari.user_id', true), '')::uuid;
        v_id bigint;
    BEGIN
        IF v_tenant IS NULL THEN
            RAISE EXCEPTION 'an audit row needs the transaction''s tenant (tonari.tenant_id)'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF p_tenant_id IS NOT NULL AND p_tenant_id <> v_tenant THEN
            RAISE EXCEPTION 'an audit row for tenant % in a transaction of tenant %', p_tenant_id, v_tenant
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF p_actor_user_id IS NOT NULL AND p_actor_user_id IS DISTINCT FROM v_actor THEN
            IF NOT EXISTS (SELECT 1 FROM public.app_user u WHERE u.tenant_id = v_tenant AND u.id = p_actor_user_id) THEN
                RAISE EXCEPTION 'an audit row for actor %, who is no user of tenant %', p_actor_user_id, v_tenant
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            v_actor := p_actor_user_id;
        END IF;
        INSERT INTO public.audit_log (tenant_id, actor_user_id, actor_login, action, object_type, object_ids,
                                      mode, operation_id, request_id, client_addr, details, txid)
        VALUES (v_tenant, v_actor, p_actor_login, p_action, p_object_type, coalesce(p_object_ids, '{}'),
                coalesce(p_mode, 'normal'), p_operation_id, p_request_id, p_client_addr,
                coalesce(p_details, '{}'), pg_current_xact_id()::text::bigint)
        RETURNING id INTO v_id;
        RETURN v_id;
    END $$"""

# Chains the tenant's committed audit rows: each link's hash covers its row's digest and the
# previous link's hash. Rows are taken by the id of the transaction that wrote them: every
# transaction older than the snapshot's xmin has ended, so the rows below that horizon are final
# (a row whose transaction is still open cannot be skipped and then appear below a sealed id).
# Writers never wait for this: only sealers of the same tenant take its lock.
_SEAL = """CREATE FUNCTION tonari_audit_seal(p_max_rows integer DEFAULT 50000) RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    DECLARE
        v_tenant uuid := nullif(current_setting('tonari.tenant_id', true), '')::uuid;
        v_horizon bigint;
        v_from bigint;
        v_seq bigint := 0;
        v_hash bytea := '\\x0000000000000000000000000000000000000000000000000000000000000000';
        v_ids bigint[] := '{}';
        v_hashes bytea[] := '{}';
        r record;
    BEGIN
        IF v_tenant IS NULL THEN
            RAISE EXCEPTION 'sealing needs the transaction''s tenant (tonari.tenant_id)'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('tonari.audit_seal'), hashtext(v_tenant::text));
        v_horizon := pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
        SELECT s.horizon, s.last_seq, s.head_hash INTO v_from, v_seq, v_hash
        FROM public.audit_seal s WHERE s.tenant_id = v_tenant ORDER BY s.last_seq DESC LIMIT 1;
        IF NOT FOUND THEN
            v_seq := 0;
            v_hash := '\\x0000000000000000000000000000000000000000000000000000000000000000';
        END IF;
        v_horizon := greatest(v_horizon, v_from);
        FOR r IN
            SELECT a.id, public.tonari_audit_digest(a) AS digest
            FROM public.audit_log a
            WHERE a.tenant_id = v_tenant
              AND (a.txid < v_horizon AND (v_from IS NULL OR a.txid >= v_from) OR (v_from IS NULL AND a.txid IS NULL))
              AND NOT EXISTS (SELECT 1 FROM public.audit_chain c WHERE c.tenant_id = v_tenant AND c.audit_id = a.id)
            ORDER BY a.id
            LIMIT p_max_rows
        LOOP
            v_seq := v_seq + 1;
            v_hash := sha256(v_hash || r.digest);
            v_ids := v_ids || r.id;
            v_hashes := v_hashes || v_hash;
        END LOOP;
        IF cardinality(v_ids) = 0 THEN
            RETURN 0;
        END IF;
        INSERT INTO public.audit_chain (tenant_id, seq, audit_id, hash)
        SELECT v_tenant, v_seq - cardinality(v_ids) + u.n, u.id, u.hash
        FROM unnest(v_ids, v_hashes) WITH ORDINALITY AS u(id, hash, n);
        -- A pass cut short by p_max_rows keeps the old horizon: the next one looks at the same
        -- range again and skips what is chained already.
        INSERT INTO public.audit_seal (tenant_id, last_seq, horizon, head_hash, row_count)
        VALUES (v_tenant, v_seq, CASE WHEN cardinality(v_ids) < p_max_rows THEN v_horizon ELSE v_from END,
                v_hash, cardinality(v_ids));
        RETURN cardinality(v_ids);
    END $$"""

# The one piece of maintenance the app does itself (decision 0009: the statistics of a large
# operation's targets, in the start's own transaction). Only an owner may ANALYZE; VACUUM cannot
# run inside a function at all, so the app no longer vacuums after a start (0002 addendum).
_ANALYZE_TARGETS = """CREATE FUNCTION tonari_analyze_operation_targets() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
        ANALYZE public.operation_target;
    END $$"""

_FUNCTION_GRANTS = [
    "REVOKE ALL ON FUNCTION tonari_analyze_operation_targets() FROM PUBLIC",
    f"GRANT EXECUTE ON FUNCTION tonari_analyze_operation_targets() TO {APP_GROUP}",
    "REVOKE ALL ON FUNCTION tonari_audit_append(text, text, text[], text, uuid, jsonb, text, inet, uuid, uuid, text) FROM PUBLIC",
    "REVOKE ALL ON FUNCTION tonari_audit_seal(integer) FROM PUBLIC",
    f"GRANT EXECUTE ON FUNCTION tonari_audit_append(text, text, text[], text, uuid, jsonb, text, inet, uuid, uuid, text) TO {APP_GROUP}",
    f"GRANT EXECUTE ON FUNCTION tonari_audit_seal(integer) TO {APP_GROUP}",
]


def upgrade() -> None:
    op.execute(_PRECONDITIONS)
    op.execute(_APPEND_ONLY)
    op.add_column("audit_log", sa.Column("txid", sa.BigInteger(), nullable=True))
    op.create_index("ix_audit_log_tenant_id_txid", "audit_log", ["tenant_id", "txid"], unique=False)
    op.create_table(
        "audit_chain",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("audit_id", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("octet_length(hash) = 32", name=op.f("ck_audit_chain_hash_sha256")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_audit_chain_tenant_id_tenant"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", "seq", name=op.f("pk_audit_chain")),
        sa.UniqueConstraint("tenant_id", "audit_id", name=op.f("uq_audit_chain_tenant_id_audit_id")),
    )
    op.create_table(
        "audit_seal",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("horizon", sa.BigInteger(), nullable=True),
        sa.Column("head_hash", sa.LargeBinary(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_audit_seal_tenant_id_tenant"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("tenant_id", "last_seq", name=op.f("pk_audit_seal")),
    )
    for table in ("audit_chain", "audit_seal"):
        for statement in _tenant_rls(table):
            op.execute(statement)
    op.execute(_DIGEST)
    op.execute(_APPEND)
    op.execute(_SEAL)
    op.execute(_ANALYZE_TARGETS)
    for statement in _FUNCTION_GRANTS:
        op.execute(statement)
    for statement in _GRANTS:
        op.execute(statement)
    # The audit tables: read by the app, written only by the functions above (run as the owner).
    for table in ("audit_log", "audit_chain", "audit_seal"):
        op.execute(f"REVOKE INSERT, UPDATE, DELETE ON {table} FROM {APP_GROUP}")
    op.execute(f"""DO $$ BEGIN
        EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM {APP_GROUP}', pg_get_serial_sequence('audit_log', 'id'));
    END $$""")


def downgrade() -> None:
    for statement in _UNGRANTS:
        op.execute(statement)
    op.execute("DROP FUNCTION tonari_analyze_operation_targets()")
    op.execute("DROP FUNCTION tonari_audit_seal(integer)")
    op.execute("DROP FUNCTION tonari_audit_append(text, text, text[], text, uuid, jsonb, text, inet, uuid, uuid, text)")
    op.execute("DROP FUNCTION tonari_audit_digest(audit_log)")
    op.drop_table("audit_seal")
    op.drop_table("audit_chain")
    op.drop_index("ix_audit_log_tenant_id_txid", table_name="audit_log")
    op.drop_column("audit_log", "txid")
    op.execute("DROP FUNCTION tonari_refuse_change()")
