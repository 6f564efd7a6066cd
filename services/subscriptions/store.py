"""Database access: the engine, the schema (Alembic migrations) and sessions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

SessionFactory = Callable[[], Session]


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// mean PostgreSQL through psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine for `url`; in-memory SQLite keeps one shared connection, files get their folder."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
    else:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def create_schema(engine: Engine) -> None:
    """Bring the database to the newest schema by running the Alembic migrations."""
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    log.info("schema up to date", extra={"database": engine.url.render_as_string(hide_password=True)})


def session_factory(engine: Engine) -> SessionFactory:
    """Sessions whose objects stay readable after commit (handy in request handlers)."""

    def make() -> Session:
        return Session(engine, expire_on_commit=False)

    return make
