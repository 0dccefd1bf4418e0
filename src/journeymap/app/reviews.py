"""Map ownership and review: each map has an owner (a member) and a review interval
(default 90 days); "mark reviewed" records who and when, and the stage numbers the
reviewer saw.  A map is **stale** when its review is overdue (from its creation if never
reviewed), or when its data moved markedly since the review: a stage's reach or
conversion to the next now outside the 95 % interval of its value then
(:func:`journeymap.reports.review_drift`).  The reason is said in words, in the maps list,
on the map and in the activity feed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from journeymap.app.library import MapSummary
from journeymap.app.security import Principal, authorize
from journeymap.app.state import AppState, state_of
from journeymap.app.tables import MapReviewRow, MapVersion, utcnow
from journeymap.app.rendering import go
from journeymap.app.responses import API_ERRORS
from journeymap.errors import JourneymapError
from journeymap.reports import review_drift, stage_snapshot

DEFAULT_INTERVAL = 90
router = APIRouter(dependencies=[Depends(authorize)], include_in_schema=False)
api = APIRouter(prefix="/api", dependencies=[Depends(authorize)], tags=["reviews"], responses=API_ERRORS)


@dataclass
class Review:
    owner: str | None
    interval_days: int
    reviewed_at: dt.datetime | None
    reviewed_by: str | None
    due: dt.datetime
    reasons: list[str] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return bool(self.reasons)

    def as_json(self) -> dict[str, Any]:
        iso = lambda d: d.isoformat() + "Z" if d else None  # noqa: E731
        return {"owner": self.owner, "interval_days": self.interval_days, "reviewed_at": iso(self.reviewed_at),
                "reviewed_by": self.reviewed_by, "due": iso(self.due), "stale": self.stale, "reasons": self.reasons}


def review_of(st: AppState, summary: MapSummary, analysis: dict[str, Any] | None) -> Review:
    """The map's owner, interval, last review and why it is stale (if it is)."""
    with st.library.sessions() as s:
        rows = list(s.scalars(select(MapReviewRow).where(MapReviewRow.map_pk == summary.row.id)
                              .order_by(MapReviewRow.created_at.desc(), MapReviewRow.id.desc())))
        first = s.scalar(select(MapVersion.created_at).where(MapVersion.map_pk == summary.row.id)
                         .order_by(MapVersion.number).limit(1))
    setting = rows[0] if rows else None
    last = next((r for r in rows if r.reviewed_at is not None), None)
    interval = setting.interval_days if setting else DEFAULT_INTERVAL
    since = last.reviewed_at if last else (first or utcnow())
    due = since + dt.timedelta(days=interval)
    review = Review(setting.owner_email if setting else None, interval, last.reviewed_at if last else None,
                    last.reviewed_by if last else None, due)
    if utcnow() > due:
        review.reasons.append(f"review due since {due:%Y-%m-%d} ({'last reviewed ' + f'{since:%Y-%m-%d}' if last else 'never reviewed'}, every {interval} days)")
    if last is not None and last.snapshot and analysis:
        review.reasons += review_drift(last.snapshot, analysis)
    return review


def _settings(st: AppState, summary: MapSummary, owner: str | None, interval_days: int | None) -> None:
    current = review_of(st, summary, None)
    if owner:
        members = {m.email for m in st.accounts.members()}
        if members and owner.strip().lower() not in members:
            raise JourneymapError(f"owner: {owner} is not a member of this workspace")
    interval = interval_days if interval_days is not None else current.interval_days
    if not 1 <= interval <= 3650:
        raise JourneymapError("interval: a review interval is 1 to 3650 days")
    with st.library.sessions.begin() as s:
        s.add(MapReviewRow(map_pk=summary.row.id, owner_email=(owner or "").strip().lower() or current.owner,
                           interval_days=interval))


