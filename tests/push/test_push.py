"""Web Push end to end with real crypto: a local push service checks the VAPID JWT and decrypts
the aes128gcm body with keys the test made the way a browser does. Nothing in pywebpush is mocked.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import stat
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import select, update

from server.accounts.models import User
from server.push import PushMessage, notify
from server.push.models import PushDelivery, PushSubscription
from server.push.queue import Notification, enqueue_push, running
from server.push.send import DROP_AFTER, MAX_FAILURES
from server.services import services
from tests.conftest import as_tenant
from tests.helpers.operations import start_operation_as
from tests.helpers.world import new_world


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --------------------------------------------------------------------------------------------
# A push service on 127.0.0.1 (http.server in a thread)
# --------------------------------------------------------------------------------------------


@dataclass
class Browser:
    """What a browser holds for one subscription: its ECDH key pair and auth secret."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        return b64e(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def subscription_json(self) -> dict[str, Any]:  # PushSubscription.toJSON()
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64e(self.auth)},
        }


@dataclass
class Received:
    token: str
    status: int
    headers: dict[str, str]
    claims: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    error: str | None = None
    answered_at: float = 0.0
    retry_after: str | None = None  # what the push service told the sender


@dataclass
class PushService:
    origin: str = ""
    expected_key: str | None = None  # the VAPID public key subscriptions were made with
    browsers: dict[str, Browser] = field(default_factory=dict)
    behaviour: dict[str, tuple[int, float]] = field(default_factory=dict)  # token → (status, delay s)
    script: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)  # token → next answers
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_browser(self) -> Browser:
        token = secrets.token_urlsafe(16)
        b = Browser(token, f"{self.origin}/push/{token}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16))
        self.browsers[token] = b
        return b

    def answer(self, browser: Browser, status: int = 201, delay: float = 0.0) -> None:
        self.behaviour[browser.token] = (status, delay)

    def answer_next(self, browser: Browser, *answers: tuple[int, str | None]) -> None:
        """The next answers (status, Retry-After) to this browser's pushes, then `behaviour`."""
        self.script[browser.token] = list(answers)

    def for_browser(self, browser: Browser) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.token == browser.token]

    def verify_vapid(self, authorization: str) -> dict[str, Any]:
        """RFC 8292: `vapid t=<JWT>, k=<key>`; ES256 by k; aud = our origin; exp in the future."""
        scheme, _, params = authorization.partition(" ")
        assert scheme.lower() == "vapid", f"scheme {scheme!r}"
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        token, key = parts["t"], parts["k"]
        assert self.expected_key and key == self.expected_key, "k is not the application server key"
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
        header_b64, claims_b64, sig_b64 = token.split(".")
        header = json.loads(b64d(header_b64))
        assert header["alg"] == "ES256", header
        sig = b64d(sig_b64)
        assert len(sig) == 64
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
        claims = json.loads(b64d(claims_b64))
        assert claims["aud"] == self.origin, claims
        now = time.time()
        assert now < claims["exp"] <= now + 24 * 3600, claims
        assert claims["sub"].startswith(("mailto:", "https:")), claims
        return claims

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Received:
        token = path.rsplit("/", 1)[-1]
        browser = self.browsers.get(token)
        status, delay = self.behaviour.get(token, (201, 0.0))
        retry_after = None
        with self.lock:
            if self.script.get(token):
                status, retry_after = self.script[token].pop(0)
        rec = Received(token=token, status=status, headers=headers, retry_after=retry_after)
        try:
            if browser is None:
                raise AssertionError("unknown subscription")
            rec.claims = self.verify_vapid(headers.get("authorization", ""))
            assert headers.get("content-encoding") == "aes128gcm"
            plain = http_ece.decrypt(
                body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
            )
            rec.payload = json.loads(plain)
        except Exception as exc:  # noqa: BLE001 - a real push service refuses what it cannot authenticate
            rec.error = f"{type(exc).__name__}: {exc}"
            rec.status = 401 if browser is not None else 404
        time.sleep(delay)
        rec.answered_at = time.monotonic()
        with self.lock:
            self.received.append(rec)
        return rec


@pytest.fixture(scope="module")
def push_service():
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec = service.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(rec.status)
            if rec.retry_after is not None:
                self.send_header("Retry-After", rec.retry_after)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    service.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield service
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------------------------------
# Fixtures: a tenant with signed-in users who subscribed a device each
# --------------------------------------------------------------------------------------------


