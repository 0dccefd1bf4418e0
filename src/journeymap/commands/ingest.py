"""`journeymap ingest KIND FILE...`: load customer data, and how a load report is printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from journeymap.cli_progress import rich_progress
from journeymap.commands.common import err, open_workspace, out, parse_mappings, workspace_option
from journeymap.config import KINDS

FORMATS = ("csv", "tsv", "parquet", "jsonl", "segment")


@click.command("ingest")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@workspace_option
@click.option("--format", "fmt", type=click.Choice(FORMATS + ("vtt", "srt", "text")),
              help="File format (default: from the extension).")
@click.option("--map-column", "map_columns", multiple=True, metavar="THEIRS=OURS",
              help="Map a column of your export to journeymap's (repeatable).")
@click.option("--timezone", help="Zone of timestamps that carry none (default UTC).")
@click.option("--timestamp-format", help="strptime format of the timestamps, if not inferable.")
@click.option("--customer-id", help="Transcripts (.vtt/.srt/.txt/.json): the customer of the call.")
@click.option("--start", help="Transcripts: when the recording started (ISO 8601).")
@click.option("--channel", "t_channel", help="Transcripts: the channel (phone, chat, ...).")
@click.option("--touchpoint", "t_touchpoint", help="Transcripts: the map touchpoint id.")
@click.option("--score-column", "score_columns", multiple=True, metavar="QUESTION=METRIC",
              help="Feedback: a survey export's question column holding METRIC scores "
                   "(nps, csat, ces, ...); one row per answer (repeatable).")
@click.option("--set", "constants", multiple=True, metavar="COLUMN=VALUE",
              help="Give every row COLUMN=VALUE, e.g. channel=email (repeatable).")
@click.option("--skip-rows", type=click.IntRange(min=0), default=None,
              help="Rows under the header to skip (default: 0, or what a recognised "
                   "Qualtrics/SurveyMonkey export has).")
def ingest(kind: str, files: tuple[Path, ...], workspace: Path, fmt: str | None,
           map_columns: tuple[str, ...], timezone: str | None, timestamp_format: str | None,
           customer_id: str | None, start: str | None, t_channel: str | None,
           t_touchpoint: str | None, score_columns: tuple[str, ...], constants: tuple[str, ...],
           skip_rows: int | None) -> None:
    """Load customer data FILES of KIND into the workspace.

    Rows that break the contract are quarantined with file, row, field and reason;
    the good rows load.  Rows already stored are skipped.  Transcripts may be WebVTT,
    SRT, plain text or JSON documents (docs/voice-of-customer.md).  Survey exports
    (Qualtrics, SurveyMonkey, Typeform, Google Forms) load with --score-column.
    """
    from journeymap.data.read_transcripts import TranscriptMeta

    meta = TranscriptMeta(customer_id, start, t_channel, t_touchpoint)
    with open_workspace(workspace) as ws, rich_progress(err) as progress:
        report = ws.ingest(kind, files, fmt=fmt, columns=parse_mappings(map_columns),
                           timezone=timezone, timestamp_format=timestamp_format, progress=progress,
                           transcript=meta, skip_rows=skip_rows,
                           scores=parse_mappings(score_columns, "--score-column",
                                                  "QUESTION_COLUMN=METRIC", last=True),
                           constants=parse_mappings(constants, "--set", "COLUMN=VALUE"))
    print_ingest(report)


def print_ingest(report: Any) -> None:
    updated = f", {report.updated:,} updated" if report.updated else ""
    routed = f", {report.to_customers:,} to customers" if report.to_customers else ""
    out.print(
        f"{report.kind}: {report.loaded:,} loaded, {report.quarantined:,} quarantined, "
        f"{report.duplicates:,} duplicates skipped{updated}{routed} "
        f"(of {report.rows_read:,} rows in {len(report.files)} file{'s' if len(report.files) != 1 else ''})"
    )
    if report.calls:
        out.print("  Segment calls: " + ", ".join(
            _calls(typ, c, report.kind) for typ, c in report.calls.items()))
    for note in report.notes:
        err.print(f"  note: {note}")
    if report.quarantined:
        for reason, count in sorted(report.by_reason.items(), key=lambda kv: -kv[1]):
            err.print(f"  quarantined {count:,}: {reason}")
        for example in report.examples[:5]:
            err.print(f"  e.g. {example}")
        err.print("  see them with: journeymap status --json (quarantine), or the 'quarantine' table")


def _calls(typ: str, c: Any, kind: str) -> str:
    """``identify 3 (to customers: 2 new, 1 quarantined)``: one call type's fate."""
    elsewhere = c.table is not None and c.table != kind
    new = "new" if c.table == "customers" else "loaded"
    parts = [f"{n:,} {label}" for n, label in (
        (c.loaded, new), (c.updated, "updated"),
        (c.duplicates, "duplicate" if c.duplicates == 1 else "duplicates"),
        (c.quarantined, "quarantined")) if n]
    detail = ", ".join(parts)
    if elsewhere and (c.loaded or c.updated or c.duplicates):
        detail = f"to {c.table}: {detail}"
    return f"{typ} {c.read:,} ({detail})"
