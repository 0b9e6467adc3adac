"""Errors as problem+json, payload limits, health checks, the OpenAPI document and the PWA shell."""

from __future__ import annotations

import secrets

from server.settings import Settings


def _is_problem(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == code and body["type"] == f"urn:tonari:problem:{code}"
    assert body["message"]["ja"] and body["message"]["en"]
    assert body["request_id"] == resp.headers["x-request-id"]
    return body


async def test_unknown_api_path_is_a_404_problem_not_the_app_shell(client) -> None:
    _is_problem(await client.get("/api/no-such-thing"), 404, "not_found")


async def test_validation_errors_name_the_fields(client) -> None:
    token = await client.ensure_csrf()
    resp = await client.post("/api/auth/login", json={"password": "x"}, headers={"X-CSRF-Token": token})
    body = _is_problem(resp, 400, "validation_failed")
    assert any(e["field"] == "login" and e["code"] == "required" for e in body["errors"]), body
    assert all(e["message"]["ja"] for e in body["errors"])
    resp = await client.post("/api/auth/login", json={"login": 5, "password": "x"}, headers={"X-CSRF-Token": token})
    body = _is_problem(resp, 400, "validation_failed")
    assert body["errors"][0]["field"] == "login"


async def test_oversized_payloads_get_413(client, settings) -> None:
    token = await client.ensure_csrf()
    big = "x" * (settings.max_body_bytes + 10)
    resp = await client.post(
        "/api/auth/login",
        content=f'{{"login": "a", "password": "{big}"}}',
        headers={"X-CSRF-Token": token, "content-type": "application/json"},
    )
    _is_problem(resp, 413, "payload_too_large")


async def test_request_id_is_echoed_when_sane_and_replaced_when_not(client) -> None:
    resp = await client.get("/health/live", headers={"X-Request-ID": "pwa-retry-0001"})
    assert resp.headers["x-request-id"] == "pwa-retry-0001"
    resp = await client.get("/health/live", headers={"X-Request-ID": "<script>"})
    assert resp.headers["x-request-id"] != "<script>" and len(resp.headers["x-request-id"]) == 32


async def test_health_live_and_ready(client) -> None:
    assert (await client.get("/health/live")).json() == {
        "status": "ok",
        "database": None,
        "schema_revision": None,
        "spatial_index": None,
        "database_role": None,
    }
    ready = (await client.get("/health/ready")).json()
    assert ready["status"] == "ok" and ready["database"] == "ok" and ready["schema_revision"]
    assert ready["spatial_index"] == "ok"  # the cluster set-up marked && LEAKPROOF
    assert ready["database_role"] == "dml"  # the app does not own its tables


async def test_ready_fails_cleanly_without_leaking_internals(settings: Settings) -> None:
    """A database that is not there: 503 problem, and no SQL, host or stack trace in the body."""
    import httpx

    from server.app import create_app
    from tests.conftest import running

    broken = Settings(
        database_url="postgresql+asyncpg://nobody:secret@127.0.0.1:1/nowhere",
        var_dir=settings.var_dir,
        pwa_dist=settings.pwa_dist,
        secret_key=secrets.token_urlsafe(16),
        log_level="CRITICAL",
    )
    async with (
        running(create_app(broken)) as app,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as c,
    ):
        resp = await c.get("/health/ready")
    body = _is_problem(resp, 503, "service_unavailable")
    text = resp.text.lower()
    for leak in ("traceback", "select", "asyncpg", "127.0.0.1:1", "secret", "nowhere"):
        assert leak not in text, leak
    assert body["message"]["ja"]


async def test_openapi_document_names_the_cookies_and_the_csrf_header(client) -> None:
    resp = await client.get("/schema/openapi.json")
    assert resp.status_code == 200
    doc = resp.json()
    assert "/api/auth/login" in doc["paths"] and "/api/audit" in doc["paths"]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["session"]["name"] == "tonari_session" and schemes["session"]["in"] == "cookie"
    assert schemes["csrf"]["name"] == "X-CSRF-Token" and schemes["csrf"]["in"] == "header"
    assert "tonari_csrf" in doc["info"]["description"]
    docs_page = await client.get("/schema")
    assert docs_page.status_code == 200 and "text/html" in docs_page.headers["content-type"]


async def test_the_pwa_shell_is_served_with_deep_link_fallback(client) -> None:
    root = await client.get("/")
    assert root.status_code == 200 and "<div id=app>" in root.text
    assert root.headers["cache-control"] == "no-cache"
    deep = await client.get("/households/123/visits")
    assert deep.status_code == 200 and deep.text == root.text
    sw = await client.get("/sw.js")
    assert sw.status_code == 200 and sw.headers["cache-control"] == "no-cache"
    assert "javascript" in sw.headers["content-type"]
    asset = await client.get("/assets/app-abc123.js")
    assert "immutable" in asset.headers["cache-control"]
    assert (await client.get("/assets/missing-123.js")).status_code == 404
    assert (await client.get("/../../etc/passwd")).status_code in (200, 404)
    assert "root:" not in (await client.get("/..%2f..%2fetc%2fpasswd")).text