@pytest.fixture
async def world(make_tenant, client_factory, push_service):
    tenant = await make_tenant(("staff", "watcher", "commissioner"))
    clients = {}
    for role in ("staff", "watcher", "commissioner"):
        c = client_factory()
        acct = tenant.accounts[role]
        assert (await c.login(acct.login, acct.password)).status_code == 200
        clients[role] = c
    key = (await clients["staff"].get("/api/push/vapid-public-key")).json()["public_key"]
    push_service.expected_key = key
    return tenant, clients


async def signed_in_world(sessionmaker, client_factory, push_service):
    """A world with districts and households; staff, commissioner and watcher signed in."""
    w = await new_world(sessionmaker)
    clients = {}
    for role in ("staff", "commissioner", "watcher"):
        c = client_factory()
        assert (await c.login(w.accounts[role].login, w.accounts[role].password)).status_code == 200
        clients[role] = c
    push_service.expected_key = (await clients["staff"].get("/api/push/vapid-public-key")).json()["public_key"]
    return w, clients


async def subscribe(client, push_service: PushService) -> Browser:
    browser = push_service.new_browser()
    r = await client.send_json("POST", "/api/push/subscriptions", browser.subscription_json())
    assert r.status_code == 201, r.text
    return browser


async def rows(sessionmaker, tenant_id: uuid.UUID) -> dict[str, PushSubscription]:
    with as_tenant(tenant_id):
        async with sessionmaker() as db, db.begin():
            found = (await db.execute(select(PushSubscription))).scalars().all()
    return {r.endpoint: r for r in found}


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


async def test_vapid_public_key_is_an_uncompressed_p256_point_kept_outside_the_repo(
    world, client_factory, settings
) -> None:
    _, clients = world
    r = await clients["watcher"].get("/api/push/vapid-public-key")
    assert r.status_code == 200
    raw = b64d(r.json()["public_key"])
    assert len(raw) == 65 and raw[0] == 0x04
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)  # a valid point on P-256

    private = settings.var_dir / "vapid" / "private.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert (settings.var_dir / "vapid" / "public.txt").read_text().strip() == r.json()["public_key"]

    anonymous = await client_factory().get("/api/push/vapid-public-key")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"


async def test_subscribing_validates_the_endpoint_and_the_key_lengths(world, push_service) -> None:
    _, clients = world
    c = clients["watcher"]
    good = push_service.new_browser().subscription_json()

    bad = {
        "endpoint": "http://push.example.com/x",
        "keys": {"p256dh": b64e(b"\x04" + b"\x01" * 10), "auth": b64e(b"\x02" * 15)},
    }
    r = await c.send_json("POST", "/api/push/subscriptions", bad)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "validation_failed"
    assert {e["field"] for e in r.json()["errors"]} == {"endpoint", "keys.p256dh", "keys.auth"}

    # 65 bytes but not an uncompressed point (0x04…)
    r = await c.send_json(
        "POST", "/api/push/subscriptions", {**good, "keys": {**good["keys"], "p256dh": b64e(b"\x02" + b"\x01" * 64)}}
    )
    assert r.status_code == 400 and [e["field"] for e in r.json()["errors"]] == ["keys.p256dh"]

    # not base64url at all
    r = await c.send_json("POST", "/api/push/subscriptions", {**good, "keys": {**good["keys"], "auth": "***"}})
    assert r.status_code == 400 and [e["field"] for e in r.json()["errors"]] == ["keys.auth"]

    # https, but to an internal address: refused (no SSRF through push endpoints)
    for endpoint in (
        "https://10.0.0.5/push/x",
        "https://169.254.169.254/latest",
        "ftp://push.example.com/x",
        "https://user:pw@push.example.com/x",
    ):
        r = await c.send_json("POST", "/api/push/subscriptions", {**good, "endpoint": endpoint})
        assert r.status_code == 400 and [e["field"] for e in r.json()["errors"]] == ["endpoint"], endpoint

    # missing keys: the schema's own field error
    r = await c.send_json("POST", "/api/push/subscriptions", {"endpoint": good["endpoint"]})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "keys"

    # a real https push service endpoint with good keys is accepted (nothing is sent on subscribe)
    r = await c.send_json(
        "POST",
        "/api/push/subscriptions",
        {**good, "endpoint": f"https://fcm.googleapis.com/fcm/send/{secrets.token_urlsafe(20)}"},
    )
    assert r.status_code == 201, r.text


