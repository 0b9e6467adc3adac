"""Test fixtures: a throwaway PostGIS database per run, migrated with the real migrations.

Two roles, as in production (README, "Production notes"): `TONARI_TEST_ADMIN_URL` (set by
`make test`) is the owner role, which may CREATE DATABASE and runs the migrations;
`TONARI_TEST_APP_URL` is the app's DML-only role, which the app and the tests use. A test that
needs the owner's powers asks for `owner_database_url`. The run's database is cloned from
`tonari_template` (which has PostGIS) when it exists, and dropped at the end. Never SQLite,
never a mocked session.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.core import context
from server.services import services
from server.settings import Settings, normalise_database_url


def _admin_url() -> str:
    """The owner role: creates the throwaway databases and migrates them."""
    url = (
        os.environ.get("TONARI_TEST_ADMIN_URL")
        or os.environ.get("TONARI_MIGRATE_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        pytest.exit(
            "Set TONARI_TEST_ADMIN_URL (make test does) to the owner role, which may create databases.",
            returncode=2,
        )
    return normalise_database_url(url)


def _app_url() -> str:
    """The app's role (DML grants only, through the group role tonari_app)."""
    url = os.environ.get("TONARI_TEST_APP_URL") or os.environ.get("DATABASE_URL")
    if not url or make_url(normalise_database_url(url)).username == make_url(_admin_url()).username:
        pytest.exit(
            "Set TONARI_TEST_APP_URL (make test does) to the app's role, a member of tonari_app that is not the"
            " owner role of TONARI_TEST_ADMIN_URL: the tests run the app as it runs in production.",
            returncode=2,
        )
    return normalise_database_url(url)


def as_app(url: str) -> str:
    """The same database, signed in as the app's role."""
    app = make_url(_app_url())
    return make_url(url).set(username=app.username, password=app.password).render_as_string(hide_password=False)


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy URL → libpq DSN for asyncpg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _create_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        has_template = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = 'tonari_template'")
        template = "TEMPLATE tonari_template" if has_template else ""
        await conn.execute(f'CREATE DATABASE "{name}" {template}')
    finally:
        await conn.close()
    if not has_template:
        conn = await asyncpg.connect(asyncpg_dsn(make_url(admin_url).set(database=name).render_as_string(False)))
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        finally:
            await conn.close()


async def _drop_database(admin_url: str, name: str) -> None:
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    # Backends the app left (a test's app that did not shut down, connections still closing) belong
    # to the app's role, which the owner may not end: the app's role ends its own, then the owner drops.
    try:
        app = await asyncpg.connect(asyncpg_dsn(as_app(url)))
    except (OSError, asyncpg.PostgresError):
        app = None
    if app is not None:
        try:
            await app.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND usename = current_user"
            )
        finally:
            await app.close()
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class ThrowawayDatabases:
    """Makes databases that are dropped when the run ends (also used by the migration tests)."""

    admin_url: str
    created: list[str]

    def make(self, suffix: str) -> str:
        name = f"tonari_test_{os.getpid()}_{secrets.token_hex(3)}_{suffix}"
        asyncio.run(_create_database(self.admin_url, name))
        self.created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def databases() -> Iterator[ThrowawayDatabases]:
    dbs = ThrowawayDatabases(admin_url=_admin_url(), created=[])
    yield dbs
    for name in dbs.created:
        asyncio.run(_drop_database(dbs.admin_url, name))


@pytest.fixture(scope="session")
def owner_database_url(databases: ThrowawayDatabases) -> str:
    """The run's main database as its owner, migrated to head by the real Alembic migrations.
    Only for tests that need the owner's powers (tampering with the audit log, switching RLS off)."""
    from server.db.migrate import upgrade

    url = databases.make("main")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def database_url(owner_database_url: str) -> str:
    """The run's main database as the app's role: what the app and the tests use."""
    return as_app(owner_database_url)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    var_dir = tmp_path_factory.mktemp("var")
    dist = tmp_path_factory.mktemp("dist")
    (dist / "index.html").write_text("<!doctype html><html lang=ja><title>Tonari</title><div id=app></div>")
    (dist / "sw.js").write_text("self.addEventListener('install', () => {});")
    (dist / "assets").mkdir()
    (dist / "assets" / "app-abc123.js").write_text("console.log('app')")
    return Settings(
        database_url=database_url,
        var_dir=var_dir,
        pwa_dist=dist,
        secret_key=secrets.token_urlsafe(32),
        log_level="WARNING",
        # Tests seal when they mean to (server.audit.chain.seal_tenant), not on a timer.
        audit_seal_seconds=0,
    )


