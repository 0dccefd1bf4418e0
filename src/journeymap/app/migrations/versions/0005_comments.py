"""Comments in threads on a map's parts, and the members they @mention.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("workspace_id", sa.Integer, sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("map_pk", sa.Integer, sa.ForeignKey("maps.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("thread_id", sa.Integer, sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("author_email", sa.String(320)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("action", sa.String(20), nullable=False, server_default="comment"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("resolved_at", sa.DateTime),
        sa.Column("resolved_by", sa.String(320)),
    )
    op.create_table(
        "mentions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("comment_id", sa.Integer, sa.ForeignKey("comments.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("read_at", sa.DateTime),
        sa.UniqueConstraint("comment_id", "user_id", name="uq_mentions"),
    )


def downgrade() -> None:
    op.drop_table("mentions")
    op.drop_table("comments")
