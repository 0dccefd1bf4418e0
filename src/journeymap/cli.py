"""The journeymap command line: parse arguments, call the library, print.

Errors a user can cause print one line on stderr and exit 1; ``--debug`` shows the
traceback.  Long work shows Rich progress bars (on stderr, so ``--json`` output on
stdout stays clean).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from journeymap import __version__
from journeymap.cli_progress import rich_progress
from journeymap.commands.common import err, out, workspace_option
from journeymap.config import KINDS
from journeymap.errors import JourneymapError

FORMATS = ("csv", "tsv", "parquet", "jsonl", "segment")


#: The first words of the one line an error no user input should cause gets (a bug).
UNEXPECTED = "error: unexpected"


class JourneymapGroup(click.Group):
    """Turns a JourneymapError into one line on stderr and exit status 1.

    So does an :class:`OSError` about a file (``exc.filename``).  Any other exception is a
    bug, but still gets one line (no traceback on any input or option), starting with
    :data:`UNEXPECTED` and asking for ``--debug``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except JourneymapError as exc:
            if ctx.meta.get("journeymap.debug"):
                raise
            click.echo(f"error: {_one_line(exc)}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            if ctx.meta.get("journeymap.debug"):
                raise
            click.echo("interrupted: nothing was changed by the unfinished step", err=True)
            ctx.exit(130)
        except OSError as exc:
            # a file the user named cannot be written or read (no such folder, no
            # permission, a name too long, a full disk): theirs to fix, not a bug
            if ctx.meta.get("journeymap.debug"):
                raise
            if exc.filename:
                click.echo(f"error: {exc.filename}: {exc.strerror or _one_line(exc)}", err=True)
            else:
                _unexpected(exc)
            ctx.exit(1)
        except Exception as exc:
            if ctx.meta.get("journeymap.debug"):
                raise
            _unexpected(exc)
            ctx.exit(1)


def _unexpected(exc: Exception) -> None:
    click.echo(f"{UNEXPECTED} {type(exc).__name__}: {_one_line(exc)} (a bug: rerun with "
               "--debug for the traceback and report it)", err=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@click.group(cls=JourneymapGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__, prog_name="journeymap")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """journeymap — data-driven customer journey maps.

    Journey maps as code (maps/*.yaml) tied to your customers' events, surveys,
    transactions and conversations.
    """
    ctx.meta["journeymap.debug"] = debug


def _open(workspace: Path):  # noqa: ANN202 - Workspace, imported lazily for a fast --help
    from journeymap.commands.common import open_workspace

    return open_workspace(workspace)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Workspace name (default: the folder's name).")
def init(directory: Path, name: str | None) -> None:
    """Create a workspace in DIRECTORY."""
    from journeymap.workspace import Workspace

    ws = Workspace.create(directory, name=name)
    ws.store  # noqa: B018 - creates the store's tables now
    ws.close()
    out.print(f"Workspace '{ws.config.name}' ready in {ws.root}")
    out.print(f"Next: journeymap ingest events FILE -w {directory}")


def _parse_mappings(values: tuple[str, ...], option: str = "--map-column",
                    expected: str = "THEIR_NAME=OUR_NAME", *, last: bool = False) -> dict[str, str]:
    """``A=B`` pairs; ``last``: split at the last ``=`` (a question's text may hold one)."""
    mapping: dict[str, str] = {}
    for value in values:
        their, sep, ours = value.rpartition("=") if last else value.partition("=")
        if not sep or not their.strip() or not ours.strip():
            raise click.BadParameter(f"'{value}': expected {expected}", param_hint=option)
        mapping[their.strip()] = ours.strip()
    return mapping


@main.command()
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
    with _open(workspace) as ws, rich_progress(err) as progress:
        report = ws.ingest(kind, files, fmt=fmt, columns=_parse_mappings(map_columns),
                           timezone=timezone, timestamp_format=timestamp_format, progress=progress,
                           transcript=meta, skip_rows=skip_rows,
                           scores=_parse_mappings(score_columns, "--score-column",
                                                  "QUESTION_COLUMN=METRIC", last=True),
                           constants=_parse_mappings(constants, "--set", "COLUMN=VALUE"))
    _print_ingest(report)


def _print_ingest(report: Any) -> None:
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


@main.command()
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(workspace: Path, as_json: bool) -> None:
    """Tables, row counts, quarantine counts and the time range of the data."""
    with _open(workspace) as ws:
        info = ws.status()
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    out.print(Text.assemble((info["name"], "bold"), f" — {info['workspace']}"))
    table = Table("table", "rows", "customers", "from", "to")
    for name, t in info.get("tables", {}).items():
        first, last = t.get("time_range") or (None, None)
        table.add_row(name, f"{t.get('rows', 0):,}", _fmt(t.get("customers")), _fmt(first), _fmt(last))
    out.print(table)
    quarantine = info.get("quarantine", {})
    total = quarantine.get("rows", 0)
    out.print(f"quarantine: {total:,} rows")
    for kind, reasons in quarantine.get("by_kind", {}).items():
        for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            out.print(f"  {kind}: {reason}: {count:,}")
    out.print(f"maps: {', '.join(info['maps']) or 'none'}")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    text = str(value)
    if len(text) >= 16 and text[4] == "-" and text[10] == "T":  # ISO timestamp: minutes are enough
        return text[:16].replace("T", " ")
    return text


@main.command()
@click.argument("maps", nargs=-1, type=click.Path(path_type=Path))
@workspace_option
def validate(maps: tuple[Path, ...], workspace: Path) -> None:
    """Check MAPS (default: every map in the workspace): schema and references."""
    from journeymap.model import validate_paths

    if maps:
        paths = list(maps)
        missing = [p for p in paths if not p.is_file()]
        if missing:
            raise JourneymapError(f"{missing[0]}: no such file")
    else:
        paths = sorted((_open(workspace).maps_dir).glob("*.y*ml"))
        if not paths:
            raise JourneymapError(f"{workspace}: no maps to validate (maps/*.yaml)")
    issues = validate_paths(paths)
    for issue in issues:
        click.echo(str(issue), err=True)
    if issues:
        err.print(f"{len(issues)} problem{'s' if len(issues) != 1 else ''} in {len(paths)} map(s)")
        sys.exit(1)
    out.print(f"{len(paths)} map{'s' if len(paths) != 1 else ''} valid")


@main.command()
def schema() -> None:
    """Print the JSON Schema of the journey map document."""
    from journeymap.model import map_json_schema

    click.echo(json.dumps(map_json_schema(), indent=2))


@main.command()
@click.argument("directory", required=False, default="demo-workspace",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--customers", default=50_000, show_default=True, type=click.IntRange(min=50),
              help="Number of customers to generate.")
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed (same seed, same data).")
@click.option("--no-serve", is_flag=True, help="Only write the report; never start a server.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port of the local server.")
def demo(directory: Path, customers: int, seed: int, no_serve: bool, port: int) -> None:
    """Generate a realistic demo company, load it, and show its journey maps."""
    from journeymap.demo.run import run_demo

    with rich_progress(err) as progress:
        result = run_demo(directory, customers=customers, seed=seed, progress=progress)
    for report in result.ingests:
        _print_ingest(report)
    out.print(Text.assemble("\n", ("Journey maps", "bold"), f" ({len(result.maps)}): all valid"))
    for page in result.pages:
        out.print(f"  {page}")
    out.print(Text.assemble("\nOpen the report: ", (str(result.index), "bold")))
    if not no_serve:
        from journeymap.render.serve import serve_folder

        # serve prints its own markup (the address in bold) and no user text
        serve_folder(result.index.parent, port=port, console=Console(highlight=False, soft_wrap=True))


@main.command()
@click.argument("map_ref", metavar="MAP")
@workspace_option
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file; the format comes from its extension: "
                   ".html .png .pdf .svg .md .csv .xlsx .pptx .mmd .json.")
@click.option("--compare", metavar="MAP", help="Another map to show side by side (e.g. another segment).")
def render(map_ref: str, workspace: Path, out_path: Path, compare: str | None) -> None:
    """Render MAP with its data as a page, picture, document, table or slides."""
    from journeymap.render.exports import export_map

    with _open(workspace) as ws, err.status(f"rendering {out_path.name}"):
        written = export_map(ws, map_ref, out_path, compare=compare)
    out.print(f"wrote {written}")


def _register_area_commands() -> None:
    """Commands defined in journeymap.commands.<area> (one line per command)."""
    from journeymap.commands.analyze import analyze; main.add_command(analyze)  # noqa: E702
    from journeymap.commands.discover import discover; main.add_command(discover)  # noqa: E702
    from journeymap.commands.segments import segments; main.add_command(segments)  # noqa: E702
    from journeymap.commands.clv import clv; main.add_command(clv)  # noqa: E702
    from journeymap.commands.new import new; main.add_command(new)  # noqa: E702


_register_area_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
