"""What a viewer may see of the watchers themselves (見守り協力員, 民生委員): they are people too.

A watcher's name and phone are what a district's 民生委員 or a coordinator needs to reach the
watch of their own area; where a volunteer lives is for the registry keepers, who make the
pairings. So (docs/decisions/0005-disclosure.md, addendum #14):

- admin, staff: every watcher of the tenant, every field;
- coordinator, commissioner: watchers of the districts in their scope (a watcher with no
  district is nobody's scope), without the home point;
- watcher: only their own profile (`/api/watchers/me`); vc_volunteer: nothing.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from server.core import context
from server.registry.disclosure import SEES_ALL
from server.registry.models import Watcher

WATCHER_LISTERS = frozenset({"admin", "staff", "coordinator", "commissioner"})


def watcher_rows() -> ColumnElement[bool]:
    """Filter for the `Watcher` rows the current viewer may list."""
    ctx = context.current()
    role = ctx.role or ""
    if role in SEES_ALL:
        return true()
    if role not in WATCHER_LISTERS:
        return false()
    if ctx.scope is None:
        return true()
    return Watcher.district_id.in_(sorted(ctx.scope)) if ctx.scope else false()


def watcher_scope_sql(alias: str) -> tuple[str, dict[str, object]]:
    """The same row rule as an `AND …` for raw SQL over `watcher` (coverage), with its parameters."""
    ctx = context.current()
    role = ctx.role or ""
    if role in SEES_ALL or (role in WATCHER_LISTERS and ctx.scope is None):
        return "", {}
    if role not in WATCHER_LISTERS:
        return " AND false", {}
    return f" AND {alias}.district_id = ANY(CAST(:watcher_scope AS uuid[]))", {"watcher_scope": sorted(ctx.scope or ())}


def sees_watcher_home() -> bool:
    return (context.current().role or "") in SEES_ALL
