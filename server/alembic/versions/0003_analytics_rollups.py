"""daily analytics rollups: presence per floor and day, zone events per day

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 04:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "presence_rollups",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("floor_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("day_start_ms", sa.BigInteger(), nullable=False),
        sa.Column("day_end_ms", sa.BigInteger(), nullable=False),
        sa.Column("width_m", sa.Double(), nullable=False),
        sa.Column("height_m", sa.Double(), nullable=False),
        sa.Column("cell_m", sa.Double(), nullable=False),
        sa.Column("customer_ids", sa.LargeBinary(), nullable=False),
        sa.Column("seconds", sa.LargeBinary(), nullable=False),
        sa.Column("cell_visitors", sa.LargeBinary(), nullable=False),
        sa.Column("visitor_cells", sa.LargeBinary(), nullable=False),
        sa.Column("off_floor_s", sa.Double(), nullable=False),
        sa.Column("facing_zone_ids", sa.LargeBinary(), nullable=False),
        sa.Column("facing", sa.LargeBinary(), nullable=False),
        sa.Column("n_points", sa.Integer(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["floor_id"],
            ["floors.id"],
            name=op.f("fk_presence_rollups_floor_id_floors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_presence_rollups_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", "floor_id", "day", name=op.f("pk_presence_rollups")),
    )
    op.create_table(
        "zone_event_rollups",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("day_start_ms", sa.BigInteger(), nullable=False),
        sa.Column("day_end_ms", sa.BigInteger(), nullable=False),
        sa.Column("visit_ids", sa.LargeBinary(), nullable=False),
        sa.Column("zone_ids", sa.LargeBinary(), nullable=False),
        sa.Column("events", sa.LargeBinary(), nullable=False),
        sa.Column("n_events", sa.Integer(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_zone_event_rollups_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", "day", name=op.f("pk_zone_event_rollups")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("zone_event_rollups")
    op.drop_table("presence_rollups")
