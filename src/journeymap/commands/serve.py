"""`journeymap serve`: the browser app on one workspace, or on several."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console


@click.command("serve")
@click.option("-w", "--workspace", "roots", default=(".",), show_default=True, multiple=True, metavar="[NAME=]PATH",
              help="Workspace folder. Give it several times to serve several workspaces, each at /w/NAME/ "
              "(NAME: the folder's name, or NAME=PATH).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this computer only).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option("--init-owner", metavar="EMAIL", help="Turn accounts on: make EMAIL the owner (of each workspace "
              "given) and print the link at which they choose a password (then everyone signs in).")
@click.option("--collect", is_flag=True, help="Also collect events at /v1/ (Segment's tracking API; write keys: "
              "journeymap collect --add-source NAME) and load them into the maps every 2 s.")
def serve(roots: tuple[str, ...], host: str, port: int, init_owner: str | None, collect: bool) -> None:
    """Serve the maps in the browser: list, map view, YAML editor, history and diff, JSON API.

    Analyses run in the background and are cached per map version and data version;
    Ctrl-C stops the app."""
    from journeymap.app.hosting import parse_workspaces
    from journeymap.app.server import serve as run

    several = parse_workspaces(roots) if len(roots) > 1 else None
    if init_owner:
        from journeymap.app.accounts import open_accounts
        from journeymap.commands.common import out

        where = several or {"": Path(roots[0])}
        for name, root in where.items():
            url = f"http://{host}:{port}" + (f"/w/{name}" if several else "")
            accounts = open_accounts(str(root))
            known = {m.email: m for m in accounts.members()}
            if init_owner.strip().lower() in known and known[init_owner.strip().lower()].has_password:
                out.print(f"{init_owner} is already a member; sign in at {url}/login")
            else:
                _, token = accounts.add(init_owner, "owner")
                out.print(f"{init_owner} is the owner{' of ' + name if several else ''}. Choose the password "
                          f"(valid 7 days, once): {url}/set-password/{token}")

    # the address is printed in bold markup; no user text goes through markup
    run(several or Path(roots[0]), host=host, port=port, console=Console(highlight=False, soft_wrap=True),
        collect=collect)
