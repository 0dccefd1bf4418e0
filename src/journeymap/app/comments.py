"""Comments on a map's parts, in threads, with @mentions; and the activity feed.

A comment is about one part of a map — the map, a stage, a touchpoint, a lane's cell, a
pain point or an opportunity the data found — named by a *target* key (``stage:ID``,
``touchpoint:ID``, ``cell:STAGE/LANE/N``, ``pain:N``, ``opportunity:N``, ``map``).  The
first comment starts a thread; replies join it; a thread is resolved and reopened as a
whole.  ``@handle`` mentions a member — their email, the part before the @, or their name
without spaces — and the mention waits, unread, until they open their mentions.

The activity feed (per workspace and per map) is read from what the app already records
— versions (saves, edits, restores, files changed on disk), comments, ingests — so no
event can be missing from it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from journeymap.app.accounts import Accounts, Member
from journeymap.app.tables import CommentRow, JobRow, MapRow, MapVersion, MentionRow, utcnow
from journeymap.errors import JourneymapError
from journeymap.model.document import JourneyMap

MAX_BODY = 10_000
MENTION = re.compile(r"(?<![\w@])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")
LANE_LABELS = {"actions": "Actions", "goals": "Goals", "thoughts": "Thoughts", "pain_points": "Pain points",
               "opportunities": "Opportunities", "owners": "Owners", "backstage": "Backstage"}


class CommentError(JourneymapError):
    """A comment that cannot be made (empty, too long, unknown target or thread)."""


def targets(jmap: JourneyMap, analysis: dict[str, Any] | None = None) -> dict[str, str]:
    """Every part of ``jmap`` a comment may be about: target key → a label people read."""
    names = {t.id: t.name for t in jmap.touchpoints} | {s.id: s.name for s in jmap.stages}
    out = {"map": f"The map: {jmap.title}"}
    for st in jmap.stages:
        out[f"stage:{st.id}"] = f"Stage {st.name}"
        for tp in jmap.touchpoints_of(st.id):
            out[f"touchpoint:{tp.id}"] = f"Touchpoint {tp.name} ({st.name})"
        for lane, label in LANE_LABELS.items():
            for i, cell in enumerate(getattr(st.lanes, lane, None) or []):
                text = cell.text if len(cell.text) <= 50 else cell.text[:49] + "…"
                out[f"cell:{st.id}/{lane}/{i}"] = f"{st.name} · {label} {i + 1}: {text}"
    for key, kind in (("pain_points", "pain"), ("opportunities", "opportunity")):
        for i, p in enumerate((analysis or {}).get(key) or []):
            where = str(p.get("target") or "").split(":", 1)[-1]
            what = str(p.get("kind") or "").replace("_", " ")
            out[f"{kind}:{i}"] = f"{'Pain point' if kind == 'pain' else 'Opportunity'} {i + 1}: {what} at " \
                                 f"{names.get(where, where)}"
    return out


@dataclass
class Comment:
    """A comment, or a thread's resolution or reopening (``action``), in thread order."""

    id: int
    author: str
    body: str
    created_at: dt.datetime
    mentions: list[str] = field(default_factory=list)
    action: str = "comment"


@dataclass
class Thread:
    id: int
    target: str
    label: str
    comments: list[Comment]
    resolved_at: dt.datetime | None
    resolved_by: str | None

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None


@dataclass(frozen=True)
class Activity:
    at: dt.datetime
    kind: str  # saved | restored | changed_on_disk | created | commented | resolved | reviewed | assigned | ingested | stale | alert
    who: str
    text: str
    ref: str | None


