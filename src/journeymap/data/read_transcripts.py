"""Transcript files: WebVTT, SRT, plain text and JSON transcript documents.

Each file is one conversation.  Its turns become staging rows with the transcripts
contract columns (``customer_id``, ``timestamp``, ``text``, ``speaker``, ``channel``,
``touchpoint``) plus ``conversation_id`` (default: the file name without extension) and
``offset_seconds``, which ingest keeps in ``extra``.  ``_row`` is the turn's number.

Subtitle-like files carry times relative to the recording's start and no customer, so
the customer id and the start time come from, first to last:

1. options: ``--customer-id C123 --start 2026-05-01T10:00:00Z`` (``TranscriptMeta``);
2. a JSON document's own top-level ``customer_id`` / ``start``;
3. a sidecar ``<file>.meta.json`` (``call.vtt.meta.json``) with the same keys
   (``channel``, ``touchpoint``, ``conversation_id`` too);
4. the file name ``<customer_id>_<start>.<ext>``, start as ``2026-05-01T10-00-00Z`` or
   ``20260501T100000Z`` (``C123_2026-05-01T10-00-00Z.vtt``).

A start without a zone is read in the source's ``timezone`` (default UTC).
Speakers: WebVTT voice tags ``<v Maria>``, or a ``Name:`` prefix on the cue or line.

``_row`` is the turn's number in the file: the cue, the JSON segment, the line of text.
A turn whose value cannot be used is rejected with its field and reason -- a segment
``start`` that is not a time (text, a list, ``true``), one out of range (negative, NaN,
``1e300`` s, a cue at hour 10^12) -- and the other turns load.  A document whose own
metadata cannot be used (an object as ``customer_id``) is a one-line error.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from journeymap.data.staged import Staged
from journeymap.data.store import quote_ident
from journeymap.errors import IngestError

FORMATS = ("vtt", "srt", "text", "json")
SEGMENT_KEYS = ("segments", "turns", "utterances", "messages", "cues", "transcript")
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_CUE = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_SPEAKER = re.compile(r"^\s*([A-Za-z][\w .'-]{0,40}?)\s*:\s+(.*)$", re.S)
_VOICE = re.compile(r"^\s*<v(?:\.[\w.-]+)?\s+([^>]+)>(.*)$", re.S)
_TAG = re.compile(r"</?[^>]+>")
_LINE_TIME = re.compile(r"^\s*\[?((?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?)\]?\s+(.*)$", re.S)
_NAME = re.compile(r"^(?P<customer>.+)_(?P<start>\d{4}-?\d{2}-?\d{2}T\d{2}-?\d{2}-?\d{2}(?:Z|[+-]\d{2}-?\d{2})?)$")


@dataclass(frozen=True)
class TranscriptMeta:
    """What a transcript file may not say itself; options given at ingest."""

    customer_id: str | None = None
    start: str | None = None  # ISO 8601 time the recording started
    channel: str | None = None
    touchpoint: str | None = None
    conversation_id: str | None = None


@dataclass
class Turn:
    text: str
    speaker: str | None = None
    offset: float | None = None  # seconds from the start
    timestamp: str | None = None  # absolute, as given (JSON documents only)
    row: int = 0  # its number in the file (cue, segment, line)
    raw: str = ""  # the source of the turn, as JSON text (for the quarantine)
    time_field: str | None = None  # the key its offset came from (JSON documents)


@dataclass
class Parsed:
    turns: list[Turn] = field(default_factory=list)
    # (_row, field, reason, raw)
    rejects: list[tuple[int, str | None, str, str]] = field(default_factory=list)
    meta: TranscriptMeta = field(default_factory=TranscriptMeta)


class _Unusable(ValueError):
    """A value of the wrong type or out of range: its field and the reason."""

    def __init__(self, field_name: str | None, reason: str):
        super().__init__(reason)
        self.field, self.reason = field_name, reason


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    return "a number" if isinstance(value, (int, float)) else "text"


def _as_text(value: object, key: str) -> str | None:
    """A JSON scalar as text (numbers as JSON writes them); an object or list is unusable."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    raise _Unusable(key, f"wrong type: {_json_type(value)} where text is expected")