async def test_only_known_push_services_are_accepted_whatever_a_name_resolves_to(world, push_service) -> None:
    """Endpoints are matched by name against settings.push_service_hosts, never resolved: a name
    that points at our own network (here: this machine's own host name) is refused like any other
    unknown host, and so are look-alikes of the real services."""
    import ipaddress
    import socket

    _, clients = world
    good = push_service.new_browser().subscription_json()
    own_name = socket.gethostname()
    assert not ipaddress.ip_address(socket.getaddrinfo(own_name, 443)[0][4][0]).is_global  # the premise
    refused = (
        f"https://{own_name}/push/x",
        f"https://{own_name}.:443/push/x",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://10.0.0.5.nip.io/push/x",
        "https://fcm.googleapis.com.attacker.example/fcm/send/x",
        "https://evil-fcm.googleapis.com/fcm/send/x",
        "https://notify.windows.com/w/?token=x",  # the bare suffix is not a WNS host
        "https://[::ffff:10.0.0.5]/push/x",
        "http://fcm.googleapis.com/fcm/send/x",
    )
    for endpoint in refused:
        r = await clients["watcher"].send_json("POST", "/api/push/subscriptions", {**good, "endpoint": endpoint})
        assert r.status_code == 400 and [e["field"] for e in r.json()["errors"]] == ["endpoint"], endpoint
    accepted = (
        f"https://fcm.googleapis.com/fcm/send/{secrets.token_urlsafe(12)}",
        f"https://updates.push.services.mozilla.com/wpush/v2/{secrets.token_urlsafe(12)}",
        f"https://web.push.apple.com/{secrets.token_urlsafe(12)}",
        f"https://wns2-by3p.notify.windows.com/w/?token={secrets.token_urlsafe(12)}",
    )
    for endpoint in accepted:
        r = await clients["watcher"].send_json("POST", "/api/push/subscriptions", {**good, "endpoint": endpoint})
        assert r.status_code == 201, (endpoint, r.text)


def test_the_push_service_list_is_a_setting(monkeypatch) -> None:
    from server.push.controller import check_endpoint
    from server.settings import DEFAULT_PUSH_SERVICE_HOSTS, _hosts

    monkeypatch.setenv("TONARI_PUSH_SERVICE_HOSTS", " push.example.org, .autopush.example.net ")
    hosts = _hosts("TONARI_PUSH_SERVICE_HOSTS", DEFAULT_PUSH_SERVICE_HOSTS)
    assert hosts == ("push.example.org", ".autopush.example.net")
    assert check_endpoint("https://push.example.org/x", allow_loopback=False, allowed_hosts=hosts) is None
    assert check_endpoint("https://eu.autopush.example.net/x", allow_loopback=False, allowed_hosts=hosts) is None
    assert check_endpoint("https://fcm.googleapis.com/x", allow_loopback=False, allowed_hosts=hosts) is not None
    # The local test push service: only when the app itself runs on http loopback (dev, tests).
    assert check_endpoint("http://127.0.0.1:8123/push/x", allow_loopback=True, allowed_hosts=hosts) is None
    assert check_endpoint("http://127.0.0.1:8123/push/x", allow_loopback=False, allowed_hosts=hosts) is not None
    monkeypatch.delenv("TONARI_PUSH_SERVICE_HOSTS")
    assert _hosts("TONARI_PUSH_SERVICE_HOSTS", DEFAULT_PUSH_SERVICE_HOSTS) == DEFAULT_PUSH_SERVICE_HOSTS


async def test_subscribing_again_updates_the_same_row(world, push_service, sessionmaker) -> None:
    tenant, clients = world
    browser = await subscribe(clients["watcher"], push_service)
    again = browser.subscription_json()
    # padded base64url (some clients) is normalised
    again["keys"]["auth"] = base64.urlsafe_b64encode(browser.auth).decode()
    r = await clients["watcher"].send_json(
        "POST", "/api/push/subscriptions", again, headers={"User-Agent": "Pixel 8 Chrome"}
    )
    assert r.status_code == 200 and r.json()["created"] is False
    found = await rows(sessionmaker, tenant.id)
    assert len(found) == 1
    row = found[browser.endpoint]
    assert row.user_id == tenant.accounts["watcher"].user_id
    assert row.auth == b64e(browser.auth) and row.user_agent == "Pixel 8 Chrome"


