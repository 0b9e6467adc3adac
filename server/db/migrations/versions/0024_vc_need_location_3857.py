"""The needs map (#18): a stored EPSG:3857 point on `vc_need`, as on households and shelters, so
a needs tile reads its geometry instead of transforming every point per request.

Revision ID: 0024
Revises: 0023
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "vc_need",
        sa.Column(
            "location_3857",
            Geometry(geometry_type="POINT", srid=3857, dimension=2, spatial_index=False,
                     from_text="ST_GeomFromEWKT", name="geometry", nullable=False),
            sa.Computed("ST_Transform(location, 3857)", persisted=True),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("vc_need", "location_3857")
