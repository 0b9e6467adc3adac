"""`PushPlugin`: registers the push API and runs the sending queue for the app's lifetime.

One line in `create_app` (`plugins=[…, PushPlugin()]`) wires the controller, the startup hook
(load or generate the VAPID keys, start the workers) and the shutdown hook (drain briefly, stop).
"""

from __future__ import annotations

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin

from server.push import vapid
from server.push.controller import PushController
from server.push.queue import PushService
from server.services import services


class PushPlugin(InitPlugin):
    def __init__(self, *, queue_size: int = 1000, workers: int = 2) -> None:
        self.queue_size = queue_size
        self.workers = workers

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.append(PushController)
        app_config.on_startup.append(self._start)
        app_config.on_shutdown.append(self._stop)
        return app_config

    async def _start(self, app: Litestar) -> None:
        app_services = services(app)
        keys = vapid.load_or_create(app_services.settings)
        vapid.install(keys)
        svc = PushService(app_services.sessionmaker, keys, maxsize=self.queue_size, workers=self.workers)
        await svc.start()
        app_services.push = svc

    async def _stop(self, app: Litestar) -> None:
        app_services = services(app)
        if app_services.push is not None:
            await app_services.push.stop()
            app_services.push = None