async def test_test_push_answers_202_before_the_push_service_and_arrives_encrypted(
    world, push_service, app, sessionmaker
) -> None:
    tenant, clients = world
    browser = await subscribe(clients["watcher"], push_service)
    push_service.answer(browser, 201, delay=1.0)

    started = time.monotonic()
    r = await clients["watcher"].send_json("POST", "/api/push/test")
    answered = time.monotonic()
    assert r.status_code == 202 and r.json() == {"queued": True, "subscriptions": 1}
    assert answered - started < 0.8
    assert push_service.for_browser(browser) == []  # the push service has not answered yet

    await asyncio.wait_for(running(services(app).push).drain(), 10)
    [got] = push_service.for_browser(browser)
    assert got.error is None, got.error
    assert got.answered_at > answered  # the HTTP response went out first
    assert got.payload is not None
    assert got.payload["title"] == "【テスト】通知のテスト"
    assert got.payload["body"] == "この端末で通知を受け取れます。"
    assert got.payload["kind"] == "test" and got.payload["drill"] is False and got.payload["url"] == "/"
    assert int(got.headers["ttl"]) > 0 and got.headers["urgency"] == "normal"
    row = (await rows(sessionmaker, tenant.id))[browser.endpoint]
    assert row.last_success_at is not None and row.failure_count == 0

    nobody = await clients["staff"].send_json("POST", "/api/push/test")  # no devices: nothing queued
    assert nobody.status_code == 202 and nobody.json() == {"queued": False, "subscriptions": 0}


async def test_notify_reaches_only_the_named_users_devices(world, push_service, sessionmaker) -> None:
    tenant, clients = world
    phone = await subscribe(clients["commissioner"], push_service)
    tablet = await subscribe(clients["commissioner"], push_service)
    other = await subscribe(clients["watcher"], push_service)
    message = PushMessage(
        title="要連絡の報告",
        body="見守り訪問で要連絡が報告されました。",
        url="/reports/1",
        tag="esc-1",
        kind="escalation",
        urgency="high",
    )

    report = await notify(sessionmaker, tenant.id, [tenant.accounts["commissioner"].user_id], message, drill=False)
    assert (report.subscriptions, report.delivered, report.removed, report.failed) == (2, 2, 0, 0)
    for b in (phone, tablet):
        [got] = push_service.for_browser(b)
        assert got.error is None, got.error
        assert got.payload == {
            **got.payload,
            "title": "要連絡の報告",
            "body": "見守り訪問で要連絡が報告されました。",
            "url": "/reports/1",
            "tag": "esc-1",
            "kind": "escalation",
            "drill": False,
        }
        assert got.headers["urgency"] == "high"
    assert push_service.for_browser(other) == []

    # another tenant's notify cannot reach these devices, even with the right user id (RLS + filter)
    stranger = await notify(sessionmaker, uuid.uuid4(), [tenant.accounts["commissioner"].user_id], message, drill=False)
    assert stranger.subscriptions == 0


async def test_drill_notifications_are_always_marked(world, push_service, sessionmaker) -> None:
    tenant, clients = world
    browser = await subscribe(clients["watcher"], push_service)
    user = [tenant.accounts["watcher"].user_id]

    await notify(
        sessionmaker, tenant.id, user, PushMessage(title="安否確認を開始してください", tag="start"), drill=True
    )
    await notify(sessionmaker, tenant.id, user, PushMessage(title="【訓練】状況付与"), drill=True)
    first, second = push_service.for_browser(browser)
    assert first.payload and first.payload["title"] == "【訓練】安否確認を開始してください"
    assert first.payload["drill"] is True and first.payload["tag"] == "drill:start"  # never replaces a real one
    assert second.payload and second.payload["title"] == "【訓練】状況付与"  # not doubled

    with pytest.raises(ValueError, match="訓練"):  # a real notification may not pose as a drill
        await notify(sessionmaker, tenant.id, user, PushMessage(title="【訓練】本番"), drill=False)
    assert len(push_service.for_browser(browser)) == 2


@pytest.mark.parametrize("status", [410, 404])
async def test_expired_subscriptions_are_removed(world, push_service, sessionmaker, status: int) -> None:
    tenant, clients = world
    gone = await subscribe(clients["watcher"], push_service)
    alive = await subscribe(clients["watcher"], push_service)
    push_service.answer(gone, status)

    report = await notify(
        sessionmaker, tenant.id, [tenant.accounts["watcher"].user_id], PushMessage(title="お知らせ"), drill=False
    )
    assert (report.delivered, report.removed, report.failed) == (1, 1, 0)
    assert sorted(report.statuses.values()) == sorted([201, status])
    assert set(await rows(sessionmaker, tenant.id)) == {alive.endpoint}
    assert push_service.for_browser(gone)[0].error is None  # it was a well-formed push, refused as gone


