"""`/api/push`: the VAPID public key, this device's subscription, and a test notification;
`/api/staff/push/devices`: the devices whose notifications keep failing, for staff.

Any signed-in user may register their own devices; a subscription belongs to the user who
registered it, and only they can remove it. If the same browser endpoint is registered again by
another user of the tenant (a shared tablet), it moves to that user: a browser has one
subscription per app, and it should alert whoever is signed in on it.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from sqlalchemy import Executable, func, literal_column, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.dialects.postgresql import insert as pg_insert

from server.accounts.middleware import AuthState
from server.accounts.models import User
from server.audit.record import record as audit
from server.core import context
from server.core.guards import STAFF, signed_in
from server.core.problems import FieldError, Problem
from server.db.base import uuid7
from server.db.deps import DbSession
from server.push.models import PushSubscription
from server.push.queue import Notification, enqueue_push, running
from server.push.schemas import (
    FailingDeviceOut,
    PushTestOut,
    SubscriptionIn,
    SubscriptionOut,
    UnsubscribeIn,
    VapidKeyOut,
)
from server.push.send import PushMessage
from server.push.vapid import b64url, b64url_decode
from server.services import services
from server.settings import DEFAULT_PUSH_SERVICE_HOSTS

MAX_PER_USER = 20
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}

TEST_MESSAGE = PushMessage(
    title="【テスト】通知のテスト",
    body="この端末で通知を受け取れます。",
    url="/",
    tag="tonari-test",
    kind="test",
    ttl=600,
)


def _loopback_allowed(request: Request[Any, Any, Any]) -> bool:
    """Plain-http loopback push endpoints only where the app itself runs on http loopback (dev, tests)."""
    parts = urlsplit(services(request.app).settings.public_url)
    return parts.scheme == "http" and parts.hostname in _LOOPBACK_NAMES


def _known_push_service(host: str, allowed: tuple[str, ...]) -> bool:
    """`host` is one of the configured push services (".example.com" = any subdomain of it).

    A name is matched, never resolved: checking where a name points at subscribe time proves
    nothing about where it points when we send (DNS rebinding), so only names we trust are used.
    Literal IPs never match: push services are reached by name."""
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    return any(host.endswith(a) and len(host) > len(a) if a.startswith(".") else host == a for a in allowed)


def check_endpoint(
    endpoint: str, *, allow_loopback: bool, allowed_hosts: tuple[str, ...] = DEFAULT_PUSH_SERVICE_HOSTS
) -> FieldError | None:
    """https to a known push service (settings.push_service_hosts); http(s)://127.0.0.1|localhost
    only in dev/tests. Never our own network, nor any other host."""
    bad = FieldError(
        "endpoint",
        "invalid",
        "通知の送信先URLが正しくありません（ブラウザの通知サービスの https URL のみ）。",
        "The push endpoint must be an https URL of a known push service.",
    )
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return bad
    if not host or parts.username or parts.password or any(c.isspace() for c in endpoint):
        return bad
    if allow_loopback and host in _LOOPBACK_NAMES and parts.scheme in ("http", "https"):
        return None
    if parts.scheme != "https" or not _known_push_service(host.rstrip("."), allowed_hosts):
        return bad
    return None


def check_keys(p256dh: str, auth: str) -> tuple[list[FieldError], str, str]:
    """Decode both keys; return field errors and the keys re-encoded as unpadded base64url."""
    errors: list[FieldError] = []
    norm_p, norm_a = "", ""
    try:
        raw = b64url_decode(p256dh)
        if len(raw) != 65 or raw[0] != 0x04:
            raise ValueError
        norm_p = b64url(raw)
    except ValueError:
        errors.append(
            FieldError(
                "keys.p256dh",
                "invalid",
                "p256dh は base64url 形式の P-256 公開鍵（65バイト、0x04で始まる）である必要があります。",
                "p256dh must be a base64url uncompressed P-256 public key (65 bytes starting with 0x04).",
            )
        )
    try:
        raw = b64url_decode(auth)
        if len(raw) != 16:
            raise ValueError
        norm_a = b64url(raw)
    except ValueError:
        errors.append(
            FieldError(
                "keys.auth",
                "invalid",
                "auth は base64url 形式の16バイトの値である必要があります。",
                "auth must be a base64url value of 16 bytes.",
            )
        )
    return errors, norm_p, norm_a


class PushController(Controller):
    path = "/api/push"
    tags = ("push",)

    @get("/vapid-public-key", guards=[signed_in], summary="The application server key for PushManager.subscribe")
    async def vapid_public_key(self, request: Request[Any, Any, Any]) -> VapidKeyOut:
        """Base64url of the uncompressed P-256 point; pass it (decoded) as `applicationServerKey`."""
        return VapidKeyOut(public_key=running(services(request.app).push).keys.public_key)

    @post(
        "/subscriptions",
        guards=[signed_in],
        status_code=HTTP_201_CREATED,
        summary="Register this device for notifications",
        responses={
            HTTP_200_OK: ResponseSpec(
                data_container=SubscriptionOut, description="The endpoint was already registered: updated"
            )
        },
    )
    async def subscribe(
        self, request: Request[Any, Any, Any], db_session: DbSession, data: JSONBody[SubscriptionIn]
    ) -> Response[SubscriptionOut]:
        """Body: the browser's `PushSubscription.toJSON()`. Registering the same endpoint again
        updates it (201 when new, 200 when updated)."""
        errors, p256dh, auth = check_keys(data.keys.p256dh, data.keys.auth)
        endpoint_error = check_endpoint(
            data.endpoint,
            allow_loopback=_loopback_allowed(request),
            allowed_hosts=services(request.app).settings.push_service_hosts,
        )
        if endpoint_error is not None:
            errors.insert(0, endpoint_error)
        if errors:
            raise Problem("validation_failed", errors=errors)

        ctx = context.current()
        auth_state: AuthState = request.auth
        ua = (request.headers.get("user-agent") or "")[:400] or None
        insert = pg_insert(PushSubscription).values(
            tenant_id=ctx.tenant_id,
            id=uuid7(),
            user_id=ctx.user_id,
            endpoint=data.endpoint,
            p256dh=p256dh,
            auth=auth,
            user_agent=ua,
            session_id=auth_state.session.id,
        )
        upsert: Executable = insert.on_conflict_do_update(
            index_elements=[PushSubscription.tenant_id, PushSubscription.endpoint],
            set_={
                "user_id": insert.excluded.user_id,
                "p256dh": insert.excluded.p256dh,
                "auth": insert.excluded.auth,
                "user_agent": insert.excluded.user_agent,
                "session_id": insert.excluded.session_id,
                "failure_count": 0,
                "failing_since": None,
                "last_error": None,
            },
        ).returning(
            PushSubscription.id,
            PushSubscription.created_at,
            PushSubscription.last_success_at,
            PushSubscription.failure_count,
            literal_column("(xmax = 0)").label("inserted"),
        )
        row = (await db_session.execute(upsert)).one()

        # Keep a user's devices bounded: drop the stalest beyond MAX_PER_USER (never this one).
        keep = (
            select(PushSubscription.id)
            .where(PushSubscription.tenant_id == ctx.tenant_id, PushSubscription.user_id == ctx.user_id)
            .order_by(func.coalesce(PushSubscription.last_success_at, PushSubscription.created_at).desc())
            .limit(MAX_PER_USER - 1)
            .scalar_subquery()
        )
        await db_session.execute(
            sql_delete(PushSubscription).where(
                PushSubscription.tenant_id == ctx.tenant_id,
                PushSubscription.user_id == ctx.user_id,
                PushSubscription.id != row.id,
                PushSubscription.id.not_in(keep),
            )
        )
        await audit(
            db_session,
            "push.subscribe",
            object_type="push_subscription",
            object_ids=[row.id],
            details={"created": bool(row.inserted)},
        )
        await db_session.commit()
        out = SubscriptionOut(
            id=row.id,
            created=bool(row.inserted),
            created_at=row.created_at,
            last_success_at=row.last_success_at,
            failure_count=row.failure_count,
        )
        return Response(out, status_code=HTTP_201_CREATED if row.inserted else HTTP_200_OK)

    @delete("/subscriptions", guards=[signed_in], status_code=HTTP_204_NO_CONTENT, summary="Unregister a device")
    async def unsubscribe(self, db_session: DbSession, data: JSONBody[UnsubscribeIn]) -> None:
        """Body `{endpoint}`. Only your own subscriptions; another user's answers 404 like a missing one."""
        ctx = context.current()
        result = await db_session.execute(
            sql_delete(PushSubscription)
            .where(
                PushSubscription.tenant_id == ctx.tenant_id,
                PushSubscription.user_id == ctx.user_id,
                PushSubscription.endpoint == data.endpoint,
            )
            .returning(PushSubscription.id)
        )
        ids = list(result.scalars())
        if not ids:
            raise Problem("not_found")
        await audit(db_session, "push.unsubscribe", object_type="push_subscription", object_ids=ids)
        await db_session.commit()

    @post("/test", guards=[signed_in], status_code=HTTP_202_ACCEPTED, summary="Send myself a test notification")
    async def send_test(self, request: Request[Any, Any, Any], db_session: DbSession) -> PushTestOut:
        """Queues 【テスト】 to every device of the signed-in user and answers at once (202)."""
        ctx = context.current()
        count = (
            await db_session.execute(
                select(func.count())
                .select_from(PushSubscription)
                .where(PushSubscription.tenant_id == ctx.tenant_id, PushSubscription.user_id == ctx.user_id)
            )
        ).scalar_one()
        if count:
            await audit(db_session, "push.test", object_type="push_subscription", details={"subscriptions": count})
            assert ctx.tenant_id is not None and ctx.user_id is not None  # signed_in
            await enqueue_push(
                db_session,
                tenant_id=ctx.tenant_id,
                notifications=[
                    Notification(user_ids=[ctx.user_id], key=f"test-{uuid7()}", message=TEST_MESSAGE, drill=False)
                ],
            )
        await db_session.commit()
        return PushTestOut(queued=bool(count), subscriptions=count)


