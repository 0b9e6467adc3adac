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
Other failures count up `failure_count` and keep the push service's answer for staff
(`last_error`, `failing_since`); the subscription is kept, and shown to staff, until it has failed
for `DROP_AFTER` without a single success. Success resets all of that and stamps `last_success_at`.
The app sends through the job queue (`server/push/queue.py`); `notify()` sends at once, for tools.
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
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
import structlog
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.accounts.models import User
from server.core import context
from server.push import vapid
from server.push.models import PushSubscription

log = structlog.get_logger("tonari.push")

DRILL_PREFIX = "【訓練】"
# A subscription that failed at least MAX_FAILURES times in a row over DROP_AFTER, with no success
# in between, is deleted; until then staff see it failing (GET /api/staff/push/devices).
MAX_FAILURES = 5
DROP_AFTER = timedelta(days=30)
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
class Target:
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


def _retry_after(headers: Any) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), if any."""
    value = (headers or {}).get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Attempt:
    """One POST to a push service: its HTTP status (0 = no answer), a short reason, Retry-After."""

    status: int
    reason: str
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status in (404, 410)

    @property
    def retryable(self) -> bool:
        """Worth trying again later: no answer, a timeout, 429 or a server error."""
        return self.status in (0, 408, 429) or self.status >= 500

    def describe(self) -> str:
        return f"HTTP {self.status} {self.reason}" if self.status else self.reason


def _post(target: Target, data: str, keys: vapid.VapidKeys, ttl: int, urgency: str, timeout: float) -> Attempt:
    """Blocking: encrypt (aes128gcm), sign VAPID, POST."""
    try:
        resp = webpush(
            {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
            data=data,
            vapid_private_key=keys.vapid,
            vapid_claims={"sub": keys.subject},  # fresh dict: pywebpush writes aud/exp into it
            content_encoding="aes128gcm",
            ttl=ttl,
            headers={"Urgency": urgency},
            timeout=(min(5.0, timeout), timeout),  # requests (connect, read)
        )
        return Attempt(int(resp.status_code), "ok")
    except WebPushException as exc:
        response = exc.response
        return Attempt(
            int(exc.status_code or 0),
            getattr(response, "reason", None) or "rejected",
            _retry_after(getattr(response, "headers", None)),
        )
    except requests.Timeout:
        return Attempt(0, "timeout")
    except requests.RequestException as exc:
        return Attempt(0, type(exc).__name__)
    except Exception as exc:  # noqa: BLE001 - bad keys in the row, crypto errors…: count as a failure, never crash
        return Attempt(0, type(exc).__name__)


async def deliver_once(
    target: Target,
    data: str,
    keys: vapid.VapidKeys,
    ttl: int,
    urgency: str,
    timeout: float,
    gate: asyncio.Semaphore | None = None,
) -> Attempt:
    """One POST off the event loop (the thread pool bounds how many run at once)."""
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(_pool(), _post, target, data, keys, ttl, urgency, timeout)
    try:
        # requests enforces its own timeouts; this bounds the whole thing (DNS, TLS, encryption).
        if gate is None:
            return await asyncio.wait_for(future, timeout + 5.0)
        async with gate:
            return await asyncio.wait_for(future, timeout + 5.0)
    except TimeoutError:
        return Attempt(0, "timeout")


def _same(ts: list[Target]) -> Any:
    # Match on the keys too: a device that re-subscribed meanwhile keeps its fresh row.
    return tuple_(PushSubscription.id, PushSubscription.p256dh).in_([(t.id, t.p256dh) for t in ts])


async def record_success(db: AsyncSession, tenant_id: uuid.UUID, targets: list[Target]) -> None:
    if targets:
        await db.execute(
            update(PushSubscription)
            .where(PushSubscription.tenant_id == tenant_id, _same(targets))
            .values(last_success_at=func.now(), failure_count=0, failing_since=None, last_error=None)
        )


async def record_gone(db: AsyncSession, tenant_id: uuid.UUID, targets: list[Target]) -> int:
    if not targets:
        return 0
    result = await db.execute(delete(PushSubscription).where(PushSubscription.tenant_id == tenant_id, _same(targets)))
    return result.rowcount or 0  # type: ignore[attr-defined]


async def record_failure(db: AsyncSession, tenant_id: uuid.UUID, targets: list[Target], error: str) -> int:
    """Count a failure up and keep what staff need; drop a device failing for DROP_AFTER."""
    if not targets:
        return 0
    await db.execute(
        update(PushSubscription)
        .where(PushSubscription.tenant_id == tenant_id, _same(targets))
        .values(
            failure_count=PushSubscription.failure_count + 1,
            last_error=error[:200],
            last_failure_at=func.now(),
            failing_since=func.coalesce(PushSubscription.failing_since, func.now()),
        )
    )
    result = await db.execute(
        delete(PushSubscription).where(
            PushSubscription.tenant_id == tenant_id,
            _same(targets),
            PushSubscription.failure_count >= MAX_FAILURES,
            PushSubscription.failing_since < func.now() - DROP_AFTER,
        )
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


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
    the app enqueues instead (`server.push.queue.enqueue_push`, in the transaction of its cause).
    The rows are read and updated under the tenant's row-level security.
    """
    data = message.encode(drill=drill)  # validates the drill rule before anything is sent
    keys = keys or vapid.current()
    users = sorted(set(user_ids))
    report = SendReport()
    if not users:
        return report
    token = context.set_context(
        context.RequestContext(request_id=context.current().request_id, tenant_id=tenant_id, role="system")
    )
    try:
        async with sessionmaker() as db, db.begin():
            rows = (
                await db.execute(
                    select(
                        PushSubscription.id, PushSubscription.endpoint, PushSubscription.p256dh, PushSubscription.auth
                    )
                    # A disabled user's devices get nothing (their subscriptions stay, for when
                    # an admin enables them again).
                    .join(User, (User.tenant_id == PushSubscription.tenant_id) & (User.id == PushSubscription.user_id))
                    .where(PushSubscription.tenant_id == tenant_id, PushSubscription.user_id.in_(users), User.is_active)
                    .order_by(PushSubscription.id)
                )
            ).all()
        targets = [Target(*row) for row in rows]
        report.subscriptions = len(targets)
        if not targets:
            log.info(
                "push.no_subscriptions", tenant_id=str(tenant_id), users=len(users), kind=message.kind, drill=drill
            )
            return report

        gate = asyncio.Semaphore(CONCURRENCY)
        outcomes = await asyncio.gather(
            *(deliver_once(t, data, keys, message.ttl, message.urgency, timeout, gate) for t in targets)
        )

        ok, gone, failed = [], [], []
        errors: dict[uuid.UUID, str] = {}
        for target, attempt in zip(targets, outcomes, strict=True):
            report.statuses[str(target.id)] = attempt.status
            if attempt.ok:
                ok.append(target)
                outcome = "delivered"
            elif attempt.gone:
                gone.append(target)
                outcome = "gone"
            else:
                failed.append(target)
                errors[target.id] = attempt.describe()
                outcome = "failed"
            log.info(
                "push.sent" if outcome == "delivered" else f"push.{outcome}",
                tenant_id=str(tenant_id),
                subscription_id=str(target.id),
                service=urlsplit(target.endpoint).hostname,
                status=attempt.status,
                reason=attempt.reason,
                kind=message.kind,
                drill=drill,
            )

        async with sessionmaker() as db, db.begin():
            await record_success(db, tenant_id, ok)
            report.removed = await record_gone(db, tenant_id, gone)
            for target in failed:
                report.dropped += await record_failure(db, tenant_id, [target], errors[target.id])
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
