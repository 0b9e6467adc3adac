"""`create_app()`: the one place the Litestar application is assembled."""

from __future__ import annotations

import gc
from collections import defaultdict
from functools import cached_property
from typing import Any

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.routes import HTTPRoute
from litestar.types import Message, Receive, Scope, Send

from server.accounts.controller import AuthController
from server.accounts.middleware import SessionCookieAuthMiddleware
from server.accounts.sessions import COOKIE_NAME
from server.accounts.users_api import UsersController
from server.audit.chain import AuditSealer, warn_if_app_role_owns_tables
from server.audit.controller import AuditController
from server.core.errors import EXCEPTION_HANDLERS
from server.core.guards import public
from server.core.headers import SecurityHeaders
from server.core.input import TonariRequest
from server.core.logging import configure as configure_logging
from server.core.openapi import document_problems
from server.core.request_context import request_context_middleware
from server.db import models as _models  # noqa: F401  (registers every table)
from server.db.driver import DriverPool
from server.db.engine import make_engine, make_sessionmaker
from server.drills.api import DrillReportController, DrillRunController, DrillScenarioController
from server.drills.api_planning import PlanningController
from server.events.api import EventController
from server.events.hub import EventHub
from server.health.controller import HealthController
from server.jobs.plugin import JobsPlugin
from server.maps.config import MapConfigController
from server.maps.tiles.api import TileController
from server.operations.api import EscalationController, OperationController, SyncController, VisitExportController
from server.operations.api_console import ConsoleController
from server.operations.api_devices import DeviceController, OperationDevicesController
from server.operations.api_field import FieldController
from server.operations.group_commit import VisitBatcher
from server.push.plugin import PushPlugin
from server.registry.api_declarations import DeclarationController
from server.registry.api_exports import RegistryExportController
from server.registry.api_households import HouseholdController, PersonController
from server.registry.api_places import DistrictController, HazardZoneController, ShelterController
from server.registry.api_staff import StaffController
from server.registry.api_watchers import WatcherController
from server.registry.imports.api import ImportController
from server.services import AppServices
from server.settings import Settings, get_settings
from server.vc.dispatch import DispatchActionController, DispatchController, MyDispatchController
from server.vc.needs import CentreController, NeedController
from server.vc.reception import PublicRegistrationController, ReceptionController, VolunteerController
from server.vc.statistics import StatisticsController
from server.vc.teams import TeamController
from server.watch.api import WatchController
from server.web.compression import compression_config
from server.web.spa import spa

CSRF_COOKIE = "tonari_csrf"
CSRF_HEADER = "X-CSRF-Token"

API_DESCRIPTION = f"""
Tonari (隣) API for social welfare councils.

**Sessions.** `POST /api/auth/login` sets the HttpOnly cookie `{COOKIE_NAME}`.

**CSRF.** Every safe request sets the cookie `{CSRF_COOKIE}`; every POST, PUT, PATCH and DELETE
must echo its value in the `{CSRF_HEADER}` header, or it is refused with 403 `csrf_failed`.
`GET /api/auth/csrf` exists to obtain the cookie.

**Errors** are `application/problem+json` (RFC 9457) with a stable `code`, a `message` in
Japanese and English, and `errors[]` for field problems.
"""


def settle_garbage_collector() -> None:
    """Move everything alive at start-up (modules, routes, the ORM's registries) out of the
    collector's sight and collect the young generations less often. A full collection walks every
    tracked object; with the app's ~10^6 start-up objects that is a pause of tens of ms in the
    middle of whatever requests are in flight (visible as the ingest benchmark's p99)."""
    gc.collect()
    gc.freeze()
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, 20_000), gen1, gen2)


class TonariApp(Litestar):
    """The Litestar application. Every HTTP response leaves through the security headers
    (server/core/headers.py), whichever way it was made (routes, errors, static files)."""

    def __init__(self, *args: Any, security_headers: SecurityHeaders, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.security_headers = security_headers

    # Narrower than Litestar's (which takes lifespan scopes too): those reach this app untouched.
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] == ScopeType.HTTP:
            send = self.security_headers.wrap(scope, send)
            if scope.get("method") == "OPTIONS":
                send = self._allow_every_method(scope, send)
        await super().__call__(scope, receive, send)

    @cached_property
    def allowed_methods(self) -> dict[str, bytes]:
        """Every method of each path, whichever controllers declare them. Litestar 2 answers OPTIONS
        with the methods of one route only when several share a path (litestar#4169, fixed in 3)."""
        by_path: dict[str, set[str]] = defaultdict(set)
        for route in self.routes:
            if isinstance(route, HTTPRoute):
                by_path[route.path_format].update(route.methods)
        return {path: ", ".join(sorted(methods)).encode() for path, methods in by_path.items()}

    def _allow_every_method(self, scope: Scope, send: Send) -> Send:
        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start":
                allow = self.allowed_methods.get(scope.get("path_template", ""))
                headers = list(message.get("headers") or ())
                if allow is not None and any(name.lower() == b"allow" for name, _ in headers):
                    headers = [(n, v) for n, v in headers if n.lower() != b"allow"] + [(b"allow", allow)]
                    message = {**message, "headers": headers}
            await send(message)

        return send_allow