FAILING_DEVICES_MAX = 500


class StaffPushController(Controller):
    path = "/api/staff/push"
    tags = ("staff", "push")
    guards = (STAFF,)

    @get("/devices", summary="Devices whose notifications keep failing (newest failure first)")
    async def failing_devices(self, db_session: DbSession) -> list[FailingDeviceOut]:
        """Every subscription whose last attempt failed: the device (its browser's user agent), whose
        it is, the push service's last answer, since when it fails and how often, the last success.
        A device the push service reported gone (404/410) is deleted, so it is not listed."""
        tenant = context.current_tenant()
        rows = (
            await db_session.execute(
                select(PushSubscription, User.login, User.display_name, User.role)
                .join(User, (User.tenant_id == PushSubscription.tenant_id) & (User.id == PushSubscription.user_id))
                .where(PushSubscription.tenant_id == tenant, PushSubscription.failing_since.is_not(None))
                .order_by(PushSubscription.last_failure_at.desc().nulls_last(), PushSubscription.id)
                .limit(FAILING_DEVICES_MAX)
            )
        ).all()
        out = [
            FailingDeviceOut(
                id=s.id,
                user_id=s.user_id,
                login=login,
                display_name=name,
                role=role,
                user_agent=s.user_agent,
                last_error=s.last_error,
                failing_since=s.failing_since,
                failures=s.failure_count,
                last_failure_at=s.last_failure_at,
                last_success_at=s.last_success_at,
                created_at=s.created_at,
            )
            for s, login, name, role in rows
        ]
        if out:
            await audit(
                db_session,
                "user.read",
                object_type="user",
                object_ids=sorted({d.user_id for d in out}),
                details={"via": "staff.push_devices", "count": len(out)},
            )
            await db_session.commit()
        return out