def mark_reviewed(st: AppState, ref: str, by: str) -> Review:
    summary = st.library.get(ref)
    cached, _ = st.jobs.analysis_for(ref, start=False)
    current = review_of(st, summary, None)
    with st.library.sessions.begin() as s:
        s.add(MapReviewRow(map_pk=summary.row.id, owner_email=current.owner, interval_days=current.interval_days,
                           reviewed_by=by, reviewed_at=utcnow(),
                           snapshot=stage_snapshot(cached.result) if cached else None))
    review = review_of(st, summary, cached.result if cached else None)
    if st.webhooks is not None:
        st.webhooks.send("map.reviewed", {"map": ref, "review": review.as_json()})
    return review


@router.post("/maps/{ref}/review")
def settings_submit(request: Request, ref: str, owner: str = Form(""), interval_days: str = Form("")) -> Response:
    st = state_of(request)
    try:
        days = int(interval_days) if interval_days.strip() else None
    except ValueError:
        raise JourneymapError(f"interval: '{interval_days}' is not a number of days") from None
    _settings(st, st.library.get(ref), owner or None, days)
    return go(request, f"/maps/{ref}", 303)


@router.post("/maps/{ref}/reviewed")
def reviewed_submit(request: Request, ref: str, who: Principal = Depends(authorize)) -> Response:
    mark_reviewed(state_of(request), ref, who.email or who.name)
    return go(request, f"/maps/{ref}", 303)


class ReviewSettings(BaseModel):
    owner: str | None = Field(default=None, description="a member's email")
    interval_days: int | None = Field(default=None, ge=1, le=3650)


@api.get("/maps/{ref}/review")
def get_review(request: Request, ref: str) -> dict[str, Any]:
    st = state_of(request)
    cached, _ = st.jobs.analysis_for(ref, start=False)
    return review_of(st, st.library.get(ref), cached.result if cached else None).as_json()


@api.put("/maps/{ref}/review")
def put_review(request: Request, ref: str, body: ReviewSettings) -> dict[str, Any]:
    st = state_of(request)
    _settings(st, st.library.get(ref), body.owner, body.interval_days)
    return get_review(request, ref)


@api.post("/maps/{ref}/reviewed")
def post_reviewed(request: Request, ref: str, who: Principal = Depends(authorize)) -> dict[str, Any]:
    return mark_reviewed(state_of(request), ref, who.email or who.name).as_json()


def stale_activity(st: AppState, ref: str | None = None) -> list[Any]:
    """A feed entry per stale map (or for ``ref``): when it became due, or now if its
    data moved, with the reasons — so the feed says what the maps list flags."""
    from journeymap.app.comments import Activity

    out = []
    for m in ([st.library.get(ref)] if ref else st.library.maps()):
        cached, _ = st.jobs.analysis_for(m.row.ref, start=False)
        review = review_of(st, m, cached.result if cached else None)
        if review.stale:
            at = review.due if utcnow() > review.due else utcnow()
            out.append(Activity(at, "stale", review.owner or "", f"{m.row.ref} is stale: {'; '.join(review.reasons)}",
                                m.row.ref))
    return out


def alert_activity(st: AppState, ref: str | None = None) -> list[Any]:
    """A feed entry per alert of each map's latest analysis (a KPI that decayed, a goal
    off track), dated when that analysis was made."""
    from journeymap.app.comments import Activity
    from journeymap.app.jobs import alerts_of

    out = []
    for m in ([st.library.get(ref)] if ref else st.library.maps()):
        cached, _ = st.jobs.analysis_for(m.row.ref, start=False)
        for a in alerts_of(cached.result if cached else None):
            out.append(Activity(cached.created_at or utcnow(), "alert", "journeymap",  # type: ignore[union-attr]
                                f"{m.row.ref}: {a.get('text')}", m.row.ref))
    return out


def feed(st: AppState, ref: str | None = None, limit: int = 50) -> list[Any]:
    """The activity feed (of the workspace, or of ``ref``) with the stale flags and the
    alerts in it."""
    map_pk = st.library.get(ref).row.id if ref else None
    found = st.comments.activity(map_pk=map_pk, limit=limit) + stale_activity(st, ref) + alert_activity(st, ref)
    return sorted(found, key=lambda a: a.at, reverse=True)[:limit]
