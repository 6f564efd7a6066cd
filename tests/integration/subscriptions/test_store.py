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
