"""The event collector's service: write keys, checking calls, the durable spool, and
the drain into the store (the HTTP side is :mod:`journeymap.app.collector_app`).

A call is acknowledged only once it is fsync'd in the spool (:mod:`journeymap.data.spool`);
the store is written by the drain alone — DuckDB has one writer — which loads sealed
spool segments through the Segment reader like any Segment export, so a retried or
replayed call (same ``messageId``) is stored once.  Refused calls go to a spool of
their own with the reason, and the drain writes them to the quarantine.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from journeymap.data.segment_calls import MAX_BATCH_BYTES, MAX_CALL_BYTES, Checked, check_call, utc_text
from journeymap.data.spool import Spool, SpoolReader
from journeymap.errors import IngestError, JourneymapError

if TYPE_CHECKING:
    from journeymap.touchpoint_surveys import SurveyDesk


class Workspace(Protocol):
    """What the collector needs of :class:`journeymap.workspace.Workspace` (which makes it)."""

    root: Path

    def ingest(self, kind: str, files: Any, *, fmt: str | None = None) -> Any: ...

    def store_refused(self, rows: Any, files: Any) -> int: ...

    def compact(self, *, if_due: bool = False) -> tuple[str, int]: ...

#: the collector's folder in a workspace
FOLDER = "collector"
KEYS_FILE = "keys.json"
#: the endpoints (path under /v1 -> the call type it takes; None: the batch's calls say)
ENDPOINTS = {"track": "track", "identify": "identify", "page": "page", "screen": "screen", "batch": None}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class WriteKeys:
    """Write keys per source, stored as SHA-256 in ``collector/keys.json``."""

    def __init__(self, folder: Path):
        self.path = folder / KEYS_FILE
        self._by_digest: dict[str, str] = {}
        self._mtime = -1.0
        self._lock = threading.Lock()

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise JourneymapError(f"{self.path}: not a keys file ({exc})") from None
        return {str(k): str(v) for k, v in data.items()}

    def _save(self, keys: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(keys, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def add(self, source: str) -> str:
        """A new write key for ``source`` (replacing its old one); shown once, stored hashed."""
        if not source or not source.replace("-", "").replace("_", "").isalnum() or len(source) > 64:
            raise JourneymapError(f"source '{source}': use letters, digits, - and _ (at most 64)")
        key = "jmw_" + secrets.token_urlsafe(24)
        keys = self._load()
        keys[source] = _digest(key)
        self._save(keys)
        return key

    def remove(self, source: str) -> None:
        keys = self._load()
        if source not in keys:
            raise JourneymapError(f"source '{source}': no such source (have: {', '.join(keys) or 'none'})")
        del keys[source]
        self._save(keys)

    def sources(self) -> list[str]:
        return sorted(self._load())

    def source_of(self, key: str) -> str | None:
        """The source a write key belongs to (the file is re-read when it changes)."""
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime
            except FileNotFoundError:
                mtime = 0.0
            if mtime != self._mtime:
                self._by_digest = {d: s for s, d in self._load().items()}
                self._mtime = mtime
            found = self._by_digest.get(_digest(key))
        return found


@dataclass
class RateLimiter:
    """Calls per second per source, as a token bucket (``burst`` calls at once)."""

    rate: float
    burst: float
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, source: str, calls: int) -> float:
        """0 when ``calls`` may go now (taken), else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(source, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= calls or (calls > self.burst and tokens >= self.burst):
                self._buckets[source] = (tokens - calls, now)
                return 0.0
            self._buckets[source] = (tokens, now)
            return (min(calls, self.burst) - tokens) / self.rate


@dataclass
class Received:
    """What one request gave: the accepted calls, the refused ones with reasons, and the
    future that is done when both are on disk."""

    accepted: int
    refused: list[dict[str, Any]]
    stored: Future[None]


@dataclass
class DrainReport:
    files: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    to_customers: int = 0
    refused: int = 0
    answers: int = 0     # survey answers loaded into feedback
    compacted: int = 0   # events of the log merged into one piece after the drain
    notes: list[str] = field(default_factory=list)


class Collector:
    """The collector of one workspace (see the module doc)."""

    def __init__(self, workspace: Workspace, *, writer: bool = True, rate: float = 0.0, burst: float = 5_000,
                 max_pending_bytes: int = 1 << 30):
        """``writer``: this process receives calls (it holds the spools' writer lock);
        else it only drains — the store's writer, in a process of its own, so that a
        collector killed at any moment never has the store open (docs/collector.md)."""
        self.workspace = workspace
        self.folder = workspace.root / FOLDER
        self.keys = WriteKeys(self.folder)
        self.writer = writer
        self.calls: Any = Spool(self.folder / "calls") if writer else SpoolReader(self.folder / "calls")
        self.rejected: Any = Spool(self.folder / "refused") if writer else SpoolReader(self.folder / "refused")
        # survey answers (journeymap.touchpoint_surveys): feedback rows, loaded by the drain
        self.answers: Any = Spool(self.folder / "answers") if writer else SpoolReader(self.folder / "answers")
        self._surveys: SurveyDesk | None = None
        self._audiences_fresh = False
        self.limiter = RateLimiter(rate, burst)
        self.max_pending_bytes = max_pending_bytes
        self._pending = self.calls.pending_bytes()
        self._drain_lock = threading.Lock()

    # -- receiving ------------------------------------------------------------
    def receive(self, body: Any, endpoint: str, source: str, *, received_at: dt.datetime | None = None) -> Received:
        """Check the calls of one request (the parsed JSON ``body`` of ``/v1/ENDPOINT``) and
        submit them to the spools; the caller waits on ``stored`` before answering."""
        now = received_at or dt.datetime.now(dt.UTC)
        kind = ENDPOINTS[endpoint]
        if kind is None:
            items = body.get("batch") if isinstance(body, dict) else None
            if not isinstance(items, list):
                items = [body]
                checked = [Checked({"raw": body}, "a batch needs a 'batch' list of calls")]
            else:
                sent = body.get("sentAt")
                checked = [_too_big(c) or check_call(c, received_at=now, sent_at=sent, source=source) for c in items]
        else:
            checked = [check_call(body, received_at=now, kind=kind, source=source)]
        good = [json.dumps(c.call, separators=(",", ":"), ensure_ascii=False).encode() for c in checked if c.ok]
        refused = [{"index": i, "reason": c.reason} for i, c in enumerate(checked) if not c.ok]
        bad = [json.dumps({"reason": c.reason, "source": source, "endpoint": endpoint, "receivedAt": utc_text(now),
                           "call": c.call}, separators=(",", ":"), ensure_ascii=False, default=str).encode()
               for c in checked if not c.ok]
        futures = ([self.calls.submit(good)] if good else []) + ([self.rejected.submit(bad)] if bad else [])
        return Received(len(good), refused, _all(futures))

    @property
    def surveys(self) -> SurveyDesk:
        """Surveys at touchpoints: links, the pop-up's ask, answers (ADR 0019)."""
        if self._surveys is None:
            from journeymap.touchpoint_surveys import SurveyDesk

            self._surveys = SurveyDesk(self.workspace, self.folder)
        return self._surveys

    def submit_answer(self, row: dict[str, Any]) -> Future[None]:
        """Spool one checked survey answer (a feedback row); done once it is fsync'd."""
        return self.answers.submit([json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode()])

    def refuse(self, body: Any, endpoint: str, source: str, reason: str) -> Future[None]:
        """Keep a refused request raw with its reason (the drain quarantines it)."""
        line = json.dumps({"reason": reason, "source": source, "endpoint": endpoint,
                           "receivedAt": utc_text(dt.datetime.now(dt.UTC)), "call": body},
                          separators=(",", ":"), ensure_ascii=False, default=str).encode()
        return self.rejected.submit([line])

    def overloaded(self) -> bool:
        """More than ``max_pending_bytes`` wait for the drain (as last counted by
        :meth:`seal`): refuse (503) rather than grow."""
        return self._pending > self.max_pending_bytes

    def seal(self) -> bool:
        """Seal the open segments so a drain can take them; whether any wait for it."""
        if self.writer:
            self.calls.seal()
            self.rejected.seal()
            self.answers.seal()
        self._pending = self.calls.pending_bytes()
        return bool(self.calls.sealed() or self.rejected.sealed() or self.answers.sealed())

    # -- draining -------------------------------------------------------------
    def drain(self) -> DrainReport:
        """Load every sealed segment into the store (the store's one writer), quarantine
        the refused calls, then delete what was committed."""
        with self._drain_lock, _flock(self.folder / ".drain.lock"):  # one drain at a time, across processes
            spools = (self.calls, self.rejected, self.answers)
            for spool in spools:
                if self.writer:
                    spool.seal()
                else:  # segments a killed collector left open: sealed, unless it is alive again
                    spool.recover_orphaned()
            files, refused, answers = self.calls.sealed(), self.rejected.sealed(), self.answers.sealed()
            report = DrainReport(files=len(files) + len(refused) + len(answers))
            if files:
                try:
                    r = self.workspace.ingest("events", files, fmt="segment")
                    report.loaded, report.duplicates = r.loaded, r.duplicates
                    report.quarantined, report.to_customers = r.quarantined, r.to_customers
                    report.notes += r.notes
                except IngestError as exc:
                    if not str(exc).split(": ", 1)[-1].startswith(NOTHING_NEW):
                        raise  # not stored: the segments stay for the next drain
                    report.notes.append(str(exc))  # committed; nothing new in them
            if answers:
                try:
                    a = self.workspace.ingest("feedback", answers, fmt="jsonl")
                    report.answers, report.quarantined = a.loaded, report.quarantined + a.quarantined
                    report.duplicates += a.duplicates
                except IngestError as exc:
                    if not str(exc).split(": ", 1)[-1].startswith(NOTHING_NEW):
                        raise
                    report.notes.append(str(exc))
            if refused:
                report.refused = self.workspace.store_refused(_refused_rows(refused), [str(p) for p in refused])
            self.calls.done(files)
            self.rejected.done(refused)
            self.answers.done(answers)
            if not self._audiences_fresh or report.to_customers:  # who each survey asks
                from journeymap.touchpoint_surveys import refresh_audiences

                refresh_audiences(self.workspace, self.surveys.book)
                self._audiences_fresh = True
            self._pending = self.calls.pending_bytes()
            if files:  # the appended pieces merged once they have grown (ADR 0018)
                report.compacted = self.workspace.compact(if_due=True)[1]
            return report

    def close(self) -> None:
        if self.writer:
            self.calls.close()
            self.rejected.close()
            self.answers.close()


#: what ingest says after committing a load that added nothing (only identify calls, say)
NOTHING_NEW = ("nothing loaded", "no data rows")


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _too_big(call: Any) -> Checked | None:
    """A call of a batch over Segment's 32 KB for one call: refused (and kept)."""
    size = len(json.dumps(call, separators=(",", ":"), ensure_ascii=False, default=str).encode())
    if size <= MAX_CALL_BYTES:
        return None
    what = call.get("messageId") if isinstance(call, dict) else None
    return Checked(call, f"call{f' (messageId {what})' if isinstance(what, str) else ''} is {size // 1024} KB, "
                         f"over the {MAX_CALL_BYTES // 1024} KB limit of one call")


def _refused_rows(paths: Iterable[Path]) -> list[tuple[str, str | None, str, str]]:
    """(file, field, reason, raw call) of each refused call."""
    out = []
    for path in paths:
        for line in path.read_bytes().splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            raw = json.dumps(rec.get("call"), separators=(",", ":"), ensure_ascii=False, default=str)
            out.append((f"collector:{rec.get('source')}/v1/{rec.get('endpoint')}", None, str(rec["reason"]), raw))
    return out


def _all(futures: list[Future[None]]) -> Future[None]:
    done: Future[None] = Future()
    if not futures:
        done.set_result(None)
        return done
    left = [len(futures)]
    lock = threading.Lock()

    def one(f: Future[None]) -> None:
        with lock:
            if done.done():
                return
            if f.exception() is not None:
                done.set_exception(f.exception())  # type: ignore[arg-type]
                return
            left[0] -= 1
            if left[0] == 0:
                done.set_result(None)

    for f in futures:
        f.add_done_callback(one)
    return done


__all__ = ["ENDPOINTS", "MAX_BATCH_BYTES", "MAX_CALL_BYTES", "Collector", "DrainReport", "WriteKeys"]
