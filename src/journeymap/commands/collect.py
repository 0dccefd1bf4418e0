"""`journeymap collect`: receive events as they happen (Segment's tracking API), keep
each acknowledged one durably, and drain them into the store (docs/collector.md)."""

from __future__ import annotations

import signal
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

    A 2xx means the calls are on disk; they load into the store every --drain-every
    seconds (one writer), each messageId once. Refused calls get a 400 with the reason
    and are quarantined. Ctrl-C stops, after a last load."""
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
        collector = ws.collector(rate=rate, burst=max(5_000.0, rate * 2))
        try:
            if drain_only:
                _say(collector.drain())
                return
            _serve(collector, host, port, drain_every)
        finally:
            collector.close()
            _say(collector.drain())


def _say(r: DrainReport) -> None:
    if r.files:
        out.print(f"stored {r.loaded:,} events, {r.to_customers:,} identify calls, "
                  f"{r.duplicates:,} duplicates skipped, {r.quarantined + r.refused:,} quarantined")


def _serve(collector: Collector, host: str, port: int, every: float) -> None:
    import uvicorn

    from journeymap.app.collector_app import create_collector_app

    stop = threading.Event()

    def drain_loop() -> None:
        while not stop.wait(every):
            try:
                collector.drain()
            except Exception as exc:  # noqa: BLE001 - keep collecting; the calls stay in the spool
                err.print(f"note: drain failed, will retry: {type(exc).__name__}: {exc}")

    thread = threading.Thread(target=drain_loop, name="journeymap-drain", daemon=True)
    thread.start()
    sources = collector.keys.sources()
    if not sources:
        err.print("note: no source has a write key yet: journeymap collect --add-source web")
    out.print(f"collecting at http://{host}:{port}/v1/ (sources: {', '.join(sources) or 'none'}); Ctrl-C stops")
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
        thread.join(timeout=every + 60)
