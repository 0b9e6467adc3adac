"""Settings read once from environment variables: the only module that reads them.

Every knob has a documented default so `make run` needs no configuration; the README lists them.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def normalise_database_url(url: str) -> str:
    """Accept the libpq-style URLs people paste (postgres://, postgresql://) and use asyncpg."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def app_database_url() -> str:
    """`DATABASE_URL`, the app's DML-only role; the commands other than `migrate` sign in with it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise RuntimeError(
            "DATABASE_URL is not set. Use `make run` (it starts an embedded PostGIS) or export DATABASE_URL."
        )
    return normalise_database_url(url)


def configured_database_urls() -> tuple[str | None, str | None]:
    """(`DATABASE_URL`, `TONARI_MIGRATE_DATABASE_URL`) as set, or None: for tools that take a URL
    of their own and need the owner's only when one is configured (seed/prefecture.py)."""
    return os.environ.get("DATABASE_URL") or None, os.environ.get("TONARI_MIGRATE_DATABASE_URL") or None


def migrate_database_url() -> str:
    """Migrations run as the role that owns the tables (`TONARI_MIGRATE_DATABASE_URL`); the app
    runs as `DATABASE_URL`, a role with DML grants only (README, "Production notes"). Without the
    first, migrations use `DATABASE_URL` too: a one-role database, as before the split."""
    url = os.environ.get("TONARI_MIGRATE_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if not url:
        raise RuntimeError(
            "Neither TONARI_MIGRATE_DATABASE_URL nor DATABASE_URL is set. Use `make run` (it starts an embedded"
            " PostGIS) or export them."
        )
    return normalise_database_url(url)


def _secret_key(var_dir: Path) -> str:
    """A stable secret across restarts and app servers: env first, else a file under var/.

    Several workers may start at once on an empty var/: each writes a private temp file and
    hard-links it into place, so the first link wins and nobody reads a half-written key.
    """
    env = os.environ.get("TONARI_SECRET_KEY")
    if env:
        return env
    path = var_dir / "secret-key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        tmp = var_dir / f".secret-key.{os.getpid()}.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it or set TONARI_SECRET_KEY")
    return key


# Web Push services a browser may hand us an endpoint of: Google FCM (Chrome, Android, Opera,
# Samsung), Mozilla autopush (Firefox), Apple (Safari), Microsoft WNS (Edge on Windows). A leading
# dot means "any subdomain of". Nothing else is contacted, so an endpoint cannot point the server
# at our own network, whatever its name resolves to (server/push/controller.py).
DEFAULT_PUSH_SERVICE_HOSTS: tuple[str, ...] = (
    "fcm.googleapis.com",
    ".push.services.mozilla.com",
    ".push.apple.com",
    ".notify.windows.com",
)


def _flag(name: str) -> bool | None:
    """A yes/no variable: None when unset or empty (then the setting decides by itself)."""
    raw = os.environ.get(name)
    return raw.lower() in {"1", "true", "yes"} if raw else None


def _hosts(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    return tuple(h.strip().lower() for h in raw.split(",") if h.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    pwa_dist: Path
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = field(default="", repr=False)
    session_idle_minutes: int = 7 * 24 * 60
    session_max_hours: int = 30 * 24
    # A temporary password (an admin's reset) signs in only within this many days of being issued.
    temporary_password_days: int = 7
    login_max_failures: int = 10
    login_window_minutes: int = 15
    # Untrusted failures on one account (from all clients) before its progressive delay starts,
    # and that delay's cap (server/accounts/throttle.py, docs/decisions/0003).
    login_account_max_failures: int = 30
    login_max_delay_seconds: int = 300
    max_body_bytes: int = 10 * 1024 * 1024
    log_level: str = "INFO"
    log_format: str = "json"
    db_pool_size: int = 20
    # How long a request waits for a pooled connection before it is answered 503 database_busy
    # with Retry-After (never a 500 after 30 s; decision 0006, addendum #16).
    db_pool_timeout_seconds: float = 3.0
    # The live feed's own read pool per process, shared by all its streams (server/events/hub.py).
    events_pool_size: int = 3
    # How often the app chains new audit rows (server/audit/chain.py); 0 = never (then run
    # `python -m server.cli audit-seal` from a timer instead).
    audit_seal_seconds: float = 10.0
    # Pruned hourly (server/push/prune.py, server/jobs/prune.py): finished push deliveries and the
    # job queue's log/statistics older than this many days.
    push_delivery_retention_days: int = 30
    job_log_retention_days: int = 14
    # Base map under our vector layers (raster XYZ). Empty = no base map (an honest blank
    # background). Default: the GSI standard map (地理院タイル 標準地図), free with attribution.
    basemap_url: str = "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"
    basemap_attribution: str = "地理院タイル (国土地理院)"
    basemap_max_zoom: int = 18
    push_service_hosts: tuple[str, ...] = DEFAULT_PUSH_SERVICE_HOSTS
    # Web Push signing key (server/push/vapid.py): an operator's PEM file, else generated under var/.
    vapid_private_key_file: Path | None = None
    vapid_subject: str = "mailto:admin@tonari.invalid"  # the contact push services see
    # None: Secure cookies unless the public address is plain-http localhost (see cookie_secure).
    cookie_secure_override: bool | None = None
    # `python -m server.cli serve`: where it listens, and whose X-Forwarded-For it believes.
    host: str = "127.0.0.1"
    port: int = 8000
    trusted_proxies: str = "127.0.0.1"

    @property
    def cookie_secure(self) -> bool:
        """Secure cookies everywhere except plain-http localhost, where browsers would drop them."""
        if self.cookie_secure_override is not None:
            return self.cookie_secure_override
        parts = urlsplit(self.public_url)
        return not (parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"})

    @property
    def served_over_https(self) -> bool:
        """HSTS is sent only when the public address is https."""
        return urlsplit(self.public_url).scheme == "https"

    @property
    def basemap_origin(self) -> str | None:
        """`scheme://host[:port]` of the base map's tiles (for the Content-Security-Policy)."""
        parts = urlsplit(self.basemap_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return None
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    database_url = app_database_url()
    var_dir = Path(os.environ.get("TONARI_VAR_DIR", REPO_ROOT / "var")).resolve()
    vapid_key = os.environ.get("TONARI_VAPID_PRIVATE_KEY_FILE")
    return Settings(
        database_url=database_url,
        var_dir=var_dir,
        pwa_dist=Path(os.environ.get("TONARI_PWA_DIST", REPO_ROOT / "pwa" / "dist")).resolve(),
        public_url=os.environ.get("TONARI_PUBLIC_URL", "http://127.0.0.1:8000"),
        secret_key=_secret_key(var_dir),
        session_idle_minutes=_int("TONARI_SESSION_IDLE_MINUTES", 7 * 24 * 60),
        session_max_hours=_int("TONARI_SESSION_MAX_HOURS", 30 * 24),
        temporary_password_days=_int("TONARI_TEMPORARY_PASSWORD_DAYS", 7),
        login_max_failures=_int("TONARI_LOGIN_MAX_FAILURES", 10),
        login_window_minutes=_int("TONARI_LOGIN_WINDOW_MINUTES", 15),
        login_account_max_failures=_int("TONARI_LOGIN_ACCOUNT_MAX_FAILURES", 30),
        login_max_delay_seconds=_int("TONARI_LOGIN_MAX_DELAY_SECONDS", 300),
        max_body_bytes=_int("TONARI_MAX_BODY_BYTES", 10 * 1024 * 1024),
        log_level=os.environ.get("TONARI_LOG_LEVEL", "INFO").upper(),
        log_format=os.environ.get("TONARI_LOG_FORMAT", "json"),
        db_pool_size=_int("TONARI_DB_POOL_SIZE", 20),
        events_pool_size=_int("TONARI_EVENTS_POOL_SIZE", Settings.events_pool_size),
        db_pool_timeout_seconds=float(
            os.environ.get("TONARI_DB_POOL_TIMEOUT_SECONDS") or Settings.db_pool_timeout_seconds
        ),
        audit_seal_seconds=float(os.environ.get("TONARI_AUDIT_SEAL_SECONDS") or Settings.audit_seal_seconds),
        push_delivery_retention_days=_int("TONARI_PUSH_DELIVERY_RETENTION_DAYS", Settings.push_delivery_retention_days),
        job_log_retention_days=_int("TONARI_JOB_LOG_RETENTION_DAYS", Settings.job_log_retention_days),
        basemap_url=os.environ.get("TONARI_BASEMAP_URL", Settings.basemap_url),
        basemap_attribution=os.environ.get("TONARI_BASEMAP_ATTRIBUTION", Settings.basemap_attribution),
        basemap_max_zoom=_int("TONARI_BASEMAP_MAX_ZOOM", 18),
        push_service_hosts=_hosts("TONARI_PUSH_SERVICE_HOSTS", DEFAULT_PUSH_SERVICE_HOSTS),
        vapid_private_key_file=Path(vapid_key) if vapid_key else None,
        vapid_subject=os.environ.get("TONARI_VAPID_SUBJECT") or Settings.vapid_subject,
        cookie_secure_override=_flag("TONARI_COOKIE_SECURE"),
        host=os.environ.get("TONARI_HOST", Settings.host),
        port=_int("TONARI_PORT", Settings.port),
        trusted_proxies=os.environ.get("TONARI_TRUSTED_PROXIES", Settings.trusted_proxies),
    )
