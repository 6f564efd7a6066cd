"""The schema: Alembic migrations build exactly the tables the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.subscriptions.models import metadata
from services.subscriptions.store import create_schema, make_engine


def test_migrations_match_the_models(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": lambda name, type_, parent: type_ != "table" or name in metadata.tables}
        )
        assert compare_metadata(context, metadata) == []


def test_create_schema_is_idempotent(engine):
    create_schema(engine)  # a second start finds the schema current


def test_in_memory_sqlite_keeps_one_database():
    engine = make_engine("sqlite://")
    create_schema(engine)
    with engine.connect() as connection:
        assert "subscribers" in {r[0] for r in connection.exec_driver_sql("select name from sqlite_master")}


def test_the_bootstrap_admin_is_created_once(settings, engine):
    from pydantic import SecretStr
    from sqlmodel import select

    from services.subscriptions.app import open_database
    from services.subscriptions.auth import authenticate
    from services.subscriptions.models import Librarian

    boot = settings.model_copy(update={"bootstrap_admin_email": "Admin@Example.nhs.uk",
                                       "bootstrap_admin_password": SecretStr("first start password")})
    sessions = open_database(boot, engine)
    open_database(boot.model_copy(update={"bootstrap_admin_password": SecretStr("another password!")}), engine)
    with sessions() as session:
        assert [(lib.email, lib.role) for lib in session.exec(select(Librarian)).all()] == [("admin@example.nhs.uk", "admin")]
        assert authenticate(session, "admin@example.nhs.uk", "first start password") is not None