async def test_server_errors_count_up_and_a_device_is_dropped_only_after_failing_for_long(
    world, push_service, sessionmaker
) -> None:
    """A failing device is kept (staff see it) and counted; a success resets it; it is deleted
    only when it has failed MAX_FAILURES times in a row over more than DROP_AFTER."""
    tenant, clients = world
    flaky = await subscribe(clients["watcher"], push_service)
    push_service.answer(flaky, 500)
    user = [tenant.accounts["watcher"].user_id]

    report = await notify(sessionmaker, tenant.id, user, PushMessage(title="お知らせ"), drill=False)
    assert (report.delivered, report.removed, report.failed, report.dropped) == (0, 0, 1, 0)
    row = (await rows(sessionmaker, tenant.id))[flaky.endpoint]
    assert (row.failure_count, row.last_error) == (1, "HTTP 500 Internal Server Error")
    assert row.failing_since is not None and row.last_failure_at is not None

    push_service.answer(flaky, 201)  # a success resets the count
    await notify(sessionmaker, tenant.id, user, PushMessage(title="お知らせ"), drill=False)
    row = (await rows(sessionmaker, tenant.id))[flaky.endpoint]
    assert (row.failure_count, row.failing_since, row.last_error) == (0, None, None)

    push_service.answer(flaky, 503)
    for n in range(1, MAX_FAILURES + 2):
        report = await notify(sessionmaker, tenant.id, user, PushMessage(title="お知らせ"), drill=False)
        assert report.dropped == 0
        assert (await rows(sessionmaker, tenant.id))[flaky.endpoint].failure_count == n  # kept, and counted
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                update(PushSubscription)
                .where(PushSubscription.endpoint == flaky.endpoint)
                .values(failing_since=PushSubscription.failing_since - DROP_AFTER)
            )
    report = await notify(sessionmaker, tenant.id, user, PushMessage(title="お知らせ"), drill=False)
    assert report.dropped == 1
    assert flaky.endpoint not in await rows(sessionmaker, tenant.id)


async def test_an_unreachable_push_service_is_a_failure_not_a_crash(world, push_service, sessionmaker) -> None:
    tenant, clients = world
    browser = await subscribe(clients["watcher"], push_service)
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            row = (await db.execute(select(PushSubscription))).scalar_one()
            row.endpoint = "http://127.0.0.1:9/push/closed"  # discard port: connection refused
    report = await notify(
        sessionmaker,
        tenant.id,
        [tenant.accounts["watcher"].user_id],
        PushMessage(title="お知らせ"),
        drill=False,
        timeout=2,
    )
    assert (report.failed, report.statuses) == (1, {str(row.id): 0})
    assert push_service.for_browser(browser) == []


async def test_a_user_cannot_delete_another_users_subscription(world, push_service, sessionmaker) -> None:
    tenant, clients = world
    browser = await subscribe(clients["watcher"], push_service)

    r = await clients["staff"].send_json("DELETE", "/api/push/subscriptions", {"endpoint": browser.endpoint})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert browser.endpoint in await rows(sessionmaker, tenant.id)

    r = await clients["watcher"].send_json("DELETE", "/api/push/subscriptions", {"endpoint": browser.endpoint})
    assert r.status_code == 204
    assert await rows(sessionmaker, tenant.id) == {}
    r = await clients["watcher"].send_json("DELETE", "/api/push/subscriptions", {"endpoint": browser.endpoint})
    assert r.status_code == 404


async def test_a_push_exists_only_if_the_transaction_of_its_cause_commits(
    world, push_service, app, sessionmaker
) -> None:
    tenant, clients = world
    browser = await subscribe(clients["watcher"], push_service)
    user = [tenant.accounts["watcher"].user_id]

    def note(title: str, key: str, drill: bool) -> Notification:
        return Notification(user_ids=user, key=key, message=PushMessage(title=title), drill=drill)

    with as_tenant(tenant.id):
        async with sessionmaker() as db:
            assert (
                await enqueue_push(
                    db, tenant_id=tenant.id, notifications=[note("取り消し", f"k-{uuid.uuid4()}", False)]
                )
                == 1
            )
            await db.rollback()
            assert (
                await enqueue_push(db, tenant_id=tenant.id, notifications=[note("確定", f"k-{uuid.uuid4()}", True)])
                == 1
            )
            await db.commit()
    await asyncio.wait_for(running(services(app).push).drain(), 20)
    got = push_service.for_browser(browser)
    assert [g.payload["title"] for g in got if g.payload] == ["【訓練】確定"]

    with as_tenant(tenant.id):
        async with sessionmaker() as db:
            with pytest.raises(
                ValueError, match="must not be marked"
            ):  # wrong marking fails in the caller, not later in a worker
                await enqueue_push(db, tenant_id=tenant.id, notifications=[note("【訓練】x", "k-bad", False)])
            await db.rollback()


async def deliveries(sessionmaker, tenant_id: uuid.UUID) -> list[PushDelivery]:
    with as_tenant(tenant_id):
        async with sessionmaker() as db, db.begin():
            return list((await db.execute(select(PushDelivery).order_by(PushDelivery.created_at))).scalars())


