"""The application server's VAPID key pair (RFC 8292), kept outside the repository.

Where the private key lives, in order:
1. `settings.vapid_private_key_file` (`TONARI_VAPID_PRIVATE_KEY_FILE`) — a PEM (PKCS#8 or SEC1) file
   the operator provides. It must exist: a missing mount must not silently mint a new key, which
   would orphan every browser subscription (they are bound to the public key they were created with).
2. `<var_dir>/vapid/private.pem` — generated on first use (directory 0700, file 0600), next to a
   `public.txt` with the base64url public key for operators and builds.

`settings.vapid_subject` (`TONARI_VAPID_SUBJECT`) is the contact the push services see (default
`mailto:admin@tonari.invalid`; set a real mailto: or https: URL in production — Apple's service
rejects made-up contacts).

pywebpush refuses a PEM *string*, so senders get the `Vapid02` object itself.
"""

from __future__ import annotations

import base64
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import structlog
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02

from server.settings import Settings, get_settings

log = structlog.get_logger("tonari.push")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict-ish base64url decode that accepts missing padding (browsers omit it)."""
    raw = text.strip().encode("ascii")
    if b"+" in raw or b"/" in raw:
        # Some old clients send standard base64; accept it the way pywebpush would not.
        raw = raw.replace(b"+", b"-").replace(b"/", b"_")
    raw = raw.rstrip(b"=")
    return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))


@dataclass(frozen=True)
class VapidKeys:
    vapid: Vapid02
    public_key: str  # base64url of the uncompressed P-256 point (65 bytes, 0x04…): applicationServerKey
    subject: str
    private_key_file: Path


def _public_b64(v: Vapid02) -> str:
    return b64url(v.public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def _write_new_key(path: Path) -> None:
    """Generate a key and publish it atomically: concurrent app servers end up sharing one key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fresh = Vapid02()
    fresh.generate_keys()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".private-", suffix=".pem")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(fresh.private_pem())
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another process won the race; then we use theirs
            log.info("push.vapid_key_generated", path=str(path))
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def load_or_create(settings: Settings) -> VapidKeys:
    configured = settings.vapid_private_key_file
    if configured:
        path = configured
        if not path.is_file():
            raise RuntimeError(f"TONARI_VAPID_PRIVATE_KEY_FILE={configured} does not exist")
    else:
        path = settings.var_dir / "vapid" / "private.pem"
        if not path.is_file():
            _write_new_key(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("push.vapid_key_permissions", path=str(path), mode=oct(mode), expected="0o600")
    vapid = Vapid02.from_file(str(path))
    public = _public_b64(vapid)
    if not configured:
        public_file = path.parent / "public.txt"
        if not public_file.is_file() or public_file.read_text().strip() != public:
            public_file.write_text(public + "\n")
    return VapidKeys(vapid=vapid, public_key=public, subject=settings.vapid_subject, private_key_file=path)


_current: VapidKeys | None = None


def install(keys: VapidKeys) -> None:
    """Called by the plugin at startup so `notify()` callers need not pass keys around."""
    global _current
    _current = keys


def current() -> VapidKeys:
    """The keys of the running app, or (outside one, e.g. a CLI) those the settings point at."""
    if _current is None:
        install(load_or_create(get_settings()))
    assert _current is not None
    return _current
