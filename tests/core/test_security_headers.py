"""Security headers on every response: each route of the OpenAPI document (signed in, with safe
parameters: a 4xx is fine, the headers must be there), the PWA's files, errors outside any route,
and a map tile."""

from __future__ import annotations

import dataclasses

import httpx

from tests.conftest import ApiClient, IsolatedApp, running
from tests.helpers.openapi import fill_path

# After these the session is gone: sign in again.
_ENDS_SESSION = ("/api/auth/logout", "/api/auth/logout-everywhere")


def assert_security_headers(resp: httpx.Response, what: str, *, https: bool = False) -> None:
    h = resp.headers
    csp = h.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp, what
    assert h.get("x-content-type-options") == "nosniff", what
    assert h.get("referrer-policy") == "same-origin", what
    assert h.get("x-frame-options") == "DENY", what
    assert ("strict-transport-security" in h) is https, what
    path = resp.request.url.path
    if path.startswith("/api/tiles/") and resp.status_code in (200, 204, 304):
        assert h.get("cache-control") == "private, no-cache" and h.get("etag"), what
    elif path.startswith(("/api/", "/health/")) or h.get("content-type", "").startswith("application/problem+json"):
        assert "no-store" in h.get("cache-control", ""), what


async def _sign_in(client: ApiClient, acct) -> None:
    resp = await client.login(acct.login, acct.password)
    assert resp.status_code == 200, resp.text


async def test_every_route_in_the_openapi_answers_with_the_security_headers(live_client_factory, make_tenant) -> None:
    tenant = await make_tenant(("admin",))
    admin = tenant.accounts["admin"]
    client = live_client_factory()
    # The live server is shared by the run: after a test that terminated the database's backends,
    # its pool learns of it on the first failed use. Ready first (the app's own signal).
    for _ in range(3):
        if (await client.get("/health/ready")).status_code == 200:
            break
    await _sign_in(client, admin)
    schema = (await client.get("/schema/openapi.json")).json()
    seen: dict[str, int] = {}
    for template, item in schema["paths"].items():
        for method, op in item.items():
            if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            path = fill_path(template, op.get("parameters", []) + item.get("parameters", []))
            headers = {"X-CSRF-Token": await client.ensure_csrf()} if method.upper() != "GET" else {}
            body: dict[str, object] | None = {} if "requestBody" in op else None
            async with client.stream(method.upper(), path, json=body, headers=headers) as resp:  # SSE: headers only
                assert_security_headers(resp, f"{method.upper()} {path} → {resp.status_code}")
                seen[f"{method.upper()} {template}"] = resp.status_code
            if template in _ENDS_SESSION or (await client.get("/api/auth/me")).status_code == 401:
                await _sign_in(client, admin)
    assert len(seen) >= 80, seen
    # the walk reached the routes, not only the sign-in wall
    assert seen["GET /api/households"] == 200 and seen["GET /api/users"] == 200 and seen["GET /api/events"] == 200
    assert seen["GET /api/tiles/{layer}/{z}/{x}/{y}"] in (200, 204)


async def test_the_pwa_files_errors_and_the_tiles_carry_them_too(app, client_factory, make_tenant, settings) -> None:
    c = client_factory()
    for path in (
        "/",
        "/staff/audit",
        "/sw.js",
        "/assets/app-abc123.js",
        "/assets/missing.js",
        "/api/nowhere",
        "/health/live",
        "/schema",
        "/schema/openapi.json",
    ):
        resp = await c.get(path)
        assert_security_headers(resp, f"GET {path} → {resp.status_code}")
    # the routes' own caching is kept
    assert (await c.get("/")).headers["cache-control"] == "no-cache"
    assert "immutable" in (await c.get("/assets/app-abc123.js")).headers["cache-control"]
    assert (await c.get("/api/nowhere")).headers["cache-control"] == "no-store"
    # the app's policy names the base map's origin for MapLibre and the service worker
    csp = (await c.get("/")).headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://cyberjapandata.gsi.go.jp" in csp
    assert "connect-src 'self' https://cyberjapandata.gsi.go.jp" in csp
    assert "worker-src 'self' blob:" in csp and "script-src 'self' 'wasm-unsafe-eval';" in csp
    assert "'unsafe-eval'" not in csp and "'unsafe-inline'" not in csp  # wasm only, never eval()

    tenant = await make_tenant(("staff",))
    await _sign_in(c, tenant.accounts["staff"])
    tile = await c.get("/api/tiles/households/14/14579/6433.mvt")
    assert tile.status_code in (200, 204)
    assert_security_headers(tile, "tile")


async def test_hsts_only_when_served_over_https(settings, make_tenant) -> None:
    from server.app import create_app

    https = dataclasses.replace(settings, public_url="https://tonari.example.jp")
    async with running(create_app(https)) as application:
        transport = httpx.ASGITransport(app=IsolatedApp(application), client=("10.251.0.1", 40000))
        async with ApiClient(transport=transport, base_url="https://tonari.example.jp") as c:
            for path in ("/", "/api/auth/csrf", "/api/nowhere", "/health/live"):
                resp = await c.get(path)
                assert_security_headers(resp, f"GET {path}", https=True)
                assert resp.headers["strict-transport-security"] == "max-age=31536000"
