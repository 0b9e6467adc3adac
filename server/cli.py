"""Command line: `python -m server.cli migrate | seed | analyze | serve | audit-seal | audit-verify`.

`migrate` signs in as the owner role (`TONARI_MIGRATE_DATABASE_URL`, else `DATABASE_URL`); every
other command as the app's role (`DATABASE_URL`). Used by the Makefile and CI."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any


def _database_url() -> str:
    from server.settings import app_database_url

    try:
        return app_database_url()
    except RuntimeError as exc:
        sys.exit(str(exc))


def cmd_migrate(_: argparse.Namespace) -> None:
    from server.db.migrate import upgrade
    from server.settings import migrate_database_url

    try:
        url = migrate_database_url()
    except RuntimeError as exc:
        sys.exit(str(exc))
    upgrade(url)


def cmd_audit_seal(args: argparse.Namespace) -> None:
    from server.audit import chain
    from server.db.engine import make_engine

    async def run() -> int:
        engine = make_engine(_database_url(), pool_size=1)
        try:
            tenants = await chain.tenant_ids(engine, args.tenant)
            if args.tenant and not tenants:
                sys.exit(f"no tenant with id or municipality code {args.tenant!r}")
            return sum([await chain.seal_tenant(engine, t) for t in tenants])
        finally:
            await engine.dispose()

    print(f"chained {asyncio.run(run())} audit rows")


def cmd_audit_verify(args: argparse.Namespace) -> None:
    """Exit 0 when every tenant's chain holds, 1 at the first broken link (named per tenant)."""
    from server.audit import chain
    from server.db.engine import make_engine

    async def run() -> list[chain.Verdict]:
        engine = make_engine(_database_url(), pool_size=1)
        try:
            tenants = await chain.tenant_ids(engine, args.tenant)
            if args.tenant and not tenants:
                sys.exit(f"no tenant with id or municipality code {args.tenant!r}")
            return [await chain.verify(engine, t) for t in tenants]
        finally:
            await engine.dispose()

    verdicts = asyncio.run(run())
    for v in verdicts:
        head = f"head #{v.head_seq} {v.head_hash}" if v.head_seq else "no links yet"
        if v.ok:
            print(f"tenant {v.tenant_id}: OK, {v.links} links, {head}, {v.pending} rows waiting to be sealed")
        else:
            assert v.broken is not None
            print(f"tenant {v.tenant_id}: BROKEN: {v.broken.describe()}")
    if not all(v.ok for v in verdicts):
        sys.exit(1)


def cmd_analyze(_: argparse.Namespace) -> None:
    """Fresh planner statistics after a bulk load (the demo seed), as the owner (only an owner may),
    so the first screens are not planned for the near-empty tables autovacuum last looked at."""
    from sqlalchemy import text

    from server.db.engine import make_engine
    from server.settings import migrate_database_url

    async def run() -> None:
        owner = make_engine(migrate_database_url(), pool_size=1)
        try:
            async with owner.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("ANALYZE"))
        finally:
            await owner.dispose()

    try:
        asyncio.run(run())
    except RuntimeError as exc:
        sys.exit(str(exc))


def cmd_seed(args: argparse.Namespace) -> None:
    from seed.demo import seed_demo
    from server.db.engine import make_engine, make_sessionmaker

    async def run() -> list[Any]:
        engine = make_engine(_database_url(), pool_size=2)
        try:
            return await seed_demo(make_sessionmaker(engine), Path(args.credentials) if args.credentials else None)
        finally:
            await engine.dispose()

    creds = asyncio.run(run())
    print("Demo logins (笠間市社会福祉協議会 / 08216):")
    for c in creds:
        print(f"  {c.role:<13} login: {c.login:<13} password: {c.password}")
    if args.credentials:
        print(f"  (kept in {args.credentials}, mode 600)")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from server.settings import get_settings

    try:
        settings = get_settings()
    except RuntimeError as exc:
        sys.exit(str(exc))
    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=settings.host if args.host is None else args.host,
        port=settings.port if args.port is None else args.port,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
        log_level="warning",
        access_log=False,  # ours is the structured line per request (server/core/request_context.py)
        server_header=False,  # no "server: uvicorn" on every response: names the software, costs bytes
        timeout_graceful_shutdown=5,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m server.cli", description="Tonari server tools")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)").set_defaults(func=cmd_migrate)
    seed = sub.add_parser("seed", help="load the Kasama demo data (idempotent)")
    seed.add_argument("--credentials", help="where to keep the demo logins (JSON, mode 600)")
    seed.set_defaults(func=cmd_seed)
    analyze = sub.add_parser("analyze", help="refresh the planner's statistics after a bulk load (as the owner)")
    analyze.set_defaults(func=cmd_analyze)
    serve = sub.add_parser("serve", help="serve the API and the PWA")
    serve.add_argument("--host", help="default: TONARI_HOST, else 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: TONARI_PORT, else 8000")
    serve.set_defaults(func=cmd_serve)
    seal = sub.add_parser("audit-seal", help="chain the audit rows written since the last seal (the app does it too)")
    seal.add_argument("--tenant", help="only this tenant (id or municipality code)")
    seal.set_defaults(func=cmd_audit_seal)
    verify = sub.add_parser("audit-verify", help="check the audit log's hash chain; exit 1 at the first broken link")
    verify.add_argument("--tenant", help="only this tenant (id or municipality code)")
    verify.set_defaults(func=cmd_audit_verify)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
