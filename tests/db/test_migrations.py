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
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.split(".")[0] in ("server", "geo", "seed")
            ):
                assert node.module in allowed, f"{path.name} imports {node.module}"


def test_0020_merges_a_shelter_listed_under_both_layouts_into_one_facility(databases) -> None:
    """Rows imported before 0020: the designated shelter and the emergency site of one facility
    become one shelter with both designations; a site a visit names, or of another name, stays."""
    import asyncpg
    from alembic import command

    from tests.conftest import asyncpg_dsn

    url = databases.make("shelters0020")
    command.upgrade(alembic_config(url), "0015")

    async def run(sql: str, *args: object) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            async with conn.transaction():
                await conn.execute(
                    "SELECT set_config('tonari.tenant_id', $1, true), set_config('tonari.role', 'system', true)", tenant
                )
                return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    tenant = "0190a0a0-0000-7000-8000-000000000001"
    asyncio.run(
        run("INSERT INTO tenant (id, name, municipality_code) VALUES ($1, '笠間市社会福祉協議会', '08216')", tenant)
    )
    asyncio.run(
        run(
            """INSERT INTO shelter (tenant_id, id, source_id, kind, name, address, location, hazards) VALUES
           ($1, gen_random_uuid(), 'E0821600016111', 'designated', '市民体育館', '石井2068-1', 'SRID=4326;POINT(140.24 36.38)', '{}'),
           ($1, gen_random_uuid(), 'E0821600016201', 'emergency_site', '市民体育館', '石井2068-1', 'SRID=4326;POINT(140.24 36.38)',
            '{earthquake,landslide}'),
           ($1, gen_random_uuid(), 'E0821600016112', 'designated', '武道館', '石井2068-1', 'SRID=4326;POINT(140.24 36.38)', '{}')""",
            tenant,
        )
    )
    upgrade(url)
    shelters = {
        r["name"]: r
        for r in asyncio.run(
            run("SELECT name, kind, source_id, designations, other_source_ids, hazards FROM shelter ORDER BY name")
        )
    }
    assert set(shelters) == {"市民体育館", "武道館"}
    gym = shelters["市民体育館"]
    assert (gym["kind"], gym["source_id"], gym["designations"], gym["other_source_ids"], gym["hazards"]) == (
        "designated",
        "E0821600016111",
        ["designated", "emergency_site"],
        ["E0821600016201"],
        ["earthquake", "landslide"],
    )
    assert shelters["武道館"]["designations"] == ["designated"]
