"""Typed handler parameters for what the SQLAlchemy plugin injects."""

from __future__ import annotations

from typing import TypeAlias

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

# The request's session (advanced-alchemy's plugin, dependency key `db_session`). Handlers commit
# explicitly before answering, so an acknowledged write is a committed one.
DbSession: TypeAlias = NamedDependency[AsyncSession]
