"""Requests built from the OpenAPI document: a concrete path for a templated one."""

from __future__ import annotations

import uuid

# Values for path parameters by name (anything else of type uuid gets a random id).
_PATH_VALUES = {
    "layer": "households",
    "z": "14",
    "x": "14579",
    "y": "6433.mvt",
    "kind": "roster",
    "path": "openapi.json",
}


def fill_path(path: str, parameters: list[dict]) -> str:
    """The template with its path parameters filled by safe values (a random id for a uuid)."""
    for p in parameters:
        if p.get("in") != "path":
            continue
        schema = p.get("schema") or {}
        value = _PATH_VALUES.get(p["name"]) or (str(uuid.uuid4()) if schema.get("format") == "uuid" else "1")
        path = path.replace("{" + p["name"] + "}", value)
    return path
