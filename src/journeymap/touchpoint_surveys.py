"""Surveys at touchpoints: who is asked, signed single-use links, answers as feedback.

A map's touchpoint may carry a ``survey`` (CSAT, NPS or CES; optional comment; an
audience rule; at most once per ``every_days``; a ``sample`` share).  It reaches the
customer three ways, and every answer becomes one feedback row — customer, time,
metric, score, touchpoint, comment, and ``{map, via, response}`` in ``extra`` — that
the collector spools durably and its drain loads (ADR 0019):

* **a link** (email, SMS): ``journeymap survey link MAP TOUCHPOINT CUSTOMER`` prints
  ``BASE/s/TOKEN``.  The token carries map, touchpoint, customer, expiry and a random
  nonce, signed with HMAC-SHA256 under the workspace's own secret
  (``collector/survey-secret``, mode 600): changing any part of it breaks the
  signature, so a link cannot be forged.  Its nonce is recorded when the answer is
  taken (``collector/surveys.sqlite``), so it cannot be used twice.
* **the pop-up** (``/survey.js`` on a page of the customer's site): it asks the
  collector whether to ask (:meth:`SurveyDesk.ask`: audience, frequency, sample); a
  yes comes with a link token, and the answer is posted with it — so the pop-up's
  answers are single use too.
* **the API**: ``POST /v1/survey`` with a source's write key and the answer.

The collector never opens the store (ADR 0016), so the audience rule is checked
against the customers as the last drain left them: the drain writes, per survey with
an audience, the customers it selects into ``surveys.sqlite`` (:func:`refresh_audiences`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from journeymap.data.contracts import SCALES
from journeymap.errors import JourneymapError

if TYPE_CHECKING:
    from journeymap.model.document import JourneyMap, Survey, Touchpoint


class Workspace(Protocol):
    """What surveys need of :class:`journeymap.workspace.Workspace`."""

    store: Any

    def resolve_map(self, ref: str) -> Path: ...

    def load_map(self, ref: Any) -> JourneyMap: ...

    def map_paths(self) -> list[Path]: ...

LINK_DAYS = 14
MAX_LINK_DAYS = 365
MAX_COMMENT = 2000
SECRET_FILE = "survey-secret"
BOOK_FILE = "surveys.sqlite"
#: labels of the scale's ends, as the pop-up and the link page show them
SCALE_LABELS = {"csat": ("Very dissatisfied", "Very satisfied"),
                "nps": ("Not at all likely", "Extremely likely"),
                "ces": ("Very difficult", "Very easy")}


class SurveyError(JourneymapError):
    """A survey, link or answer that cannot be taken; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SurveySpec:
    """One touchpoint's survey, as asked."""

    map_id: str
    touchpoint: Touchpoint
    survey: Survey

    def as_json(self) -> dict[str, Any]:
        lo, hi, _ = SCALES[self.survey.metric]
        low, high = SCALE_LABELS[self.survey.metric]
        return {"map": self.map_id, "touchpoint": self.touchpoint.id, "metric": self.survey.metric,
                "question": self.survey.question_for(self.touchpoint.name),
                "scale": [int(lo), int(hi)], "labels": [low, high], "comment": self.survey.comment}


def surveys_of(jmap: JourneyMap) -> list[SurveySpec]:
    """Every survey of a map, in touchpoint order."""
    return [SurveySpec(jmap.id, tp, tp.survey) for tp in jmap.touchpoints if tp.survey is not None]


def find_survey(ws: Workspace, map_ref: str, touchpoint: str) -> SurveySpec:
    """The survey at ``touchpoint`` of map ``map_ref`` (id or path), or a clear error."""
    try:
        jmap = ws.load_map(ws.resolve_map(map_ref))
    except JourneymapError as exc:
        raise SurveyError(str(exc), 404) from None
    tp = next((t for t in jmap.touchpoints if t.id == touchpoint), None)
    if tp is None:
        have = ", ".join(t.id for t in jmap.touchpoints) or "none"
        raise SurveyError(f"map '{jmap.id}' has no touchpoint '{touchpoint}' (have: {have})", 404)
    if tp.survey is None:
        with_survey = ", ".join(s.touchpoint.id for s in surveys_of(jmap)) or "none"
        raise SurveyError(f"touchpoint '{touchpoint}' of map '{jmap.id}' has no survey (add `survey: "
                          f"{{metric: csat}}` to it in the map; touchpoints with one: {with_survey})", 404)
    return SurveySpec(jmap.id, tp, tp.survey)