def _as_seconds(value: object, key: str) -> float | None:
    """A segment's start: seconds (a number) or a clock (``"1:02.5"``)."""
    if value is None or value == "":
        return None
    if isinstance(value, (bool, dict, list)):
        raise _Unusable(key, f"wrong type: {_json_type(value)} where a time is expected")
    try:
        seconds = _clock(value) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise _Unusable(key, "unreadable start time") from exc
    except OverflowError as exc:  # an integer too big for a float
        raise _Unusable(key, "start time out of range") from exc
    if math.isnan(seconds):
        raise _Unusable(key, "unreadable start time")
    return seconds


def _meta(doc: dict[str, Any], path: Path, what: str) -> TranscriptMeta:
    """The metadata keys of a document or sidecar; an object or list there is an error."""
    values: dict[str, str] = {}
    for k in TranscriptMeta.__dataclass_fields__:
        try:
            text = _as_text(doc.get(k), k)
        except _Unusable as exc:
            raise IngestError(f"{what} '{k}': {exc.reason}", file=str(path)) from exc
        if text is not None:
            values[k] = text
    return TranscriptMeta(**values)


def load_json(text: str) -> Any:
    """``json.loads``, or None when ``text`` is not JSON (or nests too deep to read)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def transcript_format(path: Path, fmt: str | None) -> str | None:
    """The transcript format of ``path`` (None: read it as a table of turns)."""
    if fmt in ("vtt", "srt", "text"):
        return fmt
    if fmt is not None:
        return None
    suffix = path.suffix.lower()
    if suffix in (".vtt", ".srt"):
        return suffix[1:]
    if suffix == ".txt" and path.is_file():
        first = path.read_text(encoding="utf-8", errors="replace").lstrip("\ufeff").split("\n", 1)[0]
        cells = [c.strip().strip('"').lower() for c in re.split(r"[,\t;]", first)]
        return None if "text" in cells and len(cells) > 1 else "text"
    if suffix == ".json" and path.is_file():
        try:
            doc = load_json(path.read_text(encoding="utf-8"))
        except ValueError:  # not UTF-8
            return None
        if isinstance(doc, dict) and any(isinstance(doc.get(k), list) for k in SEGMENT_KEYS):
            return "json"
    return None


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def _clock(value: str) -> float:
    parts = re.split(r"[:]", value.replace(",", "."))
    total = 0.0
    for p in parts:
        total = total * 60 + float(p)
    return total


def _speaker(text: str) -> tuple[str | None, str]:
    voice = _VOICE.match(text)
    if voice:
        return voice.group(1).strip(), _TAG.sub("", voice.group(2)).strip()
    text = _TAG.sub("", text).strip()
    named = _SPEAKER.match(text)
    if named:
        return named.group(1).strip(), named.group(2).strip()
    return None, text


def parse_cues(content: str, fmt: str) -> Parsed:
    """WebVTT or SRT: blocks separated by blank lines, each with a timing line."""
    out = Parsed()
    blocks = re.split(r"\n\s*\n", content.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    number = 0
    for block in blocks:
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if not lines:
            continue
        head = lines[0].strip()
        if fmt == "vtt" and (head.startswith("WEBVTT") or head.startswith(("NOTE", "STYLE", "REGION"))):
            continue
        number += 1
        timing = next((i for i, ln in enumerate(lines[:3]) if "-->" in ln), None)
        match = _CUE.match(lines[timing]) if timing is not None else None
        if match is None:
            out.rejects.append((number, None, "unreadable cue timing", json.dumps(block.strip())))
            continue
        g = match.groups()
        speaker, text = _speaker(" ".join(ln.strip() for ln in lines[timing + 1:]))
        if not text:
            continue
        out.turns.append(Turn(text, speaker, _seconds(*g[:4]), row=number,
                              raw=json.dumps(block.strip())))
    return out


def parse_text(content: str) -> Parsed:
    """Plain text: ``[00:01:05] Name: text`` per line; time and name optional, a line
    with neither continues the turn before it."""
    out = Parsed()
    for number, line in enumerate(content.replace("\r\n", "\n").lstrip("\ufeff").split("\n"), 1):
        if not line.strip():
            continue
        source, offset = json.dumps(line), None
        timed = _LINE_TIME.match(line)
        if timed:
            offset, line = _clock(timed.group(1)), timed.group(2)
        speaker, text = _speaker(line)
        if speaker is None and offset is None and out.turns:
            out.turns[-1].text += " " + text
            continue
        out.turns.append(Turn(text, speaker, offset, row=number, raw=source))
    return out


def _first_key(item: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((k for k in keys if item.get(k) is not None and item.get(k) != ""), None)


def parse_json(doc: dict[str, Any], path: Path) -> Parsed:
    """A transcript document: top-level metadata and a list of segments."""
    out = Parsed(meta=_meta(doc, path, "the document's"))
    items = next(doc[k] for k in SEGMENT_KEYS if isinstance(doc.get(k), list))
    for i, item in enumerate(items, 1):
        raw = json.dumps(item)
        if not isinstance(item, dict):
            out.rejects.append((i, None, "not a JSON object", raw))
            continue
        text_key = _first_key(item, ("text", "content", "transcript")) or "text"
        speaker_key = _first_key(item, ("speaker", "role", "name"))
        start_key = _first_key(item, ("start", "offset", "start_time"))
        stamp_key = _first_key(item, ("timestamp", "time"))
        try:
            text = _as_text(item.get(text_key), text_key)
            speaker = _as_text(item[speaker_key], speaker_key) if speaker_key else None
            offset = _as_seconds(item[start_key], start_key) if start_key else None
            stamp = _as_text(item[stamp_key], stamp_key) if stamp_key else None
        except _Unusable as bad:
            out.rejects.append((i, bad.field, bad.reason, raw))
            continue
        if text is None or not text.strip():
            out.rejects.append((i, "text", "missing required value", raw))
            continue
        out.turns.append(Turn(text.strip(), speaker, offset, stamp, row=i, raw=raw,
                              time_field=start_key))
    return out


def resolve_meta(path: Path, given: TranscriptMeta | None, own: TranscriptMeta) -> TranscriptMeta:
    """Options, then the document's own fields, then a sidecar, then the file name."""
    layers = [given or TranscriptMeta(), own]
    sidecar = path.with_name(path.name + ".meta.json")
    if sidecar.is_file():
        try:
            doc = load_json(sidecar.read_text(encoding="utf-8"))
        except ValueError:  # not UTF-8
            doc = None
        if not isinstance(doc, dict):
            raise IngestError(f"sidecar {sidecar.name} is not a JSON object", file=str(path))
        layers.append(_meta(doc, path, f"sidecar {sidecar.name}"))
    named = _NAME.match(path.name.split(".")[0])
    if named:
        start = named.group("start")
        date, _, time = start.partition("T")
        date = date if "-" in date else f"{date[:4]}-{date[4:6]}-{date[6:]}"
        zone = re.search(r"(Z|[+-]\d{2}-?\d{2})$", time)
        clock = time[: zone.start()] if zone else time
        clock = clock.replace("-", ":") if "-" in clock else f"{clock[:2]}:{clock[2:4]}:{clock[4:]}"
        suffix = zone.group(1).replace("-", ":") if zone and zone.group(1) != "Z" else (zone.group(1) if zone else "")
        if suffix and suffix[0] in "+-" and len(suffix) == 5:
            suffix = suffix[:3] + ":" + suffix[3:]
        layers.append(TranscriptMeta(customer_id=named.group("customer"), start=f"{date}T{clock}{suffix}"))
    out = TranscriptMeta()
    for layer in reversed(layers):
        out = replace(out, **{k: v for k, v in vars(layer).items() if v is not None})
    return replace(out, conversation_id=out.conversation_id or path.name.split(".")[0])


