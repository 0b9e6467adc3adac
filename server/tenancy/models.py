"""The tenant: one social welfare council. The root every tenant-owned row hangs from."""

from __future__ import annotations

import uuid
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, Timestamps, uuid7


class Tenant(Timestamps, Base):
    """Not tenant-owned itself: under Citus it becomes a reference table."""

    __tablename__ = "tenant"
    __table_args__ = (CheckConstraint("municipality_code ~ '^[0-9]{5}$'", name="municipality_code_format"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    # 全国地方公共団体コード without the check digit, e.g. 08216 for 笠間市.
    municipality_code: Mapped[str] = mapped_column(String(5), nullable=False, unique=True)
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False, server_default="Asia/Tokyo")
    # The municipality's outline: registry points must fall inside it (with a small tolerance).
    boundary: Mapped[Any | None] = mapped_column(Geometry("MULTIPOLYGON", 4326, spatial_index=False))