# -- signed tokens ------------------------------------------------------------------

@dataclass(frozen=True)
class Claims:
    """What a link token says: the survey, the customer, until when, its nonce."""

    map_id: str
    touchpoint: str
    customer: str
    expires: dt.datetime
    nonce: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """HMAC-SHA256 tokens under the workspace's secret (made on first use, mode 600)."""

    def __init__(self, folder: Path):
        self.path = folder / SECRET_FILE
        self._key: bytes | None = None

    def _secret(self) -> bytes:
        if self._key is None:
            if not self.path.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_hex(32))
            self._key = bytes.fromhex(self.path.read_text().strip())
        return self._key

    def make(self, map_id: str, touchpoint: str, customer: str, *, days: float = LINK_DAYS,
             now: dt.datetime | None = None) -> str:
        if not 0 < days <= MAX_LINK_DAYS:
            raise SurveyError(f"a link lasts 1 to {MAX_LINK_DAYS} days (got {days:g})")
        expires = int(((now or dt.datetime.now(dt.UTC)) + dt.timedelta(days=days)).timestamp())
        body = json.dumps({"m": map_id, "t": touchpoint, "c": customer, "e": expires,
                           "n": secrets.token_urlsafe(12)}, separators=(",", ":")).encode()
        return _b64(body) + "." + _b64(hmac.new(self._secret(), body, hashlib.sha256).digest())

    def read(self, token: str, *, now: dt.datetime | None = None) -> Claims:
        """The token's claims; a SurveyError when it is malformed, forged or expired."""
        body_text, _, sig_text = token.partition(".")
        try:
            body, sig = _unb64(body_text), _unb64(sig_text)
        except (ValueError, TypeError):
            raise SurveyError("this is not a survey link", 404) from None
        if not hmac.compare_digest(sig, hmac.new(self._secret(), body, hashlib.sha256).digest()):
            raise SurveyError("this is not a survey link", 404)
        data = json.loads(body)
        expires = dt.datetime.fromtimestamp(int(data["e"]), dt.UTC)
        if expires <= (now or dt.datetime.now(dt.UTC)):
            raise SurveyError("this survey link has expired", 410)
        return Claims(str(data["m"]), str(data["t"]), str(data["c"]), expires, str(data["n"]))


# -- the survey book: used links, asks, audiences ---------------------------------------

