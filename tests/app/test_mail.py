"""Mail through a real SMTP server (aiosmtpd on localhost) when ``[app.smtp]`` is set:
invitation and reset links from the app and the CLI, a notice to each member a comment
mentions; without it, or with the server down, nothing fails and the links still show."""

from __future__ import annotations

import email
import re
import socket
import time
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from journeymap.app.mail import Mailer, MailError, smtp_settings
from journeymap.app.main import create_app
from journeymap.cli import main
from journeymap.config import load_config
from journeymap.errors import ConfigError

from .test_accounts import OWNER, PASSWORD, SME, _api_token, sign_in

pytest.importorskip("aiosmtpd")


class Inbox:
    """What the SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def wait(self, n: int, timeout: float = 10) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= n, f"{len(self.messages)} of {n} mails arrived"
        return self.messages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _configure(workspace: Path, port: int) -> None:
    path = workspace / "journeymap.toml"
    path.write_text(path.read_text() + f'\n[app.smtp]\nhost = "127.0.0.1"\nport = {port}\n'
                    'from = "journeymap <maps@example.com>"\nsecurity = "none"\n')


def _body(msg: Message) -> str:
    return msg.get_payload(decode=True).decode()  # type: ignore[union-attr]


def test_invitations_resets_and_mentions_are_mailed(workspace: Path, database_url: str | None,
                                                     smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _configure(workspace, port)
    app = create_app(workspace, database_url=database_url)
    app.state.jm.accounts.add(OWNER, "owner", name="Olga Berg", password=PASSWORD)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        sign_in(c, OWNER)
        h = {"X-CSRF-Token": _api_token(c)}
        made = c.post("/api/members", headers=h, json={"email": "eddie@example.com", "role": "editor",
                                                       "name": "Eddie Moss"}).json()
        assert made["mailed"] is True
        invite = inbox.wait(1)[0]
        assert invite["To"] == "eddie@example.com" and invite["From"] == "journeymap <maps@example.com>"
        assert "invited" in invite["Subject"] and made["link"] in _body(invite)
        assert made["link"].startswith("http://127.0.0.1:8000/set-password/")
        # the reset link from the members page
        page = c.post("/members/reset", headers=h, data={"email": "eddie@example.com"})
        assert "also mailed to eddie@example.com" in page.text
        reset = inbox.wait(2)[1]
        link = re.search(r"http://\S+/set-password/\S+", _body(reset)).group(0)  # type: ignore[union-attr]
        assert "new password" in reset["Subject"] and link in page.text
        # a mention: a notice to Eddie with the words and a link to the thread; none to Olga
        c.post(f"/api/maps/{SME}/comments", headers=h,
               json={"target": "map", "body": "@eddie can you check the import?\nThanks @olga"})
        notice = inbox.wait(3)[2]
        assert notice["To"] == "eddie@example.com" and notice["Subject"].startswith("Olga Berg mentioned you on ")
        assert "> @eddie can you check the import?" in _body(notice)
        assert re.search(rf"http://127\.0\.0\.1:8000/maps/{SME}/discussion#thread-\d+", _body(notice))
        time.sleep(0.3)
        assert len(inbox.messages) == 3  # the author is not told of her own mention
    # the CLI mails the links it prints
    runner = CliRunner()
    out = runner.invoke(main, ["users", "reset", "eddie@example.com", "-w", str(workspace)]
                        + (["--url", "http://maps.example.com"] if database_url is None else []))
    if database_url is None:  # the CLI reads the workspace's own database
        assert out.exit_code == 0, out.output
        assert "Mailed to eddie@example.com." in out.output
        assert "http://maps.example.com/set-password/" in _body(inbox.wait(4)[3])


def test_a_mail_server_that_is_down_fails_nothing(workspace: Path, caplog: pytest.LogCaptureFixture) -> None:
    port = _free_port()  # nobody listens there
    _configure(workspace, port)
    app = create_app(workspace)
    app.state.jm.accounts.add(OWNER, "owner", password=PASSWORD)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        sign_in(c, OWNER)
        made = c.post("/api/members", headers={"X-CSRF-Token": _api_token(c)},
                      json={"email": "eddie@example.com", "role": "viewer"})
        assert made.status_code == 201 and made.json()["link"]  # the owner still passes it on
    mailer = app.state.jm.mailer
    with pytest.raises(MailError, match=f"mail to x@example.com not sent: 127.0.0.1:{port}"):
        mailer.send("x@example.com", "s", "b")
    out = CliRunner().invoke(main, ["users", "reset", "eddie@example.com", "-w", str(workspace)])
    assert out.exit_code == 0 and "Reset link for eddie@example.com" in out.output and "Not mailed:" in out.output


def test_smtp_settings_are_checked_and_headers_stay_one_line(workspace: Path) -> None:
    with pytest.raises(ConfigError, match="from = "):
        smtp_settings({"host": "smtp.example.com"})
    with pytest.raises(ConfigError, match="security: one of starttls, ssl, none"):
        smtp_settings({"host": "h", "from": "f@example.com", "security": "tls"})
    with pytest.raises(ConfigError, match="unknown setting 'password'"):
        smtp_settings({"host": "h", "from": "f@example.com", "password": "secret in the file"})
    assert smtp_settings({"host": "h", "from": "f@example.com", "security": "ssl"}).port == 465
    path = workspace / "journeymap.toml"
    path.write_text(path.read_text() + '\n[app.smtp]\nhost = "h"\nport = "25"\nfrom = "f@example.com"\n')
    with pytest.raises(ConfigError, match="app.smtp: port"):
        load_config(path)
    mailer = Mailer(smtp_settings({"host": "h", "from": "f@example.com"}))
    msg = mailer.message("a@example.com", "Olga mentioned you on Map\r\nBcc: victim@example.com", "body")
    assert msg["Bcc"] is None and "\n" not in msg["Subject"]
    assert not Mailer.of(None).enabled
