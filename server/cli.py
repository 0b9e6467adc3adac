"""Command line: `python -m server.cli migrate | seed | serve`. Used by the Makefile and CI."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path


def _database_url() -> str:
    from server.settings import normalise_database_url

    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is not set (make run starts an embedded PostGIS and sets it).")
    return normalise_database_url(url)


def cmd_migrate(_: argparse.Namespace) -> None:
    from server.db.migrate import upgrade

    upgrade(_database_url())


def cmd_seed(args: argparse.Namespace) -> None:
    from seed.demo import seed_demo
    from server.db.engine import make_engine, make_sessionmaker

    async def run() -> list:
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

    uvicorn.run(
        "server.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("TONARI_TRUSTED_PROXIES", "127.0.0.1"),
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
    serve = sub.add_parser("serve", help="serve the API and the PWA")
    serve.add_argument("--host", default=os.environ.get("TONARI_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("TONARI_PORT", "8000")))
    serve.set_defaults(func=cmd_serve)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
