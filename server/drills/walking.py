"""The walking model of a watcher: one leg is the straight line × a detour factor at a walking
speed, slower inside the hazard's zones, plus a few minutes at the door.

Watcher bots (`bots`) and the planning tool (`planning`) both time their walks with this one SQL
expression, so a plan and a simulated drill cannot disagree about how fast a watcher gets there.
"""

from __future__ import annotations

from typing import Any

from server.drills.scenario import Bots

DWELL_S = 180  # at the door: ask, look, note
# Hazard-zone kinds that slow a walk, by the scenario's hazard.
SLOWING_ZONES = {"earthquake": ["landslide"], "flood": ["flood"], "landslide": ["landslide"]}


def leg_seconds_sql(origin: str, destination: str, slowed: str) -> str:
    """Seconds for one leg (walk + dwell) between two 4326 points; the bind parameters are
    `walk_params()`. The casts matter: an untyped parameter beside the integer 1 in the CASE
    would be read as an integer, and a slow-down of 0.5 would become 0."""
    return (
        f"(ST_Distance(({origin})::geography, ({destination})::geography) * CAST(:detour AS float8)"
        f" / (CAST(:kmh AS float8) / 3.6) / CASE WHEN {slowed} THEN CAST(:slowdown AS float8) ELSE 1 END"
        f" + CAST(:dwell AS float8))"
    )


def walk_params(bots: Bots) -> dict[str, Any]:
    """The bind parameters of `leg_seconds_sql` for a scenario's bots (or the defaults)."""
    return {"detour": bots.detour, "kmh": bots.walk_kmh, "slowdown": bots.hazard_slowdown, "dwell": DWELL_S}
