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
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from journeymap.data.readers import Staged
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


@dataclass
class Parsed:
    turns: list[Turn] = field(default_factory=list)
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (_row, reason, raw)
    meta: TranscriptMeta = field(default_factory=TranscriptMeta)


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
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
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
            out.rejects.append((number, "unreadable cue timing", json.dumps(block.strip())))
            continue
        g = match.groups()
        speaker, text = _speaker(" ".join(ln.strip() for ln in lines[timing + 1:]))
        if not text:
            continue
        out.turns.append(Turn(text, speaker, _seconds(*g[:4])))
    return out


def parse_text(content: str) -> Parsed:
    """Plain text: ``[00:01:05] Name: text`` per line; time and name optional, a line
    with neither continues the turn before it."""
    out = Parsed()
    for line in content.replace("\r\n", "\n").lstrip("\ufeff").split("\n"):
        if not line.strip():
            continue
        offset = None
        timed = _LINE_TIME.match(line)
        if timed:
            offset, line = _clock(timed.group(1)), timed.group(2)
        speaker, text = _speaker(line)
        if speaker is None and offset is None and out.turns:
            out.turns[-1].text += " " + text
            continue
        out.turns.append(Turn(text, speaker, offset))
    return out


def parse_json(doc: dict[str, Any]) -> Parsed:
    """A transcript document: top-level metadata and a list of segments."""
    out = Parsed(meta=TranscriptMeta(**{k: str(doc[k]) for k in TranscriptMeta.__dataclass_fields__
                                        if doc.get(k) is not None}))
    items = next(doc[k] for k in SEGMENT_KEYS if isinstance(doc.get(k), list))
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict):
            out.rejects.append((i, "not a JSON object", json.dumps(item)))
            continue
        text = next((item[k] for k in ("text", "content", "transcript") if item.get(k)), None)
        if not isinstance(text, str) or not text.strip():
            out.rejects.append((i, "missing required value", json.dumps(item)))
            continue
        speaker = next((str(item[k]) for k in ("speaker", "role", "name") if item.get(k)), None)
        start = next((item[k] for k in ("start", "offset", "start_time") if item.get(k) is not None), None)
        offset = _clock(start) if isinstance(start, str) else (float(start) if start is not None else None)
        stamp = next((str(item[k]) for k in ("timestamp", "time") if item.get(k)), None)
        out.turns.append(Turn(text.strip(), speaker, offset, stamp))
    return out


def resolve_meta(path: Path, given: TranscriptMeta | None, own: TranscriptMeta) -> TranscriptMeta:
    """Options, then the document's own fields, then a sidecar, then the file name."""
    layers = [given or TranscriptMeta(), own]
    sidecar = path.with_name(path.name + ".meta.json")
    if sidecar.is_file():
        try:
            doc = json.loads(sidecar.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise IngestError(f"sidecar {sidecar.name} is not valid JSON", file=str(path)) from exc
        if isinstance(doc, dict):
            layers.append(TranscriptMeta(**{k: str(doc[k]) for k in TranscriptMeta.__dataclass_fields__
                                            if doc.get(k) is not None}))
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
    if turn.timestamp is not None:
        return turn.timestamp
    if start is None:
        return None
    when = start + dt.timedelta(seconds=turn.offset or 0.0)
    text = when.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def read_transcript(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, stage: str,
                    meta: TranscriptMeta | None) -> Staged:
    """Read one transcript file into staging table ``stage`` (and its rejects)."""
    if not path.is_file():
        raise IngestError("no such file", file=str(path))
    raw = path.read_bytes()
    if not raw.strip():
        raise IngestError("file is empty", file=str(path))
    content = raw.decode("utf-8", errors="replace")
    if fmt == "json":
        parsed = parse_json(json.loads(content))
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
    n = len(parsed.turns)
    table = pa.table({
        "customer_id": pa.array([info.customer_id] * n, pa.string()),
        "timestamp": pa.array([_stamp(start, t) for t in parsed.turns], pa.string()),
        "text": pa.array([t.text for t in parsed.turns], pa.string()),
        "speaker": pa.array([t.speaker for t in parsed.turns], pa.string()),
        "channel": pa.array([info.channel] * n, pa.string()),
        "touchpoint": pa.array([info.touchpoint] * n, pa.string()),
        "conversation_id": pa.array([info.conversation_id] * n, pa.string()),
        "offset_seconds": pa.array([None if t.offset is None else f"{t.offset:g}" for t in parsed.turns],
                                   pa.string()),
        "_row": pa.array(range(1, n + 1), pa.int64()),
        "_file": pa.array([str(path)] * n, pa.string()),
    })
    rejects = pa.table({"_row": pa.array([r[0] for r in parsed.rejects], pa.int64()),
                        "reason": pa.array([r[1] for r in parsed.rejects], pa.string()),
                        "raw": pa.array([r[2] for r in parsed.rejects], pa.string())})
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
