"""Declarative base and the conventions every table follows.

Tenant-owned tables put `tenant_id` first in their primary key and in every foreign key to
another tenant-owned table, so the schema can be distributed by tenant (Citus) without rewrites.
See docs/decisions/0002-tenancy-and-rls.md.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

from sqlalchemy import DateTime, ForeignKey, ForeignKeyConstraint, MetaData, Table, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def uuid7() -> uuid.UUID:
    """Time-ordered UUID (RFC 9562 v7): good index locality, and what devices generate too."""
    import os
    import time

    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


class TenantOwned:
    """Mixin: `tenant_id` column leading the primary key; RLS policy added in the migration."""

    __tenant_owned__ = True

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(
            UUID(as_uuid=True), ForeignKey("tenant.id", ondelete="RESTRICT"), primary_key=True, sort_order=-10
        )


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


def tenant_fk(
    cols: list[str], table: str, refcols: list[str] | None = None, ondelete: str = "RESTRICT"
) -> ForeignKeyConstraint:
    """A foreign key to another tenant-owned table: always carries tenant_id.

    SET NULL names its columns (PostgreSQL 15), or it would null tenant_id as well.
    """
    if ondelete == "SET NULL":
        ondelete = f"SET NULL ({', '.join(cols)})"
    refcols = refcols or ["id"]
    return ForeignKeyConstraint(
        ["tenant_id", *cols], [f"{table}.tenant_id", *[f"{table}.{c}" for c in refcols]], ondelete=ondelete
    )


def tenant_owned_tables() -> list[str]:
    """Names of every table that must carry RLS; used by migrations' checks and by tests."""
    return sorted(
        cast("Table", mapper.local_table).name
        for mapper in Base.registry.mappers
        if getattr(mapper.class_, "__tenant_owned__", False)
    )
