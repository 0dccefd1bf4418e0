"""`journeymap collect`: receive events as they happen (Segment's tracking API), keep
each acknowledged one durably, and drain them into the store (docs/collector.md)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import click

from journeymap.commands.common import err, open_workspace, out, workspace_option

if TYPE_CHECKING:
    from journeymap.collector import Collector, DrainReport


@click.command("collect")
@workspace_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option("--drain-every", default=2.0, show_default=True, type=click.FloatRange(0.05, 3600),
              help="Seconds between loads of the received calls into the store.")
@click.option("--rate", default=0.0, show_default=True, type=click.FloatRange(0),
              help="Calls per second per source before 429 (0: no limit).")
@click.option("--add-source", metavar="NAME", help="Make a write key for source NAME, print it, and exit.")
@click.option("--remove-source", metavar="NAME", help="Remove source NAME's write key and exit.")
@click.option("--sources", "list_sources", is_flag=True, help="List the sources with a write key and exit.")
@click.option("--drain", "drain_only", is_flag=True, help="Load what was received into the store and exit.")
def collect(workspace: Path, host: str, port: int, drain_every: float, rate: float, add_source: str | None,
            remove_source: str | None, list_sources: bool, drain_only: bool) -> None:
    """Collect events with Segment's tracking API: POST /v1/track, /v1/identify, /v1/page,
    /v1/screen and /v1/batch, authenticated by a write key per source (HTTP Basic, as
    Segment's and RudderStack's libraries send it).

    A 2xx means the calls are on disk; every --drain-every seconds a separate process
    loads them into the store (its one writer), each messageId once. Refused calls get a
    400 with the reason and are quarantined. Ctrl-C stops, after a last load."""
    from journeymap.collector import WriteKeys

    with open_workspace(workspace) as ws:
        keys = WriteKeys(ws.root / "collector")
        if add_source:
            key = keys.add(add_source)
            out.print(f"write key of source '{add_source}' (shown once; send it as the HTTP Basic user name):")
            click.echo(key)
            return
        if remove_source:
            keys.remove(remove_source)
            out.print(f"removed source '{remove_source}'")
            return
        if list_sources:
            for name in keys.sources():
                click.echo(name)
            return
        if drain_only:
            collector = ws.collector(writer=False)
            _say(collector.drain())
            return
        collector = ws.collector(rate=rate, burst=max(5_000.0, rate * 2))
        try:
            _serve(collector, ws.root, host, port, drain_every)
        finally:
            collector.close()
            _drain_in_child(ws.root, wait=True)


def _drain_in_child(root: Path, *, wait: bool = False) -> subprocess.Popen[bytes] | None:
    """``journeymap collect --drain`` in a process of its own: the store's writer is
    never the process that receives calls, so killing the collector cannot hurt it."""
    args = [sys.executable, "-c", "from journeymap.cli import main; main()", "collect", "-w", str(root), "--drain"]
    proc = subprocess.Popen(args, start_new_session=True)  # its report and errors go where ours go
    if wait:
        proc.wait()
        return None
    return proc


def _say(r: DrainReport) -> None:
    if r.files:
        out.print(f"stored {r.loaded:,} events, {r.to_customers:,} identify calls, {r.answers:,} survey answers, "
                  f"{r.duplicates:,} duplicates skipped, {r.quarantined + r.refused:,} quarantined"
                  + (f"; merged the event log's pieces ({r.compacted:,} events)" if r.compacted else ""))
        for note in r.notes:
            err.print(f"  note: {note}")


def _serve(collector: Collector, root: Path, host: str, port: int, every: float) -> None:
    import uvicorn

    from journeymap.app.collector_app import create_collector_app

    stop = threading.Event()

    def drain_loop() -> None:
        child: subprocess.Popen[bytes] | None = None
        while not stop.wait(every):
            try:
                if collector.seal() and (child is None or child.poll() is not None):
                    child = _drain_in_child(root)
            except Exception as exc:  # noqa: BLE001 - keep collecting; the calls stay in the spool
                err.print(f"note: drain failed, will retry: {type(exc).__name__}: {exc}")
        if child is not None:
            child.wait()

    thread = threading.Thread(target=drain_loop, name="journeymap-drain", daemon=True)
    thread.start()
    sources = collector.keys.sources()
    if not sources:
        err.print("note: no source has a write key yet: journeymap collect --add-source web")
    out.print(f"collecting at http://{host}:{port}/v1/ (sources: {', '.join(sources) or 'none'}); survey links "
              f"at /s/, the pop-up at /survey.js; Ctrl-C stops")

    def stopping(signum: int, frame: object) -> None:  # uvicorn re-raises SIGTERM once it has stopped
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stopping)
    try:
        uvicorn.run(create_collector_app(collector), host=host, port=port, log_level="warning",
                    access_log=False)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        thread.join(timeout=every + 120)
