"""purchases: store and visit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 04:20:00.000000

Baskets posted by a store's till carry the store and, when the shopper's app was in the store,
the visit. Both nullable: loyalty history imported as CSV usually has neither.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("store_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("visit_id", sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_purchases_store_id_stores"),
            "stores",
            ["store_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_purchases_visit_id_visits"),
            "visits",
            ["visit_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_purchases_store_basket", ["store_id", "basket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_purchases_visit_id"), ["visit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchases_visit_id"))
        batch_op.drop_index("ix_purchases_store_basket")
        batch_op.drop_constraint(batch_op.f("fk_purchases_visit_id_visits"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_purchases_store_id_stores"), type_="foreignkey")
        batch_op.drop_column("visit_id")
        batch_op.drop_column("store_id")
