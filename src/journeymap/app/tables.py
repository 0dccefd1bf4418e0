"""The app's metadata tables (SQLAlchemy 2).  Every object belongs to a workspace.

The schema is created and changed only by the Alembic migrations in
``journeymap/app/migrations``; these classes describe the latest revision (a test
checks that the two agree).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class WorkspaceRow(Base):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    root: Mapped[str] = mapped_column(String(1000), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class MapRow(Base):
    """A map file of the workspace (``maps/<ref>.yaml``) and what the app knows of it."""

    __tablename__ = "maps"
    __table_args__ = (UniqueConstraint("workspace_id", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(200))  # the file name without .yaml: the URL's key
    file: Mapped[str] = mapped_column(String(1000))  # relative to the workspace
    map_id: Mapped[str | None] = mapped_column(String(200))  # the document's id (None: invalid)
    title: Mapped[str | None] = mapped_column(String(500))
    persona: Mapped[str | None] = mapped_column(String(500))
    map_type: Mapped[str | None] = mapped_column(String(50))
    owner: Mapped[str | None] = mapped_column(String(200))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    versions: Mapped[list[MapVersion]] = relationship(back_populates="map", order_by="MapVersion.number")


class MapVersion(Base):
    """One saved state of a map: the YAML text as written, who, when, why."""

    __tablename__ = "map_versions"
    __table_args__ = (UniqueConstraint("map_pk", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    map_pk: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64), index=True)
    author: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(String(1000), default="")
    source: Mapped[str] = mapped_column(String(20))  # app | disk | restore
    restored_from: Mapped[int | None] = mapped_column(Integer)
    valid: Mapped[bool] = mapped_column(Boolean)
    problems: Mapped[list] = mapped_column(JSON, default=list)  # [{file, line, path, message}]
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    map: Mapped[MapRow] = relationship(back_populates="versions")


class AnalysisRow(Base):
    """A map's page analysis for one (map text, data version, filters): computed once,
    read often.  ``filters`` is :attr:`journeymap.analysis.Filters.key` ('' for none)."""

    __tablename__ = "analyses"
    __table_args__ = (UniqueConstraint("map_pk", "checksum", "data_version", "filters", name="uq_analyses_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    map_pk: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"), index=True)
    checksum: Mapped[str] = mapped_column(String(64))
    data_version: Mapped[int] = mapped_column(Integer)
    filters: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    result: Mapped[str] = mapped_column(Text)  # the analysis as JSON text
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class JobRow(Base):
    """A background job (an analysis, an ingest) and how far it got."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # analysis | ingest
    target: Mapped[str] = mapped_column(String(500))  # map ref, or the ingested file
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued running done failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    step: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class UserRow(Base):
    """A person with an account (an email; a password once they chose one)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # Argon2id
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Membership(Base):
    """A user's role in a workspace: viewer, commenter, editor or owner."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_memberships"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SessionRow(Base):
    """A signed-in browser: the SHA-256 of its cookie's random token."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class OneTimeToken(Base):
    """A one-time link to choose a password (an invitation or a reset): its SHA-256."""

    __tablename__ = "one_time_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # invite | reset
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ApiToken(Base):
    """A script's key to the API of one workspace with one role: its SHA-256, revocable."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_api_tokens_name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class CommentRow(Base):
    """A comment on a map's cell, stage, touchpoint, pain point or opportunity; the first
    of a thread has ``thread_id`` None, replies point to it."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    map_pk: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(500))  # stage:ID, touchpoint:ID, cell:STAGE/LANE/N, pain:N, ...
    author: Mapped[str] = mapped_column(String(320))
    author_email: Mapped[str | None] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(20), default="comment")  # comment | resolved | reopened
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(320))


class MentionRow(Base):
    """A member @mentioned in a comment, until they have seen it."""

    __tablename__ = "mentions"
    __table_args__ = (UniqueConstraint("comment_id", "user_id", name="uq_mentions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class MapReviewRow(Base):
    """A map's owner and review interval (``reviewed_at`` None: a setting, not a review),
    or one review: who, when, and the stage numbers it saw (to tell drift later)."""

    __tablename__ = "map_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    map_pk: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"), index=True)
    owner_email: Mapped[str | None] = mapped_column(String(320))
    interval_days: Mapped[int] = mapped_column(Integer, default=90)
    reviewed_by: Mapped[str | None] = mapped_column(String(320))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    snapshot: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class WorkItemRow(Base):
    """One change of a pain point's or opportunity's owner, status or link; the newest row
    per (map, key) is its current state, the others its history (the activity feed)."""

    __tablename__ = "work_items"
    __table_args__ = (Index("ix_work_items_map_key", "map_pk", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    map_pk: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(400))
    title: Mapped[str] = mapped_column(String(400))
    owner_email: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20), default="open")
    link: Mapped[str | None] = mapped_column(String(2000))
    changed_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ShareLinkRow(Base):
    """A read-only link to one map's page, opened without an account: only the SHA-256 of
    its token is kept; it ends at ``expires_at`` or when revoked."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    map_pk: Mapped[int] = mapped_column(ForeignKey("maps.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(320))
    last_opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    opened: Mapped[int] = mapped_column(Integer, default=0)


class WebhookRow(Base):
    """An outgoing webhook of a workspace: where to POST its changes, and the secret that
    signs them (HMAC-SHA256)."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class WebhookDeliveryRow(Base):
    """One event to deliver to one webhook: kept until delivered or out of retries."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
