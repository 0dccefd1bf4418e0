"""Accounts, roles and sessions of the app (issue 12, first slice).

A workspace without members is a local app: everyone on this computer may do everything
(issue 11's mode; ``journeymap serve`` listens on 127.0.0.1).  Once it has a member —
``journeymap serve --init-owner EMAIL``, ``journeymap users add``, or the demo — every
request must come from a signed-in member whose role allows the action:

=========  ===========================================================
viewer     read maps, analyses, data
commenter  the viewer's rights, and comment (comments come next)
editor     save and edit maps, personas, upload and ingest data
owner      everything, and manage members
=========  ===========================================================

Passwords are hashed with Argon2id (argon2-cffi).  Sign-up is by invitation: adding a
member makes a one-time link (``/set-password/TOKEN``) at which they choose their
password; ``journeymap users reset EMAIL`` makes the same kind of link.  Tokens and
session ids are random (256 bits) and only their SHA-256 is stored.  A session is a
cookie (HttpOnly, SameSite=Lax, Secure under https), new at every sign-in, deleted at
sign-out and, with every other session of the member, at a password change.

Failed sign-ins are limited per (account, address) pair and per address, so that an
attacker elsewhere cannot lock the owner out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from journeymap.app.tables import ApiToken, Membership, OneTimeToken, SessionRow, UserRow, utcnow
from journeymap.errors import JourneymapError

ROLES = ("viewer", "commenter", "editor", "owner")
#: the least role each action needs
NEEDS = {"view": "viewer", "comment": "commenter", "edit": "editor", "ingest": "editor", "admin": "owner"}
MIN_PASSWORD = 12
SESSION_IDLE = dt.timedelta(days=7)
SESSION_MAX = dt.timedelta(days=30)
TOKEN_LIFE = dt.timedelta(days=7)
#: failed sign-ins allowed in WINDOW seconds: per (account, address), and per address
PAIR_LIMIT, ADDRESS_LIMIT, WINDOW = 5, 30, 15 * 60


class AccountError(JourneymapError):
    """A wrong account operation: unknown member, weak password, used link..."""


class TooManyAttempts(AccountError):
    def __init__(self, retry_after: int):
        super().__init__(f"too many failed sign-ins from here; try again in {retry_after // 60 + 1} minutes")
        self.retry_after = retry_after


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _hasher():  # noqa: ANN202 - argon2's PasswordHasher
    from argon2 import PasswordHasher

    return PasswordHasher()  # Argon2id with the library's (RFC 9106 low-memory) parameters


@dataclass(frozen=True)
class Member:
    user_id: int
    email: str
    name: str
    role: str
    has_password: bool


@dataclass(frozen=True)
class SignedIn:
    """A valid session: the member and the session's id (its hash)."""

    member: Member
    session: str