def create_app(settings: Settings | None = None) -> TonariApp:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    engine = make_engine(settings.database_url, settings.db_pool_size, pool_timeout=settings.db_pool_timeout_seconds)
    sessionmaker = make_sessionmaker(engine)
    db_config = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        create_all=False,
        set_default_exception_handler=False,
    )

    # The live feed: one listener, its own small read pool; it also sends the coalesced wake-ups after commit.
    hub = EventHub(settings.database_url, engine, read_pool_size=settings.events_pool_size)
    # The group-commit flushes of single visits get connections of their own, so a flush never
    # queues for a connection behind the requests it is about to answer. No pre-ping (a round trip
    # per flush, and every round trip waits behind the busy event loop): a flush that meets a
    # connection the database dropped fails, SQLAlchemy invalidates the pool, and the batcher
    # retries its visits one by one on fresh connections.
    batch_engine = make_engine(
        settings.database_url, pool_size=VisitBatcher.MAX_INFLIGHT, application_name="tonari-batch"
    )
    visit_batcher = VisitBatcher(make_sessionmaker(batch_engine))
    # Tiles and the visit route's auth call work on the driver directly (server/db/driver.py).
    driver_pool = DriverPool(settings.database_url, settings.db_pool_size, timeout=settings.db_pool_timeout_seconds)
    # Chains new audit rows off the request path (server/audit/chain.py, decision 0004).
    sealer = AuditSealer(engine, settings.audit_seal_seconds)

    async def check_database_role() -> None:
        await warn_if_app_role_owns_tables(engine)

    async def dispose_engine() -> None:
        await sealer.stop()
        await hub.stop()
        await driver_pool.close()
        await engine.dispose()
        await batch_engine.dispose()

    app_services = AppServices(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        db_config=db_config,
        driver_pool=driver_pool,
        event_hub=hub,
        visit_batcher=visit_batcher,
        audit_sealer=sealer,
    )

    openapi = OpenAPIConfig(
        title="Tonari API",
        version="0.1.0",
        description=API_DESCRIPTION,
        path="/schema",
        render_plugins=[ScalarRenderPlugin()],
        # The schema and its viewer are not part of the API they describe.
        openapi_router=Router(path="/schema", route_handlers=[], guards=[public], include_in_schema=False),
        components=Components(
            security_schemes={
                "session": SecurityScheme(type="apiKey", name=COOKIE_NAME, security_scheme_in="cookie"),
                "csrf": SecurityScheme(type="apiKey", name=CSRF_HEADER, security_scheme_in="header"),
            }
        ),
    )

    return TonariApp(
        security_headers=SecurityHeaders(settings),
        route_handlers=[
            HealthController,
            AuthController,
            UsersController,
            AuditController,
            DistrictController,
            HouseholdController,
            PersonController,
            ShelterController,
            HazardZoneController,
            DeclarationController,
            RegistryExportController,
            StaffController,
            TileController,
            ImportController,
            WatcherController,
            WatchController,
            OperationController,
            OperationDevicesController,
            DeviceController,
            EscalationController,
            FieldController,
            SyncController,
            VisitExportController,
            ConsoleController,
            EventController,
            MapConfigController,
            CentreController,  # the 災害VC day (server/vc/, 0025-vc-roles)
            NeedController,
            ReceptionController,
            VolunteerController,
            PublicRegistrationController,
            TeamController,
            DispatchController,
            DispatchActionController,
            MyDispatchController,
            StatisticsController,
            DrillScenarioController,
            DrillRunController,
            DrillReportController,
            PlanningController,  # the planning tool on the coverage screen
            spa,
        ],
        # Web Push: /api/push + its sending; the job worker (server/jobs/) serves every registered entrypoint
        plugins=[SQLAlchemyPlugin(config=db_config), PushPlugin(), JobsPlugin()],
        middleware=[
            request_context_middleware,
            DefineMiddleware(SessionCookieAuthMiddleware),
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name=CSRF_COOKIE,
            header_name=CSRF_HEADER,
            cookie_secure=settings.cookie_secure,
            cookie_samesite="strict",
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi,
        request_max_body_size=settings.max_body_bytes,
        compression_config=compression_config(),  # JSON for weak links; assets come precompressed
        request_class=TonariRequest,  # the input normaliser on every body (server/core/input.py)
        state=State(app_services.state()),
        # document_problems before the collector settles: the schema it builds is kept for good
        on_startup=[
            hub.start,
            driver_pool.start,
            check_database_role,
            sealer.start,
            document_problems,
            settle_garbage_collector,
        ],
        on_shutdown=[dispose_engine],
    )