@contextlib.asynccontextmanager
async def running(application):
    """Start and stop an app's lifespan in a task of its own (anyio cancel scopes must be entered
    and left in one task, and pytest-asyncio may tear down in another)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with application.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.get_running_loop().create_task(hold())
    await started.wait()
    try:
        yield application
    finally:
        stop.set()
        await task


@pytest.fixture(scope="session")
async def app(settings: Settings):
    from server.app import create_app

    async with running(create_app(settings)) as application:
        yield application


@pytest.fixture(scope="session")
def engine(app) -> AsyncEngine:
    return services(app).engine


@pytest.fixture(scope="session")
def sessionmaker(app) -> async_sessionmaker[AsyncSession]:
    return services(app).sessionmaker


@pytest.fixture(scope="session")
async def owner_engine(owner_database_url: str):
    """An engine signed in as the tables' owner (sessions are stamped like the app's)."""
    from server.db.engine import make_engine

    engine = make_engine(owner_database_url, pool_size=2, application_name="tonari-test-owner")
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def owner_sessionmaker(owner_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    from server.db.engine import make_sessionmaker

    return make_sessionmaker(owner_engine)


@contextlib.contextmanager
def as_tenant(
    tenant_id: uuid.UUID | None,
    user_id: uuid.UUID | None = None,
    role: str | None = "system",
    scope: frozenset[uuid.UUID] | None = None,
) -> Iterator[None]:
    """Run database work in a test as if inside a request of that tenant and role (drives RLS)."""
    token = context.set_context(
        context.RequestContext(request_id="test", tenant_id=tenant_id, user_id=user_id, role=role, scope=scope)
    )
    try:
        yield
    finally:
        context.reset(token)


_client_ips = (f"10.{a}.{b}.{c}" for a, b, c in itertools.product(range(1, 250), range(256), range(1, 255)))


class IsolatedApp:
    """Runs each ASGI call in its own task so request contextvars never leak into the test."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        await asyncio.get_running_loop().create_task(self.app(scope, receive, send))


class ApiClient(httpx.AsyncClient):
    """httpx client that does what the PWA does: fetch the CSRF cookie and echo it on writes."""

    async def ensure_csrf(self) -> str:
        token = self.cookies.get("tonari_csrf")
        if not token:
            await self.get("/api/auth/csrf")
            token = self.cookies.get("tonari_csrf")
        assert token, "the CSRF cookie was not set"
        return token

    async def send_json(self, method: str, url: str, json: object = None, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}) or {})
        headers.setdefault("X-CSRF-Token", await self.ensure_csrf())
        return await self.request(method, url, json=json, headers=headers, **kw)

    async def login(self, login: str, password: str) -> httpx.Response:
        return await self.send_json("POST", "/api/auth/login", {"login": login, "password": password})


@pytest.fixture
async def client_factory(app):
    """New API clients, each from its own client address (throttling is keyed by client)."""
    clients: list[ApiClient] = []

    def make(ip: str | None = None) -> ApiClient:
        transport = httpx.ASGITransport(app=IsolatedApp(app), client=(ip or next(_client_ips), 40000))
        c = ApiClient(transport=transport, base_url="http://127.0.0.1:8000")
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
def client(client_factory) -> ApiClient:
    return client_factory()


_codes = itertools.count(10000)


def tenant_code() -> str:
    """A tenant code unique in this run: every test shares one throwaway database, so codes
    drawn from separate random ranges per file could collide and fail a test at random."""
    return f"{next(_codes):05d}"


@dataclass
class Account:
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    login: str
    password: str
    role: str


@dataclass
class TenantFixture:
    id: uuid.UUID
    code: str
    accounts: dict[str, Account]


@pytest.fixture
def make_tenant(sessionmaker):
    """A new tenant with one account per role; logins are unique across the run."""
    from server.accounts.provision import ensure_tenant, ensure_user

    async def make(
        roles: tuple[str, ...] = ("admin", "staff", "coordinator", "commissioner", "watcher", "vc_volunteer"),
    ) -> TenantFixture:
        code = tenant_code()
        tag = secrets.token_hex(4)
        async with sessionmaker() as db:
            async with db.begin():
                tenant = await ensure_tenant(db, f"テスト社協 {tag}", code)
            accounts: dict[str, Account] = {}
            with as_tenant(tenant.id):
                async with db.begin():
                    for role in roles:
                        login = f"{role}-{tag}"
                        password = secrets.token_urlsafe(12)
                        user, _ = await ensure_user(
                            db, tenant, login, role, f"テスト {role}", password, all_districts=True
                        )
                        accounts[role] = Account(tenant.id, user.id, login, password, role)
        return TenantFixture(id=tenant.id, code=code, accounts=accounts)

    return make


# The apps the session's live servers run: a test that kills the database's connections must also
# clear their pools (see drop_dead_connections).
LIVE_APPS: list = []


async def drop_dead_connections(*apps) -> None:
    """Forget every pooled connection of these apps and of the live servers' (after a test killed
    the database's backends), so no later test meets a dead one."""
    for application in (*apps, *LIVE_APPS):
        await services(application).engine.dispose()
        await services(application).driver_pool.expire()


@pytest.fixture(scope="session")
async def live_server(settings: Settings):
    """The app on a real socket (uvicorn in this event loop), for streaming responses such as SSE
    that an in-process transport would buffer."""
    import socket

    import uvicorn

    from server.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    application = create_app(settings)
    LIVE_APPS.append(application)
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn signals start only through this flag
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
async def live_client_factory(live_server):
    clients: list[ApiClient] = []

    def make() -> ApiClient:
        c = ApiClient(base_url=live_server, timeout=10)
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.aclose()
