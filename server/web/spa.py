"""Serves the built PWA: real files when they exist, index.html for deep links.

Litestar's static router in html_mode does not fall back to index.html for deep links, hence
this catch-all, registered after the API routes. The service worker must never be cached by
HTTP caches, or an update could take days to reach the field.

The build writes brotli and gzip copies beside each text asset (`x.js.br`, `x.js.gz`; see
pwa/vite.config.ts): a browser that accepts one gets it with its Content-Encoding, and every
file that has copies says `Vary: Accept-Encoding` so a shared cache keeps them apart. Each copy
is its own file, so its ETag (from path, size and time) differs from the plain file's. The route
opts out of on-the-fly compression (server/web/compression.py).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.response import File

from server.core.guards import public
from server.core.problems import Problem
from server.services import services
from server.web.compression import SKIP_OPT_KEY

_NO_CACHE = {"sw.js", "index.html", "manifest.webmanifest", "registerSW.js"}
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".mjs")
_RESERVED = ("api/", "health/", "schema/")
# Precompressed copies made at build time, in order of preference.
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))


def accepted_encodings(header: str) -> set[str]:
    """Content codings an Accept-Encoding header allows (q > 0; `*` stands for any not named)."""
    named: dict[str, float] = {}
    for part in header.split(","):
        coding, *params = (p.strip() for p in part.split(";"))
        if not coding:
            continue
        q = 1.0
        for p in params:
            if p.lower().startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        named[coding.lower()] = q
    star = named.get("*", 0.0)
    return {c for c, _ in PRECOMPRESSED if named.get(c, star) > 0}


def _serve(dist: Path, rel: str, accept_encoding: str = "") -> Response[Any]:
    index = dist / "index.html"
    if not index.exists():
        raise Problem(
            "service_unavailable",
            detail_ja="アプリがビルドされていません（make run を実行してください）。",
            detail_en="The web app is not built (run make run).",
        )
    target = (dist / rel).resolve() if rel else index
    if not target.is_relative_to(dist) or not target.is_file():
        if rel.startswith(_RESERVED) or rel in {"api", "health", "schema"}:
            raise Problem("not_found")
        if Path(rel).suffix and not rel.endswith(".html"):
            raise Problem("not_found")  # a missing asset is a 404, not the app shell
        target = index
    name = target.name
    if name in _NO_CACHE:
        cache = "no-cache"
    elif "/assets/" in f"/{target.relative_to(dist).as_posix()}":
        cache = "public, max-age=31536000, immutable"  # Vite fingerprints these
    else:
        cache = "public, max-age=3600"
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = {"Cache-Control": cache}
    copies = [(coding, target.with_name(name + suffix)) for coding, suffix in PRECOMPRESSED]
    copies = [(coding, path) for coding, path in copies if path.is_file()]
    if copies:
        headers["Vary"] = "Accept-Encoding"
        accepted = accepted_encodings(accept_encoding)
        chosen = next(((coding, path) for coding, path in copies if coding in accepted), None)
        if chosen is not None:
            headers["Content-Encoding"] = chosen[0]
            target = chosen[1]
    return File(path=target, media_type=media_type, headers=headers, content_disposition_type="inline", filename=name)


@get(["/", "/{path:path}"], guards=[public], include_in_schema=False, sync_to_thread=False, opt={SKIP_OPT_KEY: True})
def spa(request: Request[Any, Any, Any]) -> Response[Any]:
    path = str(request.path_params.get("path", ""))
    return _serve(services(request.app).settings.pwa_dist, path.lstrip("/"), request.headers.get("accept-encoding", ""))