async def test_one_delivery_per_device_and_notification_even_if_the_cause_is_written_twice(
    world, push_service, app, sessionmaker
) -> None:
    tenant, clients = world
    phone, tablet = (
        await subscribe(clients["commissioner"], push_service),
        await subscribe(clients["commissioner"], push_service),
    )
    note = Notification(
        user_ids=[tenant.accounts["commissioner"].user_id] * 2,
        key="esc-twice",
        drill=False,
        message=PushMessage(title="至急の報告があります", kind="escalation", urgency="high"),
    )
    with as_tenant(tenant.id):
        for _ in range(2):  # the cause retried: a second transaction enqueues the same notification
            async with sessionmaker() as db:
                await enqueue_push(db, tenant_id=tenant.id, notifications=[note, note])
                await db.commit()
    await asyncio.wait_for(running(services(app).push).drain(), 20)
    assert len(push_service.for_browser(phone)) == 1 and len(push_service.for_browser(tablet)) == 1
    assert [(d.status, d.attempts, d.last_status) for d in await deliveries(sessionmaker, tenant.id)] == [
        ("delivered", 1, 201)
    ] * 2

    # A job that runs again (at least once: its worker died after sending) sends nothing more.
    from server.jobs import JobContext
    from server.push.queue import DeliverJob, deliver

    d = (await deliveries(sessionmaker, tenant.id))[0]
    await deliver(
        JobContext(job_id=0, attempts=1, sessionmaker=sessionmaker),
        DeliverJob(tenant_id=tenant.id, delivery_id=d.id, data="{}", ttl=60, urgency="high"),
    )
    assert len(push_service.for_browser(phone)) + len(push_service.for_browser(tablet)) == 2


async def test_a_503_is_retried_after_retry_after_and_then_delivered(world, push_service, app, sessionmaker) -> None:
    tenant, clients = world
    phone = await subscribe(clients["commissioner"], push_service)
    push_service.answer_next(phone, (503, "1"), (429, "0"))
    with as_tenant(tenant.id):
        async with sessionmaker() as db:
            await enqueue_push(
                db,
                tenant_id=tenant.id,
                notifications=[
                    Notification(
                        user_ids=[tenant.accounts["commissioner"].user_id],
                        key="esc-retry",
                        drill=False,
                        message=PushMessage(title="至急の報告があります", kind="escalation", urgency="high"),
                    )
                ],
            )
            await db.commit()
    for _ in range(200):  # the retry waits for the push service's Retry-After (1 s), not for us
        await asyncio.wait_for(running(services(app).push).drain(), 20)
        if len(push_service.for_browser(phone)) == 3:
            break
        await asyncio.sleep(0.1)
    first, second, third = push_service.for_browser(phone)
    assert (first.status, second.status, third.status) == (503, 429, 201)
    assert second.answered_at - first.answered_at >= 0.9  # Retry-After: 1 was honoured
    assert third.payload and third.payload["title"] == "至急の報告があります" and third.error is None
    [d] = await deliveries(sessionmaker, tenant.id)
    assert (d.status, d.attempts, d.last_status) == ("delivered", 3, 201) and d.delivered_at is not None
    row = (await rows(sessionmaker, tenant.id))[phone.endpoint]
    assert row.failure_count == 0 and row.last_success_at is not None


async def test_a_410_from_the_queue_removes_the_subscription_and_a_400_is_not_retried(
    world, push_service, app, sessionmaker
) -> None:
    tenant, clients = world
    gone, refused = await subscribe(clients["watcher"], push_service), await subscribe(clients["watcher"], push_service)
    push_service.answer(gone, 410)
    push_service.answer(refused, 400)
    with as_tenant(tenant.id):
        async with sessionmaker() as db:
            await enqueue_push(
                db,
                tenant_id=tenant.id,
                notifications=[
                    Notification(
                        user_ids=[tenant.accounts["watcher"].user_id],
                        key="op-start-x",
                        drill=False,
                        message=PushMessage(title="安否確認が始まりました", kind="operation.started"),
                    )
                ],
            )
            await db.commit()
    await asyncio.wait_for(running(services(app).push).drain(), 20)
    assert set(await rows(sessionmaker, tenant.id)) == {refused.endpoint}
    assert len(push_service.for_browser(gone)) == 1 and len(push_service.for_browser(refused)) == 1
    [d] = await deliveries(sessionmaker, tenant.id)  # the gone device's delivery went with it
    assert (d.status, d.attempts, d.last_status) == ("failed", 1, 400)