class Comments:
    def __init__(self, sessions: sessionmaker[Session], workspace_id: int, accounts: Accounts):
        #: called with (event, data) after a comment is made (the app sets its webhooks)
        self.notify: Any = None
        self.sessions = sessions
        self.workspace_id = workspace_id
        self.accounts = accounts

    # -- mentions ---------------------------------------------------------------------
    def handles(self) -> dict[str, Member]:
        """Every way to @mention each member: email, its local part, name without spaces."""
        out: dict[str, Member] = {}
        for m in self.accounts.members():
            for h in (m.email, m.email.split("@")[0], re.sub(r"\s+", "", m.name)):
                out.setdefault(h.lower(), m)
        return out

    def mentionable(self, prefix: str, limit: int = 8) -> list[dict[str, str]]:
        """The members an ``@prefix`` may mean, for autocomplete: each with the shortest
        handle that names them alone (the part of the email before the @, else the whole
        email), those whose handle or name starts with ``prefix`` first, then those
        whose name has a word starting so."""
        members = self.accounts.members()
        owners: dict[str, set[int]] = {}
        for m in members:
            for h in (m.email, m.email.split("@")[0], re.sub(r"\s+", "", m.name)):
                owners.setdefault(h.lower(), set()).add(m.user_id)
        q = prefix.strip().lower().lstrip("@")
        ranked = []
        for m in members:
            local = m.email.split("@")[0]
            handle = local if owners[local.lower()] == {m.user_id} else m.email
            words = [m.email.lower(), local.lower(), re.sub(r"\s+", "", m.name).lower()]
            if any(w.startswith(q) for w in words):
                rank = 0
            elif any(w.startswith(q) for w in m.name.lower().split()):
                rank = 1
            else:
                continue
            ranked.append((rank, m.name.lower(), {"handle": handle, "name": m.name, "email": m.email}))
        return [r[2] for r in sorted(ranked, key=lambda r: (r[0], r[1]))[:limit]]

    def mentioned(self, body: str) -> list[Member]:
        known = self.handles()
        found: dict[int, Member] = {}
        for h in MENTION.findall(body):
            m = known.get(h.lower().rstrip("."))
            if m is not None:
                found.setdefault(m.user_id, m)
        return list(found.values())

    # -- comments -----------------------------------------------------------------------
    def add(self, map_pk: int, target: str, body: str, *, author: str, author_email: str | None,
            thread_id: int | None = None, known_targets: dict[str, str] | None = None) -> Comment:
        body = body.strip()
        if not body:
            raise CommentError("a comment needs some text")
        if len(body) > MAX_BODY:
            raise CommentError(f"a comment has at most {MAX_BODY:,} characters")
        with self.sessions.begin() as s:
            if thread_id is not None:
                root = s.get(CommentRow, thread_id)
                if root is None or root.map_pk != map_pk or root.thread_id is not None:
                    raise CommentError(f"no thread {thread_id} on this map")
                target = root.target
                if root.resolved_at is not None:  # a reply reopens the thread
                    root.resolved_at, root.resolved_by = None, None
                    s.add(CommentRow(workspace_id=self.workspace_id, map_pk=map_pk, thread_id=thread_id,
                                     target=target, author=author, author_email=author_email, body="",
                                     action="reopened"))
            elif known_targets is not None and target not in known_targets:
                raise CommentError(f"'{target}' is not a part of this map (a stage, touchpoint, cell, pain point)")
            row = CommentRow(workspace_id=self.workspace_id, map_pk=map_pk, thread_id=thread_id, target=target,
                             author=author, author_email=author_email, body=body)
            s.add(row)
            s.flush()
            who = self.mentioned(body)
            for m in who:
                s.add(MentionRow(comment_id=row.id, user_id=m.user_id))
            made = Comment(row.id, author, body, row.created_at, [m.email for m in who])
            ref = s.scalar(select(MapRow.ref).where(MapRow.id == map_pk))
        if self.notify is not None:  # the outgoing webhooks
            self.notify("comment.created", {"map": ref, "target": target, "thread": thread_id or made.id,
                                            "comment": made.id, "author": author, "body": body,
                                            "mentions": made.mentions})
        return made

    def threads(self, map_pk: int, labels: dict[str, str]) -> list[Thread]:
        """The map's threads, open ones first, each newest activity first."""
        with self.sessions() as s:
            rows = list(s.scalars(select(CommentRow).where(CommentRow.map_pk == map_pk,
                                                           CommentRow.workspace_id == self.workspace_id)
                                  .order_by(CommentRow.created_at, CommentRow.id)))
            mentions: dict[int, list[str]] = {}
            ids = [r.id for r in rows]
            if ids:
                from journeymap.app.tables import UserRow

                for comment_id, email in s.execute(select(MentionRow.comment_id, UserRow.email)
                                                   .join(UserRow, UserRow.id == MentionRow.user_id)
                                                   .where(MentionRow.comment_id.in_(ids))):
                    mentions.setdefault(comment_id, []).append(email)
        threads: dict[int, Thread] = {}
        for r in rows:
            c = Comment(r.id, r.author, r.body, r.created_at, mentions.get(r.id, []), r.action or "comment")
            if r.thread_id is None:
                threads[r.id] = Thread(r.id, r.target, labels.get(r.target, f"{r.target} (no longer on the map)"),
                                       [c], r.resolved_at, r.resolved_by)
            elif r.thread_id in threads:
                threads[r.thread_id].comments.append(c)
        return sorted(threads.values(), key=lambda t: (t.resolved, -max(c.created_at for c in t.comments).timestamp(),
                                                       -t.id))

    def resolve(self, thread_id: int, *, by: str, reopen: bool = False) -> None:
        with self.sessions.begin() as s:
            root = s.get(CommentRow, thread_id)
            if root is None or root.workspace_id != self.workspace_id or root.thread_id is not None:
                raise CommentError(f"no thread {thread_id}")
            if (root.resolved_at is None) == reopen:
                return  # already so: no second event
            root.resolved_at, root.resolved_by = (None, None) if reopen else (utcnow(), by)
            s.add(CommentRow(workspace_id=self.workspace_id, map_pk=root.map_pk, thread_id=root.id,
                             target=root.target, author=by, body="", action="reopened" if reopen else "resolved"))

    def thread_map(self, thread_id: int) -> int:
        with self.sessions() as s:
            root = s.get(CommentRow, thread_id)
            if root is None or root.workspace_id != self.workspace_id:
                raise CommentError(f"no thread {thread_id}")
            return root.map_pk

    # -- a member's mentions ---------------------------------------------------------------
    def unread(self, email: str) -> int:
        """How many comments mention the member with ``email`` that they have not seen."""
        from sqlalchemy import func

        from journeymap.app.tables import UserRow

        with self.sessions() as s:
            return int(s.scalar(select(func.count(MentionRow.id))
                                .join(CommentRow, CommentRow.id == MentionRow.comment_id)
                                .join(UserRow, UserRow.id == MentionRow.user_id)
                                .where(UserRow.email == email, MentionRow.read_at.is_(None),
                                       CommentRow.workspace_id == self.workspace_id)) or 0)

    def mentions_of(self, user_id: int) -> list[dict[str, Any]]:
        """The comments mentioning a member, newest first, unread ones flagged (reading
        them changes nothing: :meth:`mark_read` does)."""
        with self.sessions() as s:
            rows = s.execute(select(MentionRow, CommentRow, MapRow.ref)
                             .join(CommentRow, CommentRow.id == MentionRow.comment_id)
                             .join(MapRow, MapRow.id == CommentRow.map_pk)
                             .where(MentionRow.user_id == user_id, CommentRow.workspace_id == self.workspace_id)
                             .order_by(CommentRow.created_at.desc())).all()
            out = [{"comment": c.id, "thread": c.thread_id or c.id, "ref": ref, "target": c.target,
                    "author": c.author, "body": c.body, "created_at": c.created_at, "unread": m.read_at is None}
                   for m, c, ref in rows]
        return out

    def mark_read(self, user_id: int, comments: list[int] | None = None) -> int:
        """Mark the member's mentions in ``comments`` (None: all) read; how many were unread."""
        with self.sessions.begin() as s:
            ids = select(CommentRow.id).where(CommentRow.workspace_id == self.workspace_id)
            if comments is not None:
                ids = ids.where(CommentRow.id.in_(comments))
            done = s.execute(update(MentionRow).where(MentionRow.user_id == user_id, MentionRow.read_at.is_(None),
                                                      MentionRow.comment_id.in_(ids)).values(read_at=utcnow()))
            return int(done.rowcount or 0)

    # -- the activity feed -------------------------------------------------------------------
    def activity(self, *, map_pk: int | None = None, limit: int = 50) -> list[Activity]:
        """What happened, newest first: versions, comments and resolutions, ingests."""
        found: list[Activity] = []
        with self.sessions() as s:
            q = select(MapVersion, MapRow.ref).join(MapRow, MapRow.id == MapVersion.map_pk) \
                .where(MapRow.workspace_id == self.workspace_id)
            if map_pk is not None:
                q = q.where(MapVersion.map_pk == map_pk)
            for v, ref in s.execute(q.order_by(MapVersion.created_at.desc()).limit(limit)):
                kind = {"restore": "restored", "disk": "changed_on_disk"}.get(v.source, "saved")
                if v.number == 1:
                    kind = "created"
                what = {"restored": f"restored version {v.restored_from} of {ref} as v{v.number}",
                        "changed_on_disk": f"{ref} changed on disk: v{v.number}",
                        "created": f"created {ref}"}.get(kind, f"saved {ref} v{v.number}")
                found.append(Activity(v.created_at, kind, v.author, what + (f" — {v.message}" if v.message else ""),
                                      ref))
            q = select(CommentRow, MapRow.ref).join(MapRow, MapRow.id == CommentRow.map_pk) \
                .where(CommentRow.workspace_id == self.workspace_id)
            if map_pk is not None:
                q = q.where(CommentRow.map_pk == map_pk)
            for c, ref in s.execute(q.order_by(CommentRow.created_at.desc()).limit(limit)):
                if c.action in ("resolved", "reopened"):
                    found.append(Activity(c.created_at, c.action, c.author,
                                          f"{c.action} a thread on {ref} ({c.target})", ref))
                    continue
                short = c.body if len(c.body) <= 80 else c.body[:79] + "…"
                found.append(Activity(c.created_at, "commented", c.author, f"on {ref} ({c.target}): {short}", ref))
            from journeymap.app.tables import MapReviewRow

            q = select(MapReviewRow, MapRow.ref).join(MapRow, MapRow.id == MapReviewRow.map_pk) \
                .where(MapRow.workspace_id == self.workspace_id, MapReviewRow.reviewed_at.is_not(None))
            if map_pk is not None:
                q = q.where(MapReviewRow.map_pk == map_pk)
            for r, ref in s.execute(q.order_by(MapReviewRow.reviewed_at.desc()).limit(limit)):
                found.append(Activity(r.reviewed_at, "reviewed", r.reviewed_by or "", f"reviewed {ref}", ref))
            from journeymap.app.tables import WorkItemRow

            q = select(WorkItemRow, MapRow.ref).join(MapRow, MapRow.id == WorkItemRow.map_pk) \
                .where(MapRow.workspace_id == self.workspace_id)
            if map_pk is not None:
                q = q.where(WorkItemRow.map_pk == map_pk)
            for w, ref in s.execute(q.order_by(WorkItemRow.created_at.desc()).limit(limit)):
                found.append(Activity(w.created_at, "assigned", w.changed_by,
                                      f"on {ref}: {w.title} — owner {w.owner_email or 'nobody'}, {w.status}"
                                      + (f", {w.link}" if w.link else ""), ref))
            if map_pk is None:
                jobs = s.scalars(select(JobRow).where(JobRow.workspace_id == self.workspace_id,
                                                      JobRow.kind == "ingest", JobRow.status == "done")
                                 .order_by(JobRow.created_at.desc()).limit(limit))
                for j in jobs:
                    r = j.result or {}
                    found.append(Activity(j.finished_at or j.created_at, "ingested", "",
                                          f"loaded {j.target}: {r.get('loaded', 0):,} rows, "
                                          f"{r.get('quarantined', 0):,} quarantined", None))
        return sorted(found, key=lambda a: a.at, reverse=True)[:limit]
