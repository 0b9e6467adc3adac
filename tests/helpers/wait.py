"""Waiting in tests on the app's own signals (a count, a flag another task sets), never on time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], object], limit: float = 120.0) -> None:
    """Wait until `condition()` holds; the limit only turns a hang into a failure."""
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110 - conditions over plain values other tasks change, not events
            await asyncio.sleep(0.01)
