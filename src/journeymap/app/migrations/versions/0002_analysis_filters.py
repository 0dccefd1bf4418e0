"""Cached analyses are keyed by their filters too (segment rule, period, by): the
analytics views cache one analysis per (map text, data version, filters).

The cache is rebuilt rather than altered — it holds nothing that cannot be computed
again, and a new table with a named constraint is the same on SQLite and PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _analyses(*key: str) -> None:
    op.create_table(
        "analyses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("map_pk", sa.Integer, sa.ForeignKey("maps.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("data_version", sa.Integer, nullable=False),
        *([sa.Column("filters", sa.String(2000), nullable=False, server_default="")] if "filters" in key else []),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint(*key, name="uq_analyses_key"),
    )


def upgrade() -> None:
    op.drop_table("analyses")
    _analyses("map_pk", "checksum", "data_version", "filters")


def downgrade() -> None:
    op.drop_table("analyses")
    _analyses("map_pk", "checksum", "data_version")