_BOOK_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS used (nonce TEXT PRIMARY KEY, used_at TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS asked (customer TEXT NOT NULL, map TEXT NOT NULL, touchpoint TEXT NOT NULL,
        at TEXT NOT NULL, PRIMARY KEY (customer, map, touchpoint))""",
    """CREATE TABLE IF NOT EXISTS audience (map TEXT NOT NULL, touchpoint TEXT NOT NULL, rule TEXT NOT NULL,
        customer TEXT NOT NULL, PRIMARY KEY (map, touchpoint, customer))""",
    """CREATE TABLE IF NOT EXISTS audience_rules (map TEXT NOT NULL, touchpoint TEXT NOT NULL, rule TEXT NOT NULL,
        refreshed_at TEXT NOT NULL, PRIMARY KEY (map, touchpoint))""",
)


class SurveyBook:
    """``collector/surveys.sqlite``: the nonces of links answered, when each customer was
    last asked where, and the audiences of the last drain.  SQLite: durable, and safe
    between the collector and its drain process."""

    def __init__(self, folder: Path):
        self.path = folder / BOOK_FILE
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._db() as db:
            for ddl in _BOOK_SCHEMA:
                db.execute(ddl)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = sqlite3.connect(self.path, timeout=10)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                with db:
                    yield db
            finally:
                db.close()

    def use(self, nonce: str) -> bool:
        """Record a link as answered; False when it was already."""
        try:
            with self._db() as db:
                db.execute("INSERT INTO used VALUES (?, ?)", (nonce, _now_text()))
            return True
        except sqlite3.IntegrityError:
            return False

    def is_open(self, nonce: str) -> bool:
        """The link of ``nonce`` has not been answered."""
        with self._db() as db:
            return db.execute("SELECT 1 FROM used WHERE nonce = ?", (nonce,)).fetchone() is None

    def release(self, nonce: str) -> None:
        """Forget a use whose answer could not be stored (the customer may try again)."""
        with self._db() as db:
            db.execute("DELETE FROM used WHERE nonce = ?", (nonce,))

    def last_asked(self, customer: str, map_id: str, touchpoint: str) -> dt.datetime | None:
        with self._db() as db:
            row = db.execute("SELECT at FROM asked WHERE customer = ? AND map = ? AND touchpoint = ?",
                             (customer, map_id, touchpoint)).fetchone()
        return dt.datetime.fromisoformat(row[0]) if row else None

    def record_ask(self, customer: str, map_id: str, touchpoint: str, at: dt.datetime) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO asked VALUES (?, ?, ?, ?)",
                       (customer, map_id, touchpoint, at.isoformat()))

    def in_audience(self, spec: SurveySpec, customer: str) -> bool | None:
        """Whether the last drain's customers put ``customer`` in the survey's audience;
        None when no drain has selected this audience yet."""
        rule = spec.survey.audience or ""
        with self._db() as db:
            known = db.execute("SELECT 1 FROM audience_rules WHERE map = ? AND touchpoint = ? AND rule = ?",
                               (spec.map_id, spec.touchpoint.id, rule)).fetchone()
            if not known:
                return None
            row = db.execute("SELECT 1 FROM audience WHERE map = ? AND touchpoint = ? AND rule = ? "
                             "AND customer = ?", (spec.map_id, spec.touchpoint.id, rule, customer)).fetchone()
        return row is not None

    def set_audience(self, spec: SurveySpec, customers: list[str]) -> None:
        rule = spec.survey.audience or ""
        with self._db() as db:
            db.execute("DELETE FROM audience WHERE map = ? AND touchpoint = ?", (spec.map_id, spec.touchpoint.id))
            db.executemany("INSERT OR IGNORE INTO audience VALUES (?, ?, ?, ?)",
                           [(spec.map_id, spec.touchpoint.id, rule, c) for c in customers])
            db.execute("INSERT OR REPLACE INTO audience_rules VALUES (?, ?, ?, ?)",
                       (spec.map_id, spec.touchpoint.id, rule, _now_text()))


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def refresh_audiences(ws: Workspace, book: SurveyBook) -> int:
    """Select, for every survey with an audience rule, its customers in the store (the
    drain calls this after loading); how many surveys were refreshed."""
    from journeymap.engine.journeys import customers_matching
    from journeymap.model.rules import RuleError

    con = ws.store.ibis()
    n = 0
    for path in ws.map_paths():
        try:
            jmap = ws.load_map(path)
        except JourneymapError:
            continue
        for spec in surveys_of(jmap):
            if not spec.survey.audience:
                continue
            try:
                ids = customers_matching(con, spec.survey.audience).to_pyarrow().column(0).to_pylist()
            except (RuleError, JourneymapError, Exception):  # noqa: BLE001 - an attribute not loaded yet: nobody
                ids = []
            book.set_audience(spec, [str(i) for i in ids])
            n += 1
    return n


# -- answers ------------------------------------------------------------------------

def check_score(spec: SurveySpec, score: Any) -> float:
    """``score`` on the survey's scale, or a SurveyError saying what is wrong."""
    lo, hi, integer = SCALES[spec.survey.metric]
    try:
        value = float(score)
    except (TypeError, ValueError):
        raise SurveyError(f"score must be a number from {lo:g} to {hi:g} (got {str(score)[:40]!r})") from None
    if not (lo <= value <= hi) or (integer and value != round(value)) or value != value:
        raise SurveyError(f"{spec.survey.metric} score must be {'an integer ' if integer else ''}"
                          f"{lo:g}-{hi:g} (got {value:g})")
    return value


def answer_row(spec: SurveySpec, customer: str, score: Any, comment: Any, *, via: str, response: str,
               at: dt.datetime | None = None) -> dict[str, Any]:
    """One checked answer as a feedback row (what the drain loads)."""
    if not isinstance(customer, str) or not customer.strip():
        raise SurveyError("an answer needs the customer (userId)")
    value = check_score(spec, score)
    text = None
    if comment is not None and str(comment).strip():
        if spec.survey.comment is None:
            raise SurveyError(f"the survey at '{spec.touchpoint.id}' asks for no comment")
        text = str(comment).strip()
        if len(text) > MAX_COMMENT:
            raise SurveyError(f"the comment is over {MAX_COMMENT} characters")
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return {"customer_id": customer.strip(), "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "metric": spec.survey.metric, "score": value, "touchpoint": spec.touchpoint.id,
            "comment": text, "map": spec.map_id, "via": via, "response": response}


class SurveyDesk:
    """What the collector does for surveys: ask, take a link's or an API answer."""

    def __init__(self, ws: Workspace, folder: Path):
        self.ws = ws
        self.signer = Signer(folder)
        self.book = SurveyBook(folder)

    def link(self, map_ref: str, touchpoint: str, customer: str, *, days: float = LINK_DAYS,
             base_url: str = "") -> str:
        """A signed single-use link for ``customer`` to the survey at ``touchpoint``."""
        spec = find_survey(self.ws, map_ref, touchpoint)
        if not customer.strip():
            raise SurveyError("a link needs the customer's id")
        token = self.signer.make(spec.map_id, spec.touchpoint.id, customer.strip(), days=days)
        return f"{base_url.rstrip('/')}/s/{token}"

    def claims(self, token: str) -> tuple[Claims, SurveySpec]:
        claims = self.signer.read(token)
        return claims, find_survey(self.ws, claims.map_id, claims.touchpoint)

    def take_link_answer(self, token: str, score: Any, comment: Any, *, via: str = "link") -> tuple[dict[str, Any], str]:
        """Check a link's answer and claim its nonce: (the feedback row, the nonce to
        :meth:`SurveyBook.release` if the row cannot be stored)."""
        claims, spec = self.claims(token)
        row = answer_row(spec, claims.customer, score, comment, via=via, response=claims.nonce)
        if not self.book.use(claims.nonce):
            raise SurveyError("this survey link has been answered already: thank you", 410)
        return row, claims.nonce

    def ask(self, map_ref: str, touchpoint: str, customer: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
        """Whether to ask ``customer`` now (the pop-up): ``{"ask": true, "survey": ...,
        "token": ...}`` or ``{"ask": false, "reason": ...}``.  A yes is recorded, so the
        customer is not asked again within ``every_days``."""
        spec = find_survey(self.ws, map_ref, touchpoint)
        customer = customer.strip() if isinstance(customer, str) else ""
        if not customer:
            raise SurveyError("ask needs the customer (userId)")
        now = now or dt.datetime.now(dt.UTC)
        survey = spec.survey
        if survey.audience:
            inside = self.book.in_audience(spec, customer)
            if not inside:
                return {"ask": False, "reason": "not in the survey's audience" if inside is False
                        else "the audience is selected at the next drain"}
        last = self.book.last_asked(customer, spec.map_id, spec.touchpoint.id)
        if last is not None and survey.every_days and now - last < dt.timedelta(days=survey.every_days):
            return {"ask": False, "reason": f"asked on {last.date().isoformat()}: at most once per "
                                            f"{survey.every_days} days"}
        if survey.sample < 1:
            period = int(now.timestamp() // (86400 * max(survey.every_days, 1)))
            draw = int.from_bytes(hashlib.sha256(f"{customer}|{spec.map_id}|{spec.touchpoint.id}|{period}"
                                                 .encode()).digest()[:8], "big") / 2**64
            if draw >= survey.sample:
                return {"ask": False, "reason": f"not in the {survey.sample:.0%} sample this time"}
        self.book.record_ask(customer, spec.map_id, spec.touchpoint.id, now)
        token = self.signer.make(spec.map_id, spec.touchpoint.id, customer, days=1, now=now)
        return {"ask": True, "survey": spec.as_json(), "token": token}

    def api_answer(self, body: Any, *, at: dt.datetime | None = None) -> dict[str, Any]:
        """``POST /v1/survey``: {userId, map, touchpoint, score, comment?, messageId?,
        timestamp?} as a feedback row (``response``: the messageId, so a retry is a
        duplicate, not a second answer)."""
        if not isinstance(body, dict):
            raise SurveyError("the body must be a JSON object")
        for key in ("userId", "map", "touchpoint", "score"):
            if body.get(key) in (None, ""):
                raise SurveyError(f"an answer needs '{key}'")
        spec = find_survey(self.ws, str(body["map"]), str(body["touchpoint"]))
        when = at
        if body.get("timestamp") is not None:
            try:
                when = dt.datetime.fromisoformat(str(body["timestamp"]).replace("Z", "+00:00"))
            except ValueError:
                raise SurveyError("timestamp must be ISO 8601") from None
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            if when > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
                raise SurveyError("timestamp is in the future")
        response = str(body.get("messageId") or secrets.token_urlsafe(12))
        return answer_row(spec, str(body["userId"]), body["score"], body.get("comment"), via="api",
                          response=response, at=when)
