"""The city-wide drill bench (`bench/drills.py`) gives every one of `--watchers` bot accounts a
household and every household a watcher, adding bench-only watchers when the prefecture has too
few, and a second run adds nothing (the demo seed is not involved)."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from typing import Any

from tests.conftest import as_app

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_every_bot_gets_a_household_and_every_household_a_watcher(databases, monkeypatch, tmp_path) -> None:
    from seed import prefecture

    owner = databases.make("drillbots")
    monkeypatch.setenv("TONARI_MIGRATE_DATABASE_URL", owner)
    url = as_app(owner)
    prefecture.run(url, households=400, watchers=120, quiet=True, credentials=tmp_path / "credentials.json")
    monkeypatch.syspath_prepend(str(BENCH))
    try:  # bench/drills.py as `python bench/drills.py` imports it (its `common` beside it)
        drills: Any = importlib.import_module("drills")
        common: Any = importlib.import_module("common")
    finally:  # bench/'s top-level names leave no trace for other tests
        sys.modules.pop("drills", None)
        sys.modules.pop("common", None)

    async def bots(n: int) -> dict[str, Any]:
        tenant = await common.bench_tenant(url)
        return await drills.ensure_bots(url, tenant.tenant_id, n)

    # 120 neighbourhood watchers, one of them with the bench-watcher account: 150 bots need 31
    # bench-only watchers besides.
    first = asyncio.run(bots(150))
    assert first["bot_accounts_added"] == first["bot_accounts"] == 150
    assert first["bench_watchers_added"] == 31
    assert first["bot_accounts_without_household"] == 0 and first["households_unwatched"] == 0
    assert first["links"] == first["households"] == 400
    again = asyncio.run(bots(150))
    assert "bot_accounts_added" not in again and "bot_links_added" not in again
    assert again["bot_accounts"] == 150 and again["bot_accounts_without_household"] == 0
