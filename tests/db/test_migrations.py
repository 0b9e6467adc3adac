"""Migrations: a fresh database migrates up and down, and the models never drift from them."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import inspect, pool
from sqlalchemy.ext.asyncio import create_async_engine

from server.db.migrate import alembic_config, upgrade
from server.db.models import metadata


def _diff(url: str) -> list:
    async def run() -> list:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            def compare(sync_conn):
                ctx = MigrationContext.configure(
                    sync_conn,
                    opts={"compare_type": True, "include_object": alembic_helpers.include_object},
                )
                return compare_metadata(ctx, metadata)

            diff = await conn.run_sync(compare)
        await engine.dispose()
        return diff

    return asyncio.run(run())


def _tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(run())


def test_fresh_database_migrates_to_head_and_matches_the_models(databases) -> None:
    url = databases.make("fresh")
    upgrade(url)
    assert {"tenant", "app_user", "user_session", "audit_log", "login_directory"} <= _tables(url)
    diff = _diff(url)
    assert diff == [], f"models and migrations drift apart; write a migration: {diff}"


def test_migrations_downgrade_to_base_and_back(databases) -> None:
    from alembic import command

    url = databases.make("updown")
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    assert _tables(url) - {"alembic_version", "spatial_ref_sys"} == set()
    upgrade(url)
    assert _diff(url) == []


def test_the_live_disclosure_rule_is_what_the_newest_migration_installed() -> None:
    """Migrations carry their SQL frozen; the live rule must equal the newest frozen text, so a
    change to the rule cannot reach the code without a migration that installs it."""
    from server.db.migrations.frozen import disclosure_0011 as newest
    from server.registry import disclosure_sql

    assert disclosure_sql.FUNCTIONS == newest.FUNCTIONS
    assert disclosure_sql.DROP_FUNCTIONS == newest.DROP_FUNCTIONS
    assert disclosure_sql.HOUSEHOLD_POLICY == newest.HOUSEHOLD_POLICY


def test_no_migration_imports_live_application_sql() -> None:
    """Replaying history must build what history built: a migration may import only frozen SQL
    and the stable migration helpers, never a module whose SQL changes with the code."""
    import ast
    from pathlib import Path

    allowed = {"server.db.rls", "server.db.migrations.frozen"}
    versions = Path(__file__).resolve().parents[2] / "server" / "db" / "migrations" / "versions"
    for path in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("server", "geo", "seed"):
                assert node.module in allowed, f"{path.name} imports {node.module}"
