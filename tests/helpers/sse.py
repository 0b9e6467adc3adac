"""Reading a live `/api/events` stream in tests: SSE frames parsed until enough have arrived."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any


async def read_events(
    response: Any, until: Callable[[dict[str, Any]], bool], timeout: float = 15.0
) -> list[dict[str, Any]]:
    """The events (not comments) of an open SSE response, each as its parsed `data` with the
    frame's `event` and `id`, up to and including the first one `until` accepts. Waits on the
    stream itself; fails after `timeout` seconds without it."""
    events: list[dict[str, Any]] = []
    current: dict[str, str] = {}

    async def collect() -> None:
        nonlocal current
        async for line in response.aiter_lines():
            if line == "":
                if "data" in current:
                    event = {**json.loads(current["data"]), "_event": current.get("event"), "_id": current.get("id")}
                    events.append(event)
                    if until(event):
                        return
                current = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(":")
                current[key] = value.lstrip(" ")

    await asyncio.wait_for(collect(), timeout)
    return events
