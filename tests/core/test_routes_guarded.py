"""Every route carries an explicit guard: a forgotten one fails here, not in production."""

from __future__ import annotations

from server.core.guards import public


def test_every_route_handler_has_an_explicit_guard(app) -> None:
    unguarded = []
    for route in app.routes:
        for handler in route.route_handlers:
            if handler.handler_name == "options_handler":
                continue  # Litestar's generated CORS/OPTIONS responder: returns allowed methods only
            if not handler.resolve_guards():
                unguarded.append(f"{sorted(handler.http_methods)} {route.path}")
    assert not unguarded, f"routes without a guard: {unguarded}"


def test_public_routes_are_the_expected_few(app) -> None:
    public_routes = set()
    for route in app.routes:
        for handler in route.route_handlers:
            guards = [getattr(g, "ref", None) or getattr(g, "value", g) for g in handler.resolve_guards()]
            if any(getattr(g, "__name__", None) == public.__name__ for g in guards) or any(
                getattr(g, "func", None) is public for g in handler.resolve_guards()
            ):
                public_routes.add(route.path)
    api_public = {p for p in public_routes if p.startswith("/api")}
    # /api/map/config: the base-map URL and tile templates, no personal data (server/maps/config.py);
    # public so a phone that is signed out or offline-started can still draw its cached background.
    # /api/public/vc/…: the 災害VC pre-registration page (no account by design; rate-limited, consent
    # stored, answers only an opaque token: server/vc/reception.py, 0025-vc-roles).
    # /api/drills/scenario-schema: the published JSON Schema of drill scenario files (no data),
    # at a stable URL so editors and other councils' tools can validate against it.
    assert api_public == {
        "/api/auth/login",
        "/api/auth/csrf",
        "/api/map/config",
        "/api/drills/scenario-schema",
        "/api/public/vc/{municipality_code:str}/{operation_id:uuid}/privacy-notice",
        "/api/public/vc/{municipality_code:str}/{operation_id:uuid}/registrations",
    }


def test_every_guard_runs_on_the_event_loop(app) -> None:
    """Litestar runs a plain-function guard through a thread pool on every request (measured:
    11 % of the server's CPU under the ingest benchmark). Guards must be coroutine functions."""
    import inspect

    sync_guards = set()
    for route in app.routes:
        for handler in route.route_handlers:
            for layer in handler.ownership_layers:
                for guard in layer.guards or []:
                    if not inspect.iscoroutinefunction(guard):
                        sync_guards.add(getattr(guard, "__qualname__", repr(guard)))
    assert not sync_guards, f"guards that would run in a thread: {sorted(sync_guards)}"