class Attempts:
    """Failed sign-ins in a sliding window, per key (in memory: per app process)."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def count(self, key: str) -> tuple[int, int]:
        """(failures in the window, seconds until the oldest leaves it)."""
        now = time.monotonic()
        with self._lock:
            q = self._seen.get(key, deque())
            while q and q[0] < now - WINDOW:
                q.popleft()
            return len(q), int(q[0] + WINDOW - now) if q else 0

    def fail(self, key: str) -> None:
        with self._lock:
            self._seen.setdefault(key, deque()).append(time.monotonic())

    def clear(self, key: str) -> None:
        with self._lock:
            self._seen.pop(key, None)


class Accounts:
    """The members of one workspace and their sessions, in the app's database."""

    def __init__(self, sessions: sessionmaker[Session], workspace_id: int):
        self.sessions = sessions
        self.workspace_id = workspace_id
        self.attempts = Attempts()
        self.tokens = Tokens(sessions, workspace_id)
        self._dummy = _hasher().hash(secrets.token_hex(16))  # to spend the same time on unknown emails

    # -- members ----------------------------------------------------------------
    def enabled(self) -> bool:
        """Whether this workspace has members (then every request must sign in)."""
        with self.sessions() as s:
            return s.scalar(select(Membership.id).where(Membership.workspace_id == self.workspace_id)
                            .limit(1)) is not None

    def members(self) -> list[Member]:
        with self.sessions() as s:
            rows = s.execute(select(UserRow, Membership.role).join(Membership, Membership.user_id == UserRow.id)
                             .where(Membership.workspace_id == self.workspace_id).order_by(UserRow.email))
            return [self._member(u, role) for u, role in rows]

    @staticmethod
    def _member(u: UserRow, role: str) -> Member:
        return Member(u.id, u.email, u.name or u.email.split("@")[0], role, u.password_hash is not None)

    def member(self, email: str) -> Member:
        found = next((m for m in self.members() if m.email == _email(email)), None)
        if found is None:
            raise AccountError(f"{email}: not a member of this workspace")
        return found

    def add(self, email: str, role: str = "editor", *, name: str | None = None,
            password: str | None = None) -> tuple[Member, str | None]:
        """Make ``email`` a member with ``role``; returns the member and a one-time link
        token to choose a password — None when ``password`` is given, and None for
        someone who already has an account in another workspace of a shared database
        (they sign in with it: a link here would let this workspace's owner set the
        password of an account that is not only theirs)."""
        email = _email(email)
        if role not in ROLES:
            raise AccountError(f"role '{role}': one of {', '.join(ROLES)}")
        if password is not None:
            _check_password(password)
        with self.sessions.begin() as s:
            user = s.scalar(select(UserRow).where(UserRow.email == email))
            if user is None:
                user = UserRow(email=email, name=name)
                s.add(user)
                s.flush()
            elif name:
                user.name = name
            if password is not None:
                user.password_hash, user.password_changed_at = _hasher().hash(password), utcnow()
            membership = s.scalar(select(Membership).where(Membership.workspace_id == self.workspace_id,
                                                           Membership.user_id == user.id))
            if membership is None:
                s.add(Membership(workspace_id=self.workspace_id, user_id=user.id, role=role))
            else:
                membership.role = role
            elsewhere = self._elsewhere(s, user.id)
            token = None if password is not None or elsewhere else self._token(s, user.id, "invite")
            return self._member(user, role), token

    def _elsewhere(self, s: Session, user_id: int) -> bool:
        """Whether the user belongs to another workspace of this database too."""
        return s.scalar(select(Membership.id).where(Membership.user_id == user_id,
                                                    Membership.workspace_id != self.workspace_id).limit(1)) is not None

    def elsewhere(self, email: str) -> bool:
        with self.sessions() as s:
            user = s.scalar(select(UserRow).where(UserRow.email == _email(email)))
            return user is not None and self._elsewhere(s, user.id)

    def remove(self, email: str) -> None:
        m = self.member(email)
        owners = [x for x in self.members() if x.role == "owner"]
        if m.role == "owner" and len(owners) == 1:
            raise AccountError(f"{email} is the workspace's only owner; make another member owner first")
        with self.sessions.begin() as s:
            s.execute(delete(Membership).where(Membership.workspace_id == self.workspace_id,
                                               Membership.user_id == m.user_id))
            s.execute(delete(SessionRow).where(SessionRow.user_id == m.user_id,
                                               SessionRow.workspace_id == self.workspace_id))

    def reset_link(self, email: str, *, operator: bool = False) -> str:
        """A one-time token to choose a new password.  An owner in the browser may make it
        only for someone who belongs to no other workspace of the database (the password
        opens those too); the server's operator (``journeymap users reset``) always may."""
        m = self.member(email)
        with self.sessions.begin() as s:
            if not operator and self._elsewhere(s, m.user_id):
                raise AccountError(f"{m.email} is also a member of another workspace on this server, so only "
                                   "the server's operator resets their password (journeymap users reset)")
            return self._token(s, m.user_id, "reset")

    def _token(self, s: Session, user_id: int, purpose: str) -> str:
        token = secrets.token_urlsafe(32)
        s.add(OneTimeToken(id=_hash(token), user_id=user_id, purpose=purpose, expires_at=utcnow() + TOKEN_LIFE))
        return token

    def token_member(self, token: str) -> Member:
        """The member a one-time link is for (AccountError if used, expired or unknown)."""
        with self.sessions() as s:
            row = s.get(OneTimeToken, _hash(token))
            if row is None or row.used_at is not None or row.expires_at < utcnow():
                raise AccountError("this link is not valid (used, expired or unknown); ask an owner for a new one")
            user = s.get(UserRow, row.user_id)
            role = s.scalar(select(Membership.role).where(Membership.workspace_id == self.workspace_id,
                                                          Membership.user_id == row.user_id))
            if user is None or role is None:
                raise AccountError("this link is for someone who is no longer a member")
            return self._member(user, role)

    def set_password(self, token: str, password: str, *, name: str | None = None) -> tuple[SignedIn, str]:
        """Use a one-time link: set the password, end every other session, sign in
        (the new session and its cookie token)."""
        member = self.token_member(token)
        _check_password(password)
        with self.sessions.begin() as s:
            row = s.get(OneTimeToken, _hash(token))
            if row is None or row.used_at is not None:  # a second tab used it meanwhile
                raise AccountError("this link was just used")
            row.used_at = utcnow()
            user = s.get(UserRow, member.user_id)
            assert user is not None
            user.password_hash, user.password_changed_at = _hasher().hash(password), utcnow()
            if name:
                user.name = name
            s.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
        return self._session_token(member.user_id)

    def change_password(self, signed: SignedIn, old: str, new: str) -> tuple[SignedIn, str]:
        """A new password: every session of the member ends; a new one for this browser."""
        with self.sessions() as s:
            user = s.get(UserRow, signed.member.user_id)
            stored = user.password_hash if user else None
        if not stored or not _verify(stored, old):
            raise AccountError("the current password is wrong")
        _check_password(new)
        with self.sessions.begin() as s:
            user = s.get(UserRow, signed.member.user_id)
            assert user is not None
            user.password_hash, user.password_changed_at = _hasher().hash(new), utcnow()
            s.execute(delete(SessionRow).where(SessionRow.user_id == user.id))
        return self._session_token(signed.member.user_id)

    # -- sessions ----------------------------------------------------------------------
    def sign_in(self, email: str, password: str, address: str) -> tuple[SignedIn, str]:
        """A new session for a member's right password: (signed in, the cookie's token).
        Wrong or unknown: AccountError, the same words; too many: TooManyAttempts."""
        email = _email(email)
        pair, addr = f"{email}|{address}", f"|{address}"
        for key, limit in ((pair, PAIR_LIMIT), (addr, ADDRESS_LIMIT)):
            n, wait = self.attempts.count(key)
            if n >= limit:
                raise TooManyAttempts(wait)
        with self.sessions() as s:
            found = s.execute(select(UserRow, Membership.role).join(Membership, Membership.user_id == UserRow.id)
                              .where(UserRow.email == email, Membership.workspace_id == self.workspace_id)).first()
        stored = found[0].password_hash if found else None
        if not _verify(stored or self._dummy, password) or not stored:
            self.attempts.fail(pair)
            self.attempts.fail(addr)
            raise AccountError("wrong email or password")
        self.attempts.clear(pair)
        return self._session_token(found[0].id)

    def _session_token(self, user_id: int) -> tuple[SignedIn, str]:
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.sessions.begin() as s:
            s.add(SessionRow(id=_hash(token), user_id=user_id, workspace_id=self.workspace_id, created_at=now,
                             last_seen=now, expires_at=now + SESSION_MAX))
            user = s.get(UserRow, user_id)
            role = s.scalar(select(Membership.role).where(Membership.workspace_id == self.workspace_id,
                                                          Membership.user_id == user_id))
            assert user is not None and role is not None
            member = self._member(user, role)
        return SignedIn(member, _hash(token)), token

    def signed_in(self, token: str | None) -> SignedIn | None:
        """The member of a session cookie, if the session is valid (it is kept alive)."""
        if not token:
            return None
        sid = _hash(token)
        now = utcnow()
        with self.sessions.begin() as s:
            row = s.get(SessionRow, sid)
            if row is None or row.workspace_id != self.workspace_id:
                return None
            if row.expires_at < now or row.last_seen < now - SESSION_IDLE:
                s.delete(row)
                return None
            if row.last_seen < now - dt.timedelta(minutes=1):
                row.last_seen = now
            found = s.execute(select(UserRow, Membership.role).join(Membership, Membership.user_id == UserRow.id)
                              .where(UserRow.id == row.user_id, Membership.workspace_id == self.workspace_id)).first()
            if found is None:
                return None
            return SignedIn(self._member(found[0], found[1]), sid)

    def sign_out(self, token: str | None) -> None:
        if token:
            with self.sessions.begin() as s:
                s.execute(delete(SessionRow).where(SessionRow.id == _hash(token)))


