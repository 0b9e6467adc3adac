"""SQL for row-level security, shared by migrations so every tenant-owned table gets the same policy.

The policy reads the tenant stamped on the transaction by `server.db.engine`; with no tenant set
a query sees nothing, so a forgotten filter fails closed. FORCE makes it apply to the table owner
too (the owner role's own sessions: migrations, the audit functions; the app's role owns nothing,
decision 0002 addendum). Superusers bypass RLS, which is why the app never is one.
"""

from __future__ import annotations

from typing import Protocol

# asyncpg runs one statement per call, hence lists of statements.
CURRENT_TENANT_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION tonari_current_tenant() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT nullif(current_setting('tonari.tenant_id', true), '')::uuid $$""",
    """CREATE OR REPLACE FUNCTION tonari_current_user() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE AS
    $$ SELECT nullif(current_setting('tonari.user_id', true), '')::uuid $$""",
]


def enable_tenant_rls(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"""CREATE POLICY tenant_isolation ON {table}
            USING (tenant_id = tonari_current_tenant())
            WITH CHECK (tenant_id = tonari_current_tenant())""",
    ]


def disable_tenant_rls(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS tenant_isolation ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


class _Executes(Protocol):
    """Alembic's `op` (or anything else that runs one SQL statement)."""

    def execute(self, sqltext: str, /) -> object: ...


def execute_all(op: _Executes, statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)
