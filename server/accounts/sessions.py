"""Server-side sessions in PostgreSQL.

The cookie value is `<tenant_id>.<token>`: the tenant part routes the lookup (RLS now, a Citus
shard later), the token is 256 random bits of which only the sha256 is stored, so a copy of the
table cannot be replayed. Expiry is sliding (idle timeout) under an absolute cap; the lookup and
the slide are `tonari_authenticate()` (migration 0008), called by the auth middleware.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User, UserSession

COOKIE_NAME = "tonari_session"
_COOKIE_NAME_BYTES = COOKIE_NAME.encode("ascii")
# Avoid a write per request: the idle deadline is pushed forward at most this often.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class ParsedCookie:
    tenant_id: uuid.UUID
    token_hash: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_PLAIN_COOKIE = re.compile(rb"[A-Za-z0-9._-]+")


def plain_session_cookie(cookie_header: bytes) -> str | None:
    """The session cookie's value from a raw Cookie header, when that is unambiguous without the
    framework's parser: the name appears once and the value holds only the characters our cookies
    are made of (so unquoting could not change it). None otherwise, or when there is none: the
    caller then leaves the request to the route, which reads cookies the framework's way."""
    found: bytes | None = None
    for part in cookie_header.split(b";"):
        name, _, value = part.partition(b"=")
        if name.strip() == _COOKIE_NAME_BYTES:
            if found is not None:
                return None
            found = value.strip()
    if found is None or not _PLAIN_COOKIE.fullmatch(found):
        return None
    return found.decode("ascii")


def parse_cookie(value: str | None) -> ParsedCookie | None:
    if not value or "." not in value:
        return None
    tenant_part, token = value.split(".", 1)
    try:
        tenant_id = uuid.UUID(tenant_part)
    except ValueError:
        return None
    if not 20 <= len(token) <= 100:
        return None
    return ParsedCookie(tenant_id=tenant_id, token_hash=_hash(token))


async def create_session(
    db: AsyncSession,
    user: User,
    *,
    idle: timedelta,
    absolute: timedelta,
    client_addr: str | None,
    user_agent: str | None,
) -> str:
    """Start a session; returns the cookie value. A fresh token every time (no fixation)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    db.add(
        UserSession(
            tenant_id=user.tenant_id,
            id=_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=min(now + idle, now + absolute),
            absolute_expires_at=now + absolute,
            client_addr=client_addr,
            user_agent=(user_agent or "")[:400] or None,
        )
    )
    await db.flush()
    return f"{user.tenant_id}.{token}"


# A device nobody is signed in on gets no notifications: ending a session removes the push
# subscriptions registered under it, ending all of a user's removes all of theirs (server/push/).
_FORGET_SESSION_DEVICES = text("DELETE FROM push_subscription WHERE tenant_id = :t AND session_id = :s")
_FORGET_USER_DEVICES = text("DELETE FROM push_subscription WHERE tenant_id = :t AND user_id = :u")


async def end_session(db: AsyncSession, tenant_id: uuid.UUID, session_id: str) -> None:
    await db.execute(delete(UserSession).where(UserSession.tenant_id == tenant_id, UserSession.id == session_id))
    await db.execute(_FORGET_SESSION_DEVICES, {"t": tenant_id, "s": session_id})


async def end_all_sessions(
    db: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, *, forget_devices: bool = False
) -> int:
    """Ends every session of the user (password change or reset, disabling, signing out
    everywhere); returns how many there were."""
    result = await db.execute(
        delete(UserSession).where(UserSession.tenant_id == tenant_id, UserSession.user_id == user_id)
    )
    if forget_devices:  # signing out everywhere; a disabled user's devices stay for re-enabling
        await db.execute(_FORGET_USER_DEVICES, {"t": tenant_id, "u": user_id})
    return int(cast("CursorResult[Any]", result).rowcount or 0)


async def prune_expired(db: AsyncSession, tenant_id: uuid.UUID) -> None:
    await db.execute(
        delete(UserSession).where(UserSession.tenant_id == tenant_id, UserSession.expires_at <= datetime.now(UTC))
    )