async def test_staff_see_the_devices_that_keep_failing(world, push_service, app, sessionmaker) -> None:
    tenant, clients = world
    broken = await subscribe(clients["commissioner"], push_service)
    fine = await subscribe(clients["watcher"], push_service)
    push_service.answer(broken, 502)
    await notify(
        sessionmaker,
        tenant.id,
        [tenant.accounts["commissioner"].user_id, tenant.accounts["watcher"].user_id],
        PushMessage(title="お知らせ"),
        drill=False,
    )
    r = await clients["staff"].get("/api/staff/push/devices")
    assert r.status_code == 200, r.text
    [device] = r.json()
    assert device["user_id"] == str(tenant.accounts["commissioner"].user_id)
    assert device["login"] == tenant.accounts["commissioner"].login
    assert device["last_error"] == "HTTP 502 Bad Gateway" and device["failures"] == 1
    assert device["failing_since"] and device["last_failure_at"] and device["last_success_at"] is None
    assert "endpoint" not in device and fine.endpoint not in r.text and broken.endpoint not in r.text
    assert (await clients["watcher"].get("/api/staff/push/devices")).status_code == 403


async def test_signing_out_removes_this_devices_subscription_and_everywhere_removes_all(
    world, push_service, client_factory, sessionmaker
) -> None:
    tenant, clients = world
    acct = tenant.accounts["watcher"]
    other = client_factory()
    assert (await other.login(acct.login, acct.password)).status_code == 200
    here = await subscribe(clients["watcher"], push_service)
    there = await subscribe(other, push_service)
    staff_phone = await subscribe(clients["staff"], push_service)

    assert (await clients["watcher"].send_json("POST", "/api/auth/logout")).status_code == 204
    assert set(await rows(sessionmaker, tenant.id)) == {there.endpoint, staff_phone.endpoint}

    assert (await other.send_json("POST", "/api/auth/logout-everywhere")).status_code == 204
    assert set(await rows(sessionmaker, tenant.id)) == {staff_phone.endpoint}
    assert here.endpoint != there.endpoint


async def test_a_burst_of_4500_escalation_notifications_loses_none(world, push_service, app, sessionmaker) -> None:
    """#16: 29 % of ~4,500 escalation pushes were dropped by the in-memory queue. Each is now a
    row and a job written with its cause; the push service counts every one, once."""
    tenant, clients = world
    phone = await subscribe(clients["commissioner"], push_service)
    user = tenant.accounts["commissioner"].user_id
    total, per_commit = 4500, 150

    async def raise_escalations(first: int) -> None:
        with as_tenant(tenant.id):
            async with sessionmaker() as db:
                await enqueue_push(
                    db,
                    tenant_id=tenant.id,
                    notifications=[
                        Notification(
                            user_ids=[user],
                            key=f"esc-burst-{i}",
                            drill=False,
                            message=PushMessage(
                                title="至急の報告があります", tag=f"esc-burst-{i}", kind="escalation", urgency="high"
                            ),
                        )
                        for i in range(first, first + per_commit)
                    ],
                )
                await db.commit()

    await asyncio.gather(*(raise_escalations(i) for i in range(0, total, per_commit)))
    await asyncio.wait_for(running(services(app).push).drain(), 300)
    got = push_service.for_browser(phone)
    tags = [g.payload["tag"] for g in got if g.payload and g.error is None]
    assert len(tags) == total and len(set(tags)) == total
    assert sorted({d.status for d in await deliveries(sessionmaker, tenant.id)}) == ["delivered"]


def test_messages_are_in_app_links_of_bounded_size() -> None:
    with pytest.raises(ValueError, match="in-app path"):
        PushMessage(title="x", url="https://evil.example/")
    with pytest.raises(ValueError, match="in-app path"):
        PushMessage(title="x", url="//evil.example/")
    with pytest.raises(ValueError, match="title must be"):
        PushMessage(title="")
    with pytest.raises(ValueError, match="title must be"):
        PushMessage(title="x" * 101)
    assert urlsplit(PushMessage(title="x", url="/ops/1?tab=map").url).path == "/ops/1"


