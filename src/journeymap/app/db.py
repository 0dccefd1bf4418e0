"""The app's metadata database: SQLite in the workspace by default, any SQLAlchemy URL
(PostgreSQL) by ``[app] database_url``; its schema comes from the Alembic migrations.

SQLite runs in WAL mode (readers never wait for the writer) with a busy timeout, and
with foreign keys on; :func:`open_database` upgrades the schema to the latest revision
before the app serves a request.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from journeymap.errors import JourneymapError

APP_DIR = ".journeymap"
SQLITE_NAME = "app.sqlite"
BUSY_TIMEOUT_MS = 10_000


def default_url(root: Path) -> str:
    return f"sqlite:///{(root / APP_DIR / SQLITE_NAME).as_posix()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine on ``url``; a SQLite file's folder is created."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # a bad URL or a missing driver
        raise JourneymapError(f"app database '{url}': {exc}") from None


def migrations_dir() -> Path:
    return Path(str(resources.files("journeymap.app").joinpath("migrations")))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (the only way tables change)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def open_database(url: str) -> sessionmaker[Session]:
    """A session factory on ``url``, its schema at the latest revision."""
    engine = make_engine(url)
    try:
        upgrade(engine)
    except JourneymapError:
        raise
    except Exception as exc:
        raise JourneymapError(f"app database '{engine.url.render_as_string(hide_password=True)}': "
                              f"{str(exc).splitlines()[0]}") from exc
    return sessionmaker(engine, expire_on_commit=False)
