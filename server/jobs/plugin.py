"""`JobsPlugin`: the job worker runs for the app's lifetime (`services(app).jobs`)."""

from __future__ import annotations

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin

from server.jobs.worker import JobWorker
from server.services import services


class JobsPlugin(InitPlugin):
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.on_startup.append(self._start)
        app_config.on_shutdown.insert(0, self._stop)  # before the engines are disposed
        return app_config

    async def _start(self, app: Litestar) -> None:
        app_services = services(app)
        worker = JobWorker(app_services.settings.database_url, settings=app_services.settings)
        await worker.start()
        app_services.jobs = worker

    async def _stop(self, app: Litestar) -> None:
        app_services = services(app)
        if app_services.jobs is not None:
            await app_services.jobs.stop()
            app_services.jobs = None
