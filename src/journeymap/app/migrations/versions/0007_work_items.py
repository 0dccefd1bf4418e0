"""Owners, status and links of pain points and opportunities (one row per change).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("map_pk", sa.Integer, sa.ForeignKey("maps.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("title", sa.String(400), nullable=False),
        sa.Column("owner_email", sa.String(320)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("link", sa.String(2000)),
        sa.Column("changed_by", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_work_items_map_key", "work_items", ["map_pk", "key"])


def downgrade() -> None:
    op.drop_index("ix_work_items_map_key", "work_items")
    op.drop_table("work_items")
