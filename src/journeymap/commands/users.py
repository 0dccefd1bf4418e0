"""`journeymap users`: the members of a workspace's app — add (an invitation link),
list, remove, reset (a one-time link to choose a new password)."""

from __future__ import annotations

from pathlib import Path

import click

from journeymap.commands.common import out, workspace_option

URL_HELP = "The app's address, for the links printed (where `journeymap serve` listens)."


@click.group("users")
def users() -> None:
    """Members of the workspace's app and their roles (viewer, commenter, editor, owner).

    A workspace without members is a local app anyone on this computer may use; once it
    has one, everyone signs in."""


def _accounts(workspace: Path):  # noqa: ANN202 - journeymap.app.accounts.Accounts
    from journeymap.app.accounts import open_accounts

    return open_accounts(str(workspace))


def _mail(workspace: Path, email: str, link: str, role: str, *, reset: bool = False) -> None:
    """Mail the link too when the workspace has an SMTP server ([app.smtp]); a failure is
    printed, the link above still works."""
    from journeymap.app.mail import Mailer, MailError, invitation
    from journeymap.config import load_config
    from journeymap.workspace import CONFIG_NAME

    config = load_config(Path(workspace) / CONFIG_NAME)
    mailer = Mailer.of(config.smtp)
    if not mailer.enabled:
        return
    try:
        mailer.send(email, *invitation(config.name, link, role, reset=reset))
        out.print(f"Mailed to {email}.")
    except MailError as exc:
        out.print(f"Not mailed: {exc}")


@users.command("add")
@workspace_option
@click.argument("email")
@click.option("--role", type=click.Choice(["viewer", "commenter", "editor", "owner"]), default="editor",
              show_default=True, help="What they may do.")
@click.option("--name", help="Their name as the app shows it.")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help=URL_HELP)
def add(workspace: Path, email: str, role: str, name: str | None, url: str) -> None:
    """Add EMAIL as a member (or change their role) and print their invitation link."""
    member, token = _accounts(workspace).add(email, role, name=name)
    out.print(f"{member.email} is now {member.role} of the workspace.")
    if token is None:
        out.print(f"{member.email} has an account on this server already: they sign in with it.")
        return
    link = f"{url.rstrip('/')}/set-password/{token}"
    out.print(f"Send them this link to choose a password (valid 7 days, once): {link}")
    _mail(workspace, member.email, link, member.role)


@users.command("list")
@workspace_option
def list_(workspace: Path) -> None:
    """Every member with their role and whether they chose a password."""
    members = _accounts(workspace).members()
    if not members:
        out.print("No members: the app is open to everyone on this computer (journeymap serve --init-owner EMAIL).")
    for m in members:
        out.print(f"{m.email}\t{m.role}\t{m.name}\t{'password set' if m.has_password else 'invited'}")


@users.command("remove")
@workspace_option
@click.argument("email")
def remove(workspace: Path, email: str) -> None:
    """Remove EMAIL from the workspace (their sessions end)."""
    _accounts(workspace).remove(email)
    out.print(f"{email} is no longer a member.")


@users.command("reset")
@workspace_option
@click.argument("email")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help=URL_HELP)
def reset(workspace: Path, email: str, url: str) -> None:
    """Print a one-time link at which EMAIL chooses a new password (no mail server needed)."""
    token = _accounts(workspace).reset_link(email, operator=True)
    link = f"{url.rstrip('/')}/set-password/{token}"
    out.print(f"Reset link for {email} (valid 7 days, once): {link}")
    _mail(workspace, email.strip().lower(), link, "", reset=True)
