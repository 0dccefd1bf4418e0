"""`journeymap watch`: refresh every map on a schedule, keep its numbers per day, and say
(and send) each new alert — for cron, or as a long-running process beside the data."""

from __future__ import annotations

import json
import re
import signal
import threading
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from journeymap.commands.common import err, open_workspace, out, workspace_option
from journeymap.errors import JourneymapError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """``30s``, ``15m``, ``1h``, ``1d`` (or plain seconds) as seconds."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not found or float(found.group(1)) <= 0:
        raise click.BadParameter(f"'{text}': give a duration such as 30s, 15m, 1h or 1d")
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


@click.command("watch")
@workspace_option
@click.option("--once", is_flag=True, help="Refresh once and exit (for cron).")
@click.option("--every", default="1h", show_default=True, help="Time between refreshes (30s, 15m, 1h, 1d).")
@click.option("--map", "maps", multiple=True, metavar="ID", help="Only these maps (repeatable; default: all).")
@click.option("--webhook", metavar="URL", help="POST each new alert here as JSON ({event: map.alert, data}).")
def watch(workspace: Path, once: bool, every: str, maps: tuple[str, ...], webhook: str | None) -> None:
    """Recompute every map, keep today's numbers in snapshots/MAP.jsonl (KPI trends and
    the goal's progress are read from it), and print each alert the refresh before did
    not have: a touchpoint's CSAT/NPS/CES or a stage's conversion significantly worse
    than the period before, or the goal off track.

    The app (journeymap serve) does the same by itself; run watch when no app is
    running, e.g. from cron with --once after each export lands."""
    seconds = parse_every(every)
    if webhook and not webhook.startswith(("http://", "https://")):
        raise click.BadParameter(f"'{webhook}': an http:// or https:// address", param_hint="--webhook")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while True:
            with open_workspace(workspace) as ws:
                refresh(ws, maps, webhook)
            if once or stop.wait(seconds):
                return
    except KeyboardInterrupt:
        out.print("stopped")


def refresh(ws: Any, only: tuple[str, ...] = (), webhook: str | None = None) -> int:
    """One round: every map (or ``only``) analysed and recorded; how many new alerts."""
    paths = ws.map_paths()
    found = 0
    for path in paths:
        try:
            jmap = ws.load_map(path)
        except JourneymapError as exc:
            err.print(Text(f"skipped {path.name}: {exc}"))
            continue
        if only and jmap.id not in only:
            continue
        try:
            analysis = ws.analyze_page(jmap)
        except JourneymapError as exc:
            err.print(Text(f"{jmap.id}: {exc}"))
            continue
        snap, new = ws.record_snapshot(jmap.id, analysis)
        keys = {(a["kind"], a["target"], a["metric"], a["period"]) for a in new}
        full = [a for a in (analysis.get("alerts") or {}).get("alerts", [])
                if (a.get("kind"), a.get("target"), a.get("metric"), a.get("period")) in keys]
        out.print(Text.assemble((jmap.id, "bold"), f": {snap['customers'] or 0:,} customers, "
                                f"{len(snap['alerts'])} alert{'s' if len(snap['alerts']) != 1 else ''}"
                                f" ({len(full)} new); snapshot of {snap['day']}"))
        for a in full:
            out.print(Text.assemble(("  ! ", "red"), str(a.get("text"))), highlight=False)
            if webhook:
                _send(webhook, {"event": "map.alert", "data": {"map": jmap.id, "alert": a}})
        found += len(full)
    return found


def _send(url: str, payload: dict[str, Any]) -> None:
    import urllib.error  # here: every command imports this module, few send
    import urllib.request

    body = json.dumps(payload, default=str).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json",
                                                          "User-Agent": "journeymap-watch"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - the user's own URL
            r.read()
    except (urllib.error.URLError, OSError) as exc:
        err.print(Text(f"webhook {url}: {exc}"))
