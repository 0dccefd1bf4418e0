"""Map ownership and reviews: the owner, the review interval, each review with the stage
numbers it saw.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "map_reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("map_pk", sa.Integer, sa.ForeignKey("maps.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("owner_email", sa.String(320)),
        sa.Column("interval_days", sa.Integer, nullable=False),
        sa.Column("reviewed_by", sa.String(320)),
        sa.Column("reviewed_at", sa.DateTime),
        sa.Column("snapshot", sa.JSON),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("map_reviews")
