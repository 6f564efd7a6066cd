"""Alembic environment: runs migrations on the connection that store.create_schema hands over."""

from __future__ import annotations

from alembic import context

from services.subscriptions.models import metadata

VERSION_TABLE = "subscriptions_alembic_version"


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("give alembic a connection (store.create_schema) or sqlalchemy.url")
    from services.subscriptions.store import make_engine

    with make_engine(url).begin() as conn:
        _migrate(conn)


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        # Another service may share the database in a demo: look only at our own tables.
        include_name=lambda name, type_, parent: type_ != "table" or name in metadata.tables,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
