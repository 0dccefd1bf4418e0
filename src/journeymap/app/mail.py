"""Mail, when the workspace has an SMTP server (``[app.smtp]`` in ``journeymap.toml``):
invitation and reset links, and a notice to each member a comment mentions.

Without it nothing changes: the links are shown to the owner (page, API, CLI) to pass
on, and mentions wait behind the Mentions badge.  With it the same links are also
mailed, and a failed send never fails the request: the link is still shown and the
failure is logged (the app) or printed (the CLI).

::

    [app.smtp]
    host = "smtp.example.com"
    port = 587                      # default 587 (465 with security = "ssl")
    from = "journeymap <maps@example.com>"
    username = "maps@example.com"   # optional
    password_env = "JOURNEYMAP_SMTP_PASSWORD"   # the variable holding the password
    security = "starttls"           # starttls (default), ssl, or none (a relay on localhost)

The password is never in the file: it is read from the environment variable
``password_env`` names (default ``JOURNEYMAP_SMTP_PASSWORD``) when a mail is sent.
Mails are plain text; the user text in them (a comment) is never HTML.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any

from journeymap.config import SmtpSettings, smtp_settings
from journeymap.errors import JourneymapError

log = logging.getLogger("journeymap.app.mail")
class MailError(JourneymapError):
    """A mail could not be sent (the server's answer in the words)."""


def _one_line(text: str, limit: int = 200) -> str:
    """A header value: one line (no header can be injected), not too long."""
    return " ".join(text.split())[:limit]


class Mailer:
    """Sends plain-text mail through the workspace's SMTP server, if it has one."""

    def __init__(self, settings: SmtpSettings | None):
        self.settings = settings

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> Mailer:
        return cls(smtp_settings(raw) if raw else None)

    @property
    def enabled(self) -> bool:
        return self.settings is not None

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        assert self.settings is not None
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = formataddr(("", _one_line(to)))
        msg["Subject"] = _one_line(subject)
        msg["Message-ID"] = make_msgid(domain="journeymap")
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
        msg.set_content(body)
        return msg

    def send(self, to: str, subject: str, body: str) -> None:
        """Send now; MailError with the server's words when it fails."""
        s = self.settings
        if s is None:
            raise MailError("no SMTP server: set [app.smtp] in journeymap.toml")
        msg = self.message(to, subject, body)
        try:
            if s.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                        context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with client:
                if s.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if s.username:
                    password = os.environ.get(s.password_env)
                    if password is None:
                        raise MailError(f"SMTP user {s.username} needs its password in ${s.password_env}")
                    client.login(s.username, password)
                client.send_message(msg)
        except MailError:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"mail to {to} not sent: {s.host}:{s.port}: {exc}") from None

    def send_later(self, to: str, subject: str, body: str) -> threading.Thread | None:
        """Send off the request's path (a slow server must not hold a page); a failure is
        logged.  The thread, for tests to wait on."""
        if self.settings is None:
            return None

        def run() -> None:
            try:
                self.send(to, subject, body)
            except MailError as exc:
                log.warning("%s", exc)

        t = threading.Thread(target=run, name="journeymap-mail", daemon=True)
        t.start()
        return t


def invitation(workspace: str, link: str, role: str, *, reset: bool = False) -> tuple[str, str]:
    """(subject, body) of an invitation or a reset link."""
    if reset:
        return (f"Choose a new password for journeymap · {workspace}",
                f"Someone asked for a new password for your account in the journeymap workspace "
                f"{workspace}.\n\nChoose it here (the link works once, for 7 days):\n{link}\n\n"
                "If you did not ask for it, ignore this mail: your password stays as it is.\n")
    return (f"You are invited to the journeymap workspace {workspace}",
            f"You are now {role} of the journeymap workspace {workspace}.\n\n"
            f"Choose your password here (the link works once, for 7 days):\n{link}\n")


def mention(workspace: str, author: str, map_title: str, body: str, link: str) -> tuple[str, str]:
    """(subject, body) of a mention notice."""
    quoted = "\n".join("> " + line for line in body.splitlines())
    return (f"{author} mentioned you on {map_title}",
            f"{author} mentioned you in a comment on the journey map {map_title} "
            f"(workspace {workspace}):\n\n{quoted}\n\nOpen the thread: {link}\n")
