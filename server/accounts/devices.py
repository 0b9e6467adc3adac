"""Device cookies (OWASP "Slow down online guessing attacks with device cookies").

After a successful sign-in the browser gets `tonari_device`: a random nonce signed (itsdangerous,
HMAC-SHA256, with a timestamp) under a salt that names the tenant and the user. A later sign-in
attempt for the same user that presents it is "trusted": it is budgeted per device and never
refused because of other clients' failures, so an attacker who hammers a login cannot lock its
owner out of the phone or PC they always use (docs/decisions/0003, addendum). It is not bound to
the password on purpose: after an admin's reset the owner's devices stay trusted, so a user whose
account is under attack can still come in with the temporary password.

The cookie proves only "this browser signed in as this user before"; it never signs anyone in.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, TimestampSigner

COOKIE_NAME = "tonari_device"
# Sent only where it is read: the sign-in (and the password change, which renews it).
COOKIE_PATH = "/api/auth"
LIFETIME = timedelta(days=365)


@dataclass(frozen=True)
class DeviceOwner:
    """What a device cookie is bound to."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID


def _signer(secret_key: str, owner: DeviceOwner) -> TimestampSigner:
    salt = f"tonari.device.v1:{owner.tenant_id}:{owner.user_id}"
    return TimestampSigner(secret_key, salt=salt, digest_method=hashlib.sha256)


def issue(secret_key: str, owner: DeviceOwner) -> str:
    """A new device cookie value for `owner`."""
    return _signer(secret_key, owner).sign(secrets.token_urlsafe(16)).decode("ascii")


def device_key(secret_key: str, owner: DeviceOwner, value: str | None) -> str | None:
    """The device's throttling key (a hash of its nonce) when `value` is a valid, unexpired
    device cookie of `owner`; None otherwise."""
    if not value or len(value) > 200:
        return None
    try:
        nonce = _signer(secret_key, owner).unsign(value, max_age=int(LIFETIME.total_seconds()))
    except (BadSignature, ValueError):
        return None
    return hashlib.sha256(b"tonari.device:" + nonce).hexdigest()