async def test_escalations_and_operation_start_push_without_personal_data(
    push_service, client_factory, sessionmaker, app
) -> None:
    """A drill 要救助 report reaches the district commissioner's phone, marked 【訓練】, with no name
    or address in it; the assigned watcher is told the drill started."""
    from datetime import UTC, datetime

    from server.db.base import uuid7

    w, clients = await signed_in_world(sessionmaker, client_factory, push_service)
    commissioner_phone = await subscribe(clients["commissioner"], push_service)
    watcher_phone = await subscribe(clients["watcher"], push_service)
    op = await start_operation_as(clients["staff"], w, mode="drill", name="総合防災訓練", districts=("D1",))
    r = await clients["watcher"].send_json(
        "POST",
        f"/api/operations/{op['id']}/visits",
        {
            "client_id": str(uuid7()),
            "household_id": str(w.households["H1"]),
            "outcome": "rescue",
            "note": "家具の下敷き",
            "device_time": datetime.now(UTC).isoformat(),
        },
    )
    assert r.status_code == 201
    await asyncio.wait_for(running(services(app).push).drain(), 10)
    [started] = push_service.for_browser(watcher_phone)
    assert started.error is None, started.error
    assert started.payload["title"].startswith("【訓練】") and started.payload["kind"] == "operation.started"
    [escalated] = push_service.for_browser(commissioner_phone)
    payload = escalated.payload
    assert payload["title"].startswith("【訓練】") and payload["kind"] == "escalation" and payload["drill"] is True
    text_of_payload = json.dumps(payload, ensure_ascii=False)
    for secret in ("試験", "テスト町", "家具", "0296"):
        assert secret not in text_of_payload, secret
    # A new household to watch is announced too.
    from sqlalchemy import select as sa_select

    from server.registry.models import Watcher

    with as_tenant(w.tenant_id):
        async with sessionmaker() as db:
            watcher_id = (
                await db.execute(sa_select(Watcher.id).where(Watcher.user_id == w.accounts["watcher"].user_id))
            ).scalar_one()
    link = await clients["staff"].send_json(
        "POST",
        "/api/watch/links",
        {  # 2 km away in this world: confirmed
            "household_id": str(w.households["H4"]),
            "watcher_id": str(watcher_id),
            "kind": "backup",
            "confirm_far": True,
        },
    )
    assert link.status_code == 201, link.text
    await asyncio.wait_for(running(services(app).push).drain(), 10)
    kinds = [r.payload["kind"] for r in push_service.for_browser(watcher_phone)]
    assert kinds == ["operation.started", "assignment"]


async def test_a_disabled_users_devices_get_no_notifications(world, push_service, sessionmaker) -> None:
    tenant, clients = world
    phone = await subscribe(clients["commissioner"], push_service)
    message = PushMessage(
        title="要連絡の報告",
        body="見守り訪問で要連絡が報告されました。",
        url="/reports/1",
        tag="esc-2",
        kind="escalation",
        urgency="high",
    )
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                update(User).where(User.id == tenant.accounts["commissioner"].user_id).values(is_active=False)
            )
    report = await notify(sessionmaker, tenant.id, [tenant.accounts["commissioner"].user_id], message, drill=False)
    assert report.subscriptions == 0 and push_service.for_browser(phone) == []
    with as_tenant(tenant.id):
        async with sessionmaker() as db, db.begin():
            await db.execute(
                update(User).where(User.id == tenant.accounts["commissioner"].user_id).values(is_active=True)
            )
    report = await notify(sessionmaker, tenant.id, [tenant.accounts["commissioner"].user_id], message, drill=False)
    assert report.delivered == 1 and len(push_service.for_browser(phone)) == 1


async def test_an_escalation_through_the_apps_sync_path_is_pushed_once_even_when_the_phone_resends(
    push_service, client_factory, sessionmaker, app
) -> None:
    """The PWA sends visits through POST /api/sync/push; a phone that did not hear the answer sends
    the same batch again. The escalation is raised once, and pushed once per device."""
    from datetime import UTC, datetime

    from server.db.base import uuid7

    w, clients = await signed_in_world(sessionmaker, client_factory, push_service)
    phone = await subscribe(clients["commissioner"], push_service)
    op = await start_operation_as(clients["staff"], w, name="地震 安否確認", districts=("D1",))
    batch = {
        "mutations": [
            {
                "type": "visit",
                "operation_id": op["id"],
                "client_id": str(uuid7()),
                "household_id": str(w.households["H1"]),
                "outcome": "rescue",
                "device_time": datetime.now(UTC).isoformat(),
            }
        ]
    }
    for _ in range(2):
        r = await clients["watcher"].send_json("POST", "/api/sync/push", batch)
        assert r.status_code == 200, r.text
    await asyncio.wait_for(running(services(app).push).drain(), 20)
    escalations = [g for g in push_service.for_browser(phone) if g.payload and g.payload["kind"] == "escalation"]
    assert len(escalations) == 1
    assert escalations[0].payload["title"] == "至急の報告があります" and escalations[0].payload["drill"] is False
    assert escalations[0].headers["urgency"] == "high"
