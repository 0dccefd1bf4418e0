"""Serve a folder of rendered pages on localhost (until the web app exists)."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path

from rich.console import Console

from journeymap.errors import JourneymapError


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        return


def serve_folder(folder: Path, *, port: int, console: Console, host: str = "127.0.0.1") -> None:
    """Serve ``folder`` at http://host:port/ until Ctrl-C."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        server = http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise JourneymapError(f"cannot listen on {host}:{port}: {exc.strerror}; try --port") from None
    console.print(f"Serving the report at [bold]http://{host}:{port}/[/] — Ctrl-C to stop")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        server.server_close()
