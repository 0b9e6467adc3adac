"""`PushPlugin`: registers the push API and loads the signing keys for the app's lifetime.

One line in `create_app` (`plugins=[…, PushPlugin()]`) wires the controllers and the startup hook
(load or generate the VAPID keys). Sending is the `push.deliver` job (server/push/queue.py), which
the job worker (`JobsPlugin`) runs.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin

from server.push import prune as _prune  # noqa: F401 (registers push.prune_deliveries and its schedule)
from server.push import vapid
from server.push.controller import PushController, StaffPushController
from server.push.queue import PushService
from server.services import services


class PushPlugin(InitPlugin):
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend([PushController, StaffPushController])
        app_config.on_startup.append(self._start)
        app_config.on_shutdown.append(self._stop)
        return app_config

    async def _start(self, app: Litestar) -> None:
        app_services = services(app)
        keys = vapid.load_or_create(app_services.settings)
        vapid.install(keys)
        svc = PushService(app_services.sessionmaker, keys)
        await svc.start()
        app_services.push = svc

    async def _stop(self, app: Litestar) -> None:
        app_services = services(app)
        if app_services.push is not None:
            await app_services.push.stop()
            app_services.push = None
