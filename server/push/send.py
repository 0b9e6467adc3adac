"""Sending Web Push notifications: the message shape, the drill rule, and per-device outcomes.

**No personal data in a message.** A push payload leaves our servers for a third-party push
service (Google, Mozilla, Apple, Microsoft) and is shown on a lock screen. `PushMessage` is
therefore only a title, a short body, an in-app URL, a tag and a kind. The *caller* decides what
goes in it and must put nothing there the recipient may not see, and by default nothing that
identifies a person (no names, addresses, phone numbers, support reasons, health data): say
「要救助の報告が1件あります」 with `url="/ops/…/reports/…"`, and let the app show the details after
sign-in, under the disclosure rules. Logs here never contain payloads or endpoints.

**Drills.** `drill=True` always prefixes the title with 【訓練】 (added here, whatever the caller
passed) and namespaces the tag so a drill notification never replaces a real one on a device; a
real notification may not pretend to be a drill.

Delivery is blocking (pywebpush uses requests), so each send runs in a small dedicated thread
pool with a timeout. 404/410 from the push service means the subscription is gone: it is deleted.
Other failures count up `failure_count`; at `MAX_FAILURES` the subscription is deleted too.
Success resets the count and stamps `last_success_at`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import requests
import structlog
from pywebpush import WebPushException, webpush
from sqlalchemy import CursorResult, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.core import context
from server.push import vapid
from server.accounts.models import User
from server.push.models import PushSubscription

log = structlog.get_logger("tonari.push")

DRILL_PREFIX = "【訓練】"
MAX_FAILURES = 5
DEFAULT_TIMEOUT = 10.0
CONCURRENCY = 8
# Web Push allows 4096 bytes of ciphertext; aes128gcm adds 86 + 17 bytes. Stay well below.
MAX_PAYLOAD_BYTES = 3000

Urgency = Literal["very-low", "low", "normal", "high"]
_KIND = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")
_TAG = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class PushMessage:
    """What a notification says. Carries NO personal data — see the module docstring.

    title:   shown in bold (≤ 100 characters). 【訓練】 is added for drills by `notify`.
    body:    one or two short lines (≤ 400 characters).
    url:     an in-app path opened on click (must start with "/"; never another origin).
    tag:     notifications with the same tag replace each other on a device (optional).
    kind:    a short machine word the service worker may branch on: "escalation", "inject", "test"…
    ttl:     seconds the push service keeps it for a device that is offline (default 6 h).
    urgency: RFC 8030 Urgency; "high" wakes a sleeping phone (use for 緊急 / 要救助).
    """

    title: str
    body: str = ""
    url: str = "/"
    tag: str | None = None
    kind: str = "info"
    ttl: int = 6 * 3600
    urgency: Urgency = "normal"

    def __post_init__(self) -> None:
        if not self.title.strip() or len(self.title) > 100:
            raise ValueError("PushMessage.title must be 1–100 characters")
        if len(self.body) > 400:
            raise ValueError("PushMessage.body must be at most 400 characters")
        if not self.url.startswith("/") or self.url.startswith("//") or "\\" in self.url or len(self.url) > 512:
            raise ValueError("PushMessage.url must be an in-app path starting with '/'")
        if self.tag is not None and not _TAG.match(self.tag):
            raise ValueError("PushMessage.tag must be 1–64 of [A-Za-z0-9_.:-]")
        if not _KIND.match(self.kind):
            raise ValueError("PushMessage.kind must be a short lowercase word")
        if not 0 <= self.ttl <= 28 * 24 * 3600:
            raise ValueError("PushMessage.ttl must be between 0 and 28 days")
        if self.urgency not in ("very-low", "low", "normal", "high"):
            raise ValueError("PushMessage.urgency must be very-low, low, normal or high")

    def payload(self, *, drill: bool) -> dict[str, Any]:
        """The JSON the service worker receives. The drill rule is applied here, not by callers."""
        title = self.title
        if drill:
            if not title.startswith(DRILL_PREFIX):
                title = DRILL_PREFIX + title
        elif title.lstrip().startswith(DRILL_PREFIX):
            raise ValueError("a real (drill=False) notification must not be marked 【訓練】")
        tag = self.tag
        if drill and tag is not None:
            tag = f"drill:{tag}"
        return {
            "title": title,
            "body": self.body,
            "url": self.url,
            "tag": tag,
            "kind": self.kind,
            "drill": drill,
            "ts": int(time.time() * 1000),
        }

    def encode(self, *, drill: bool) -> str:
        text = json.dumps(self.payload(drill=drill), ensure_ascii=False, separators=(",", ":"))
        if len(text.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            raise ValueError("PushMessage is too large for Web Push")
        return text


@dataclass
class SendReport:
    """What happened to one `notify` call, per subscription (counts only; nothing personal)."""

    subscriptions: int = 0  # devices found for the users
    delivered: int = 0  # push service accepted (2xx)
    removed: int = 0  # 404/410: the browser unsubscribed or the subscription expired → deleted
    failed: int = 0  # other errors, timeouts, network problems → failure_count + 1
    dropped: int = 0  # of the failed, deleted because they reached MAX_FAILURES
    statuses: dict[str, int] = field(default_factory=dict)  # subscription id → HTTP status (0 = no answer)


@dataclass(frozen=True)
class _Target:
    id: uuid.UUID
    endpoint: str
    p256dh: str
    auth: str


_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="tonari-push")
    return _executor


def shutdown_pool() -> None:
    global _executor
    if _executor is not None:
        _executor.shutdown(wait=False, cancel_futures=True)
        _executor = None


def _post(target: _Target, data: str, keys: vapid.VapidKeys, message: PushMessage, timeout: float) -> tuple[int, str]:
    """Blocking: encrypt (aes128gcm), sign VAPID, POST. Returns (HTTP status or 0, short reason)."""
    try:
        resp = webpush(
            {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
            data=data,
            vapid_private_key=keys.vapid,
            vapid_claims={"sub": keys.subject},  # fresh dict: pywebpush writes aud/exp into it
            content_encoding="aes128gcm",
            ttl=message.ttl,
            headers={"Urgency": message.urgency},
            timeout=(min(5.0, timeout), timeout),  # requests (connect, read)
        )
        return int(resp.status_code), "ok"
    except WebPushException as exc:
        return int(exc.status_code or 0), "rejected"
    except requests.Timeout:
        return 0, "timeout"
    except requests.RequestException as exc:
        return 0, type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - bad keys in the row, crypto errors…: count as a failure, never crash
        return 0, type(exc).__name__


async def _deliver(
    target: _Target, data: str, keys: vapid.VapidKeys, message: PushMessage, timeout: float, gate: asyncio.Semaphore
) -> tuple[int, str]:
    async with gate:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(_pool(), _post, target, data, keys, message, timeout)
        try:
            # requests enforces its own timeouts; this bounds the whole thing (DNS, TLS, encryption).
            return await asyncio.wait_for(future, timeout + 5.0)
        except asyncio.TimeoutError:
            return 0, "timeout"


async def notify(
    sessionmaker: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    user_ids: Iterable[uuid.UUID],
    message: PushMessage,
    *,
    drill: bool,
    keys: vapid.VapidKeys | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> SendReport:
    """Send `message` to every device of `user_ids` in `tenant_id` and return what happened.

    This awaits the push services, so call it from a background task, not a request handler:
    request handlers use `server.push.queue.schedule_after_commit` (or `schedule`).
    The rows are read and updated under the tenant's row-level security.
    """
    data = message.encode(drill=drill)  # validates the drill rule before anything is sent
    keys = keys or vapid.current()
    users = sorted(set(user_ids))
    report = SendReport()
    if not users:
        return report
    token = context.set_context(context.RequestContext(request_id=context.current().request_id, tenant_id=tenant_id, role="system"))
    try:
        async with sessionmaker() as db, db.begin():
            rows = (
                await db.execute(
                    select(PushSubscription.id, PushSubscription.endpoint, PushSubscription.p256dh, PushSubscription.auth)
                    # A disabled user's devices get nothing (their subscriptions stay, for when
                    # an admin enables them again).
                    .join(User, (User.tenant_id == PushSubscription.tenant_id) & (User.id == PushSubscription.user_id))
                    .where(PushSubscription.tenant_id == tenant_id, PushSubscription.user_id.in_(users), User.is_active)
                    .order_by(PushSubscription.id)
                )
            ).all()
        targets = [_Target(*row) for row in rows]
        report.subscriptions = len(targets)
        if not targets:
            log.info("push.no_subscriptions", tenant_id=str(tenant_id), users=len(users), kind=message.kind, drill=drill)
            return report

        gate = asyncio.Semaphore(CONCURRENCY)
        outcomes = await asyncio.gather(*(_deliver(t, data, keys, message, timeout, gate) for t in targets))

        ok, gone, failed = [], [], []
        for target, (status, reason) in zip(targets, outcomes, strict=True):
            report.statuses[str(target.id)] = status
            if 200 <= status < 300:
                ok.append(target)
                outcome = "delivered"
            elif status in (404, 410):
                gone.append(target)
                outcome = "gone"
            else:
                failed.append(target)
                outcome = "failed"
            log.info(
                "push.sent" if outcome == "delivered" else f"push.{outcome}",
                tenant_id=str(tenant_id),
                subscription_id=str(target.id),
                service=urlsplit(target.endpoint).hostname,
                status=status,
                reason=reason,
                kind=message.kind,
                drill=drill,
            )

        async with sessionmaker() as db, db.begin():
            # Match on the keys too: a device that re-subscribed meanwhile keeps its fresh row.
            def same(ts: list[_Target]) -> Any:
                return tuple_(PushSubscription.id, PushSubscription.p256dh).in_([(t.id, t.p256dh) for t in ts])

            if ok:
                await db.execute(
                    update(PushSubscription)
                    .where(PushSubscription.tenant_id == tenant_id, same(ok))
                    .values(last_success_at=func.now(), failure_count=0)
                )
            if gone:
                result = await db.execute(
                    delete(PushSubscription).where(PushSubscription.tenant_id == tenant_id, same(gone))
                )
                report.removed = cast("CursorResult[Any]", result).rowcount or 0
            if failed:
                await db.execute(
                    update(PushSubscription)
                    .where(PushSubscription.tenant_id == tenant_id, same(failed))
                    .values(failure_count=PushSubscription.failure_count + 1)
                )
                result = await db.execute(
                    delete(PushSubscription).where(
                        PushSubscription.tenant_id == tenant_id,
                        same(failed),
                        PushSubscription.failure_count >= MAX_FAILURES,
                    )
                )
                report.dropped = cast("CursorResult[Any]", result).rowcount or 0
        report.delivered, report.failed = len(ok), len(failed)
        log.info(
            "push.notified",
            tenant_id=str(tenant_id),
            kind=message.kind,
            drill=drill,
            subscriptions=report.subscriptions,
            delivered=report.delivered,
            removed=report.removed,
            failed=report.failed,
            dropped=report.dropped,
        )
        return report
    finally:
        context.reset(token)