def _stamp(start: dt.datetime | None, turn: Turn) -> str | None:
    """The turn's time as ISO text; :class:`_Unusable` when its offset is out of range
    (negative, infinite, or past what a date can hold)."""
    if turn.timestamp is not None:
        return turn.timestamp
    if start is None:
        return None
    offset = turn.offset or 0.0
    try:
        if not 0 <= offset < math.inf:
            raise OverflowError(offset)
        when = start + dt.timedelta(seconds=offset)
    except OverflowError as exc:
        raise _Unusable(turn.time_field, "start time out of range") from exc
    text = when.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def read_transcript(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, stage: str,
                    meta: TranscriptMeta | None) -> Staged:
    """Read one transcript file into staging table ``stage`` (and its rejects)."""
    import pyarrow as pa  # here, not at import: ingesting events does not need it (0.13 s)

    if not path.is_file():
        raise IngestError("no such file", file=str(path))
    raw = path.read_bytes()
    if not raw.strip():
        raise IngestError("file is empty", file=str(path))
    content = raw.decode("utf-8", errors="replace")
    if fmt == "json":
        doc = load_json(content)
        if not isinstance(doc, dict) or not any(isinstance(doc.get(k), list) for k in SEGMENT_KEYS):
            raise IngestError("not a JSON transcript document (an object with a list of "
                              f"{', '.join(SEGMENT_KEYS)})", file=str(path))
        parsed = parse_json(doc, path)
    elif fmt == "text":
        parsed = parse_text(content)
    else:
        parsed = parse_cues(content, fmt)
    info = resolve_meta(path, meta, parsed.meta)
    needs_start = any(t.timestamp is None for t in parsed.turns)
    if info.customer_id is None or (needs_start and info.start is None):
        missing = "customer id" if info.customer_id is None else "start time"
        raise IngestError(f"no {missing} for this transcript: pass --customer-id and --start, "
                          f"add {path.name}.meta.json, or name it CUSTOMER_2026-05-01T10-00-00Z{path.suffix}",
                          file=str(path))
    start = None
    if info.start is not None:
        try:
            start = dt.datetime.fromisoformat(info.start.replace("Z", "+00:00"))
        except ValueError as exc:
            raise IngestError(f"unreadable start time {info.start!r} (use ISO 8601)", file=str(path)) from exc
    turns, stamps = [], []
    for turn in parsed.turns:
        try:
            stamps.append(_stamp(start, turn))
        except _Unusable as bad:
            parsed.rejects.append((turn.row, bad.field, bad.reason, turn.raw))
            continue
        turns.append(turn)
    parsed.turns = turns
    parsed.rejects.sort(key=lambda r: r[0])
    n = len(parsed.turns)
    table = pa.table({
        "customer_id": pa.array([info.customer_id] * n, pa.string()),
        "timestamp": pa.array(stamps, pa.string()),
        "text": pa.array([t.text for t in parsed.turns], pa.string()),
        "speaker": pa.array([t.speaker for t in parsed.turns], pa.string()),
        "channel": pa.array([info.channel] * n, pa.string()),
        "touchpoint": pa.array([info.touchpoint] * n, pa.string()),
        "conversation_id": pa.array([info.conversation_id] * n, pa.string()),
        "offset_seconds": pa.array([None if t.offset is None else f"{t.offset:g}" for t in parsed.turns],
                                   pa.string()),
        "_row": pa.array([t.row for t in parsed.turns], pa.int64()),
        "_file": pa.array([str(path)] * n, pa.string()),
    })
    rejects = pa.table({"_row": pa.array([r[0] for r in parsed.rejects], pa.int64()),
                        "reason": pa.array([r[2] for r in parsed.rejects], pa.string()),
                        "raw": pa.array([r[3] for r in parsed.rejects], pa.string()),
                        "field": pa.array([r[1] for r in parsed.rejects], pa.string())})
    staged = Staged(str(path), stage, f"{stage}_rejects", [c for c in table.column_names
                                                         if not c.startswith("_")], fmt)
    for name, data in ((staged.table, table), (staged.rejects, rejects)):
        con.register("_jm_transcript", data)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS "
                        "SELECT * FROM _jm_transcript")
        finally:
            con.unregister("_jm_transcript")
    if not parsed.turns:
        staged.notes.append(f"{path.name}: no turns")
    return staged
