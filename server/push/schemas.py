"""Wire shapes of `/api/push`. The subscription body is the browser's `PushSubscription.toJSON()`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from server.push.models import ENDPOINT_MAX


class SubscriptionKeys(msgspec.Struct):
    p256dh: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    auth: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class SubscriptionIn(msgspec.Struct):
    """Unknown fields are ignored on purpose: the shape is the browser's, not ours."""

    endpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=ENDPOINT_MAX)]
    keys: SubscriptionKeys
    expiration_time: float | None = msgspec.field(name="expirationTime", default=None)


class UnsubscribeIn(msgspec.Struct, forbid_unknown_fields=True):
    endpoint: Annotated[str, msgspec.Meta(min_length=1, max_length=ENDPOINT_MAX)]


class SubscriptionOut(msgspec.Struct):
    id: uuid.UUID
    created: bool
    created_at: datetime
    last_success_at: datetime | None
    failure_count: int


class VapidKeyOut(msgspec.Struct):
    public_key: str  # base64url, uncompressed P-256 point: PushManager.subscribe({applicationServerKey})


class PushTestOut(msgspec.Struct):
    queued: bool
    subscriptions: int


class FailingDeviceOut(msgspec.Struct):
    """A device whose notifications keep failing (no endpoint: it is a bearer capability)."""

    id: uuid.UUID
    user_id: uuid.UUID
    login: str
    display_name: str | None
    role: str
    user_agent: str | None
    last_error: str | None
    failing_since: datetime | None
    failures: int  # attempts failed in a row since failing_since
    last_failure_at: datetime | None
    last_success_at: datetime | None
    created_at: datetime
