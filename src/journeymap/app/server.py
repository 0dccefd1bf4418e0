"""Run the app under uvicorn on localhost until Ctrl-C."""

from __future__ import annotations

import socket
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from journeymap.errors import JourneymapError


def serve(root: Path | dict[str, Path], *, host: str = "127.0.0.1", port: int = 8000, console: Console,
          database_url: str | None = None, collect: bool = False) -> None:
    """Serve the workspace at ``root`` at http://host:port/ — or, given {name: folder},
    each workspace at http://host:port/w/NAME/ — until Ctrl-C (a clean stop: running
    requests finish, the job workers and the stores close)."""
    import uvicorn

    from journeymap.app.main import create_app

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise JourneymapError(f"cannot listen on {host}:{port}: {exc.strerror}; try --port") from None
    shown = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    if isinstance(root, dict) and collect:
        raise JourneymapError("--collect serves one workspace; run journeymap collect -w FOLDER for each of the others")
    if isinstance(root, dict):
        from journeymap.app.hosting import create_server

        app = create_server(root, warm=True)
        for name, folder in root.items():
            console.print(f"workspace {escape(str(folder))} at [bold]{shown}/w/{name}/[/]")
        console.print(f"journeymap server with {len(root)} workspaces at [bold]{shown}/[/] — Ctrl-C to stop")
    else:
        app = create_app(root, database_url=database_url, warm=True)
        console.print(f"journeymap app for {escape(str(Path(root).resolve()))} at [bold]{shown}/[/] — Ctrl-C to stop")
        if collect:
            from journeymap.app.collector_app import with_collector

            app = with_collector(app)
            sources = app.collector.keys.sources()
            console.print(f"collecting events at [bold]{shown}/v1/[/] (sources: {escape(', '.join(sources)) or 'none'}"
                          + ("" if sources else "; add one: journeymap collect --add-source web") + ")")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    console.print("stopped")