@dataclass(frozen=True)
class TokenInfo:
    name: str
    role: str
    created_by: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool


TOKEN_PREFIX = "jm_"


class Tokens:
    """API tokens of one workspace: ``Authorization: Bearer jm_...`` with a role; only
    their SHA-256 is stored, shown once at creation, revocable."""

    def __init__(self, sessions: sessionmaker[Session], workspace_id: int):
        self.sessions = sessions
        self.workspace_id = workspace_id

    def create(self, name: str, role: str, *, created_by: str) -> str:
        name = name.strip()
        if not name or len(name) > 200:
            raise AccountError("a token needs a name (up to 200 characters) saying what uses it")
        if role not in ROLES:
            raise AccountError(f"role '{role}': one of {', '.join(ROLES)}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.sessions.begin() as s:
            taken = s.scalar(select(ApiToken.id).where(ApiToken.workspace_id == self.workspace_id,
                                                       ApiToken.name == name))
            if taken is not None:
                raise AccountError(f"a token named '{name}' exists; revoke it or choose another name")
            s.add(ApiToken(id=_hash(token), workspace_id=self.workspace_id, name=name, role=role,
                           created_by=created_by))
        return token

    def list(self) -> list[TokenInfo]:
        with self.sessions() as s:
            rows = s.scalars(select(ApiToken).where(ApiToken.workspace_id == self.workspace_id)
                             .order_by(ApiToken.created_at))
            return [TokenInfo(t.name, t.role, t.created_by, t.created_at, t.last_used_at, t.revoked_at is not None)
                    for t in rows]

    def revoke(self, name: str) -> None:
        with self.sessions.begin() as s:
            row = s.scalar(select(ApiToken).where(ApiToken.workspace_id == self.workspace_id, ApiToken.name == name,
                                                  ApiToken.revoked_at.is_(None)))
            if row is None:
                raise AccountError(f"no active token named '{name}'")
            row.revoked_at = utcnow()

    def check(self, token: str) -> TokenInfo | None:
        """The token's name and role when it is this workspace's and not revoked."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        now = utcnow()
        with self.sessions.begin() as s:
            row = s.get(ApiToken, _hash(token))
            if row is None or row.workspace_id != self.workspace_id or row.revoked_at is not None:
                return None
            if row.last_used_at is None or row.last_used_at < now - dt.timedelta(minutes=1):
                row.last_used_at = now
            return TokenInfo(row.name, row.role, row.created_by, row.created_at, row.last_used_at, False)


def may(role: str, action: str) -> bool:
    return ROLES.index(role) >= ROLES.index(NEEDS[action])


def _email(email: str) -> str:
    e = email.strip().lower()
    if "@" not in e or e.startswith("@") or e.endswith("@") or len(e) > 320 or any(c.isspace() for c in e):
        raise AccountError(f"'{email}' is not an email address")
    return e


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise AccountError("a password has at most 1024 characters")


def _verify(stored: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def open_accounts(root: str, database_url: str | None = None) -> Accounts:
    """The accounts of the workspace at ``root`` (the CLI's ``journeymap users``)."""
    from journeymap.app.db import default_url, open_database
    from journeymap.app.tables import WorkspaceRow
    from journeymap.workspace import Workspace

    with Workspace.open(root) as ws:
        url = database_url or ws.config.app_database_url or default_url(ws.root)
        name, path = ws.config.name, str(ws.root)
    sessions = open_database(url)
    with sessions.begin() as s:
        row = s.scalar(select(WorkspaceRow).where(WorkspaceRow.root == path))
        if row is None:
            row = WorkspaceRow(name=name, root=path)
            s.add(row)
            s.flush()
        return Accounts(sessions, row.id)
