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


def test_the_accounts_migration_cleans_stored_names_and_gives_old_tokens_an_expiry(database_url):
    """Rows written before 0004 hold what the validation now refuses, and tokens without an expiry."""
    import json
    from datetime import datetime, timedelta, timezone

    from alembic import command
    from sqlalchemy import text

    from services.subscriptions.store import alembic_config

    engine = make_engine(database_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with engine.begin() as c:
        c.execute(text("insert into organisations (id, name, created_at) values ('o', :name, :t)"),
                  {"t": created, "name": "Trust\u202e"})
        c.execute(text("insert into librarians (id, email, name, role, password_hash, active, created_at) "
                       "values ('l', 'l@example.nhs.uk', :name, 'admin', 'x', true, :t)"), {"t": created, "name": "Lib\r\nrarian"})
        c.execute(text("insert into api_tokens (id, librarian_id, name, token_hash, created_at, revoked) "
                       "values ('t', 'l', 'old', 'h', :t, false)"), {"t": created})
        c.execute(text("insert into subscribers (id, organisation_id, name, email, email_key, role, status, version, "
                       "created_at, updated_at) values ('s', 'o', :name, 'a@example.nhs.uk', 'a@example.nhs.uk', "
                       ":role, 'active', 1, :t, :t)"), {"t": created, "name": "Asha\x1b Khan", "role": "Nurse\nBcc: x"})
        c.execute(text("insert into profiles (subscriber_id, frequency, weekday, hour, urgent_alerts, interests, topics, "
                       "examples, exclude, content_types, sources) values ('s', 'weekly', 'monday', 7, true, "
                       ":interests, '[]', '[]', '[]', '[]', '[]')"), {"interests": '["heart\\nfailure", "ok"]'})
    create_schema(engine)
    with engine.connect() as c:
        assert c.execute(text("select name from organisations")).scalar() == "Trust"
        assert c.execute(text("select name from librarians")).scalar() == "Lib rarian"
        assert c.execute(text("select name, role from subscribers")).one() == ("Asha Khan", "Nurse Bcc: x")
        interests = c.execute(text("select interests from profiles")).scalar()
        assert (interests if isinstance(interests, list) else json.loads(interests)) == ["heart failure", "ok"]
        expires = c.execute(text("select expires_at from api_tokens")).scalar()
    expires = expires if isinstance(expires, datetime) else datetime.fromisoformat(str(expires))
    assert expires.replace(tzinfo=timezone.utc) == created + timedelta(days=90)
    engine.dispose()
