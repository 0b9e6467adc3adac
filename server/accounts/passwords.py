"""Argon2id password hashing (argon2-cffi's defaults follow RFC 9106's second recommendation), the
password policy (zxcvbn) and temporary passwords for an admin's reset."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()
# Verified when the login is unknown, so "no such user" costs the same time as "wrong password".
_DUMMY_HASH = _hasher.hash("tonari-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        _hasher.verify(password_hash or _DUMMY_HASH, password)  # raises unless it matches
        return password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


MIN_LENGTH = 10
MAX_LENGTH = 256
# zxcvbn's score (0–4): 3 = "safely unguessable: moderate protection from offline slow-hash scenario".
MIN_SCORE = 3
_ZXCVBN_MAX = 72  # zxcvbn refuses longer input; the first 72 characters decide


def is_acceptable(password: str, *, personal: list[str]) -> bool:
    """The password policy (the `weak_password` problem states it): at least MIN_LENGTH
    characters and a zxcvbn score of MIN_SCORE or more, with the user's login ID and name
    counted as guessable words."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return False
    folded = password.casefold()
    if any(p and len(p) >= 3 and p.casefold() in folded for p in personal):
        return False
    result = zxcvbn(password[:_ZXCVBN_MAX], user_inputs=[p for p in personal if p])
    return int(result["score"]) >= MIN_SCORE


# No 0/O, 1/l/I: a temporary password is read off a screen and typed on a phone.
_TEMPORARY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def temporary_password() -> str:
    """Four groups of four (80 bits), e.g. `k7mp-q2xa-9fbe-t4wn`: shown once to the admin, and
    usable only to choose a new password (`must_change_password`)."""
    return "-".join("".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(4)) for _ in range(4))
