"""The application's long-lived services: built once by `create_app()`, read through `services()`.

One typed object instead of string keys on `app.state`: a handler, middleware or test asks for
`services(app).engine` and the type checker knows what it gets.
"""

from __future__ import annotations

from dataclasses import dataclass

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.audit.chain import AuditSealer
from server.db.driver import DriverPool
from server.events.hub import EventHub
from server.jobs.worker import JobWorker
from server.operations.group_commit import VisitBatcher
from server.push.queue import PushService
from server.settings import Settings

_KEY = "tonari_services"


@dataclass(slots=True)
class AppServices:
    settings: Settings
    engine: AsyncEngine  # request sessions (the ORM)
    sessionmaker: async_sessionmaker[AsyncSession]
    db_config: SQLAlchemyAsyncConfig  # the auth middleware opens the request's session through it
    driver_pool: DriverPool  # the driver-level request paths (server/db/driver.py)
    event_hub: EventHub
    visit_batcher: VisitBatcher
    audit_sealer: AuditSealer
    push: PushService | None = None  # set while the app runs (server/push/plugin.py)
    jobs: JobWorker | None = None  # the job worker, while the app runs (server/jobs/plugin.py)

    def state(self) -> dict[str, AppServices]:
        """The application state that carries these services (`Litestar(state=…)`)."""
        return {_KEY: self}


def services(app: Litestar) -> AppServices:
    """The running application's services."""
    found: AppServices = app.state[_KEY]
    return found
