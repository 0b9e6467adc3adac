"""OPTIONS names every method of a path, also where two controllers share it (Litestar 2 named
only one route's: `OPTIONS /api/operations` said "OPTIONS, POST" though GET is served there)."""

from __future__ import annotations

from tests.helpers.openapi import fill_path

_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


async def test_options_names_every_documented_method_of_each_path(client_factory) -> None:
    # Signed out: OPTIONS says which methods a path has, and nothing else, to anyone — the same
    # answer whether the path's guards sit on its controller (the users') or on each handler.
    client = client_factory()
    schema = (await client.get("/schema/openapi.json")).json()
    checked = 0
    shared = 0
    for template, item in schema["paths"].items():
        documented = {m.upper() for m in item if m.upper() in _METHODS}
        if not documented:
            continue
        params = item.get("parameters", []) + [
            p for m in item.values() if isinstance(m, dict) for p in m.get("parameters", [])
        ]
        resp = await client.options(fill_path(template, params))
        assert resp.status_code == 204, (template, resp.status_code, resp.text)
        allow = {m.strip() for m in resp.headers["allow"].split(",")}
        assert allow == documented | {"OPTIONS"}, (template, sorted(allow), sorted(documented))
        checked += 1
        shared += len(documented) > 1
    assert checked >= 80 and shared >= 10, (checked, shared)
    # The one that was seen wrong, by name.
    assert (await client.options("/api/operations")).headers["allow"] == "GET, OPTIONS, POST"
