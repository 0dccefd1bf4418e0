"""The first tables: workspaces, maps, map versions, cached analyses, jobs.

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("root", sa.String(1000), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "maps",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.Integer, sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("file", sa.String(1000), nullable=False),
        sa.Column("map_id", sa.String(200)),
        sa.Column("title", sa.String(500)),
        sa.Column("persona", sa.String(500)),
        sa.Column("map_type", sa.String(50)),
        sa.Column("owner", sa.String(200)),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.UniqueConstraint("workspace_id", "ref"),
    )
    op.create_table(
        "map_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("map_pk", sa.Integer, sa.ForeignKey("maps.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False, index=True),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("message", sa.String(1000), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("restored_from", sa.Integer),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("problems", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("map_pk", "number"),
    )
    op.create_table(
        "analyses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("map_pk", sa.Integer, sa.ForeignKey("maps.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("data_version", sa.Integer, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("map_pk", "checksum", "data_version"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("workspace_id", sa.Integer, sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("step", sa.String(200), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("result", sa.JSON),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
    )


def downgrade() -> None:
    for table in ("jobs", "analyses", "map_versions", "maps", "workspaces"):
        op.drop_table(table)
