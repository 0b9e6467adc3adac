"""The drill clock, as arithmetic on what `drill_run` stores (no timer is the truth).

While running, elapsed drill time is `sim_anchor_s + (wall − wall_anchor) × speed`; paused, it is
`sim_anchor_s`. Every change (pause, resume, speed, skip) re-anchors at the moment it happens, so a
server that restarts reads the same clock from the row. Speed 0 is "as fast as possible": the
clock jumps to the next thing due (an inject, a bot's next step) instead of waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

MAX = 0  # speed: as fast as possible


@dataclass(frozen=True)
class Clock:
    status: str  # running | paused | stopped | finished
    speed: int
    sim_anchor_s: float
    wall_anchor: datetime

    def sim_at(self, wall: datetime) -> float:
        """The drill's elapsed seconds at wall time `wall`."""
        if self.status != "running" or self.speed == MAX:
            return self.sim_anchor_s
        return self.sim_anchor_s + max(0.0, (wall - self.wall_anchor).total_seconds()) * self.speed

    def wall_at(self, sim_s: float) -> datetime | None:
        """When the drill's clock reaches `sim_s` (now for as-fast-as-possible; None while stopped)."""
        if self.status != "running":
            return None
        if self.speed == MAX or sim_s <= self.sim_anchor_s:
            return self.wall_anchor
        return self.wall_anchor + timedelta(seconds=(sim_s - self.sim_anchor_s) / self.speed)

    def anchored(self, wall: datetime) -> Clock:
        return replace(self, sim_anchor_s=self.sim_at(wall), wall_anchor=wall)

    def paused(self, wall: datetime) -> Clock:
        return replace(self.anchored(wall), status="paused")

    def resumed(self, wall: datetime) -> Clock:
        return replace(self, status="running", wall_anchor=wall)

    def at_speed(self, wall: datetime, speed: int) -> Clock:
        return replace(self.anchored(wall), speed=speed)

    def jumped(self, wall: datetime, sim_s: float) -> Clock:
        """Skip ahead to `sim_s` (never back)."""
        here = self.anchored(wall)
        return replace(here, sim_anchor_s=max(here.sim_anchor_s, sim_s))

    def stopped(self, wall: datetime, status: str = "stopped") -> Clock:
        return replace(self.anchored(wall), status=status)
