"""Web Push (VAPID, aes128gcm via pywebpush): device subscriptions, the sending queue, `/api/push`.

For other modules, in the transaction that commits the cause:

    from server.push import Notification, PushMessage, enqueue_push

    await enqueue_push(db_session, tenant_id=ctx.tenant_id, notifications=[Notification(
        user_ids=[commissioner_user_id, *coordinator_ids], key=f"esc-{report.id}", drill=op.mode == "drill",
        message=PushMessage(title="要救助の報告", body="安否確認で要救助が報告されました。",
                            url=f"/operations/{op.id}/reports/{report.id}", tag=f"esc-{report.id}",
                            kind="escalation", urgency="high"))])
    await db_session.commit()   # delivered by the job worker from now on; a rollback sends nothing

Messages carry no personal data (see `server.push.send`). `notify()` sends at once and awaits the
push services: for tools and tests, never in a request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.push.queue import Notification, enqueue_push
    from server.push.send import PushMessage, SendReport, notify

__all__ = ["Notification", "PushMessage", "SendReport", "enqueue_push", "notify"]

_HOME = {
    "PushMessage": "server.push.send",
    "SendReport": "server.push.send",
    "notify": "server.push.send",
    "Notification": "server.push.queue",
    "enqueue_push": "server.push.queue",
}


def __getattr__(name: str) -> Any:
    # Lazy, so importing the models (Alembic, the drift test) does not load pywebpush and aiohttp.
    if name in _HOME:
        import importlib

        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(name)
