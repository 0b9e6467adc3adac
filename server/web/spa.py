"""Serves the built PWA: real files when they exist, index.html for deep links.

Litestar's static router in html_mode does not fall back to index.html for deep links, hence
this catch-all, registered after the API routes. The service worker must never be cached by
HTTP caches, or an update could take days to reach the field.
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

_NO_CACHE = {"sw.js", "index.html", "manifest.webmanifest", "registerSW.js"}
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".mjs")
_RESERVED = ("api/", "health/", "schema/")


def _serve(dist: Path, rel: str) -> Response[Any]:
    index = dist / "index.html"
    if not index.exists():
        raise Problem("service_unavailable", detail_ja="アプリがビルドされていません（make run を実行してください）。",
                      detail_en="The web app is not built (run make run).")
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
    return File(path=target, media_type=media_type, headers={"Cache-Control": cache}, content_disposition_type="inline")


@get(["/", "/{path:path}"], guards=[public], include_in_schema=False, sync_to_thread=False)
def spa(request: Request[Any, Any, Any]) -> Response[Any]:
    path = str(request.path_params.get("path", ""))
    return _serve(services(request.app).settings.pwa_dist, path.lstrip("/"))
