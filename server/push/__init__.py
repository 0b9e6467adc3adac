"""Web Push (VAPID, aes128gcm via pywebpush): device subscriptions, the sending queue, `/api/push`.

For other modules:

    from server.push import PushMessage, schedule_after_commit

    schedule_after_commit(
        services(request.app).push, db_session,
        tenant_id=ctx.tenant_id, user_ids=[commissioner_user_id, *coordinator_ids],
        message=PushMessage(title="要救助の報告", body="安否確認で要救助が報告されました。",
                            url=f"/operations/{op.id}/reports/{report.id}", tag=f"esc-{report.id}",
                            kind="escalation", urgency="high"),
        drill=op.mode == "drill",
    )
    await db_session.commit()   # queued only now; a rollback sends nothing

Messages carry no personal data (see `server.push.send`). `notify()` is the awaitable sender the
queue uses; call it directly only from background work, never in a request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.push.queue import schedule, schedule_after_commit
    from server.push.send import PushMessage, SendReport, notify

__all__ = ["PushMessage", "SendReport", "notify", "schedule", "schedule_after_commit"]

_HOME = {
    "PushMessage": "server.push.send", "SendReport": "server.push.send", "notify": "server.push.send",
    "schedule": "server.push.queue", "schedule_after_commit": "server.push.queue",
}


def __getattr__(name: str) -> Any:
    # Lazy, so importing the models (Alembic, the drift test) does not load pywebpush and aiohttp.
    if name in _HOME:
        import importlib

        return getattr(importlib.import_module(_HOME[name]), name)
    raise AttributeError(name)
