"""Run the app under uvicorn on localhost until Ctrl-C."""

from __future__ import annotations

import socket
from pathlib import Path

from rich.console import Console

from journeymap.errors import JourneymapError


def serve(root: Path, *, host: str = "127.0.0.1", port: int = 8000, console: Console,
          database_url: str | None = None) -> None:
    """Serve the workspace at ``root`` at http://host:port/ until Ctrl-C (a clean stop:
    running requests finish, the job worker and the store close)."""
    import uvicorn

    from journeymap.app.main import create_app

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise JourneymapError(f"cannot listen on {host}:{port}: {exc.strerror}; try --port") from None
    app = create_app(root, database_url=database_url, warm=True)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"journeymap app for {Path(root).resolve()} at [bold]http://{shown}:{port}/[/] — Ctrl-C to stop")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    console.print("stopped")
