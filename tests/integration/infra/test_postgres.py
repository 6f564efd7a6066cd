"""The `postgres_url` fixture: a real PostgreSQL database, fresh and empty for every test."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("run", ["first", "second"])
def test_each_test_gets_a_fresh_empty_database(postgres_url: str, run: str) -> None:
    # Whichever run comes second would see the first one's table if databases were shared.
    assert postgres_url.startswith("postgresql+psycopg://")
    engine = create_engine(postgres_url)
    try:
        assert inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE note (id serial PRIMARY KEY, body text NOT NULL)"))
            conn.execute(text("INSERT INTO note (body) VALUES (:body)"), {"body": run})
        with engine.connect() as conn:
            assert conn.execute(text("SELECT body FROM note")).scalars().all() == [run]
    finally:
        engine.dispose()


def test_the_database_is_dropped_after_the_test(postgres_server_url: str, request: pytest.FixtureRequest) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(request.getfixturevalue("postgres_url"))
    server = create_engine(postgres_server_url)
    try:
        with server.connect() as conn:
            names = set(conn.execute(text("SELECT datname FROM pg_database")).scalars())
        assert url.database in names
    finally:
        server.dispose()
