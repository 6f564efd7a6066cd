"""Shared fixtures of ingest's integration tests: where the shared test data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
FEEDS = DATA / "feeds"


@pytest.fixture(scope="session")
def feeds_dir() -> Path:
    if not FEEDS.is_dir():
        pytest.skip(f"shared test data not found at {FEEDS}")
    return FEEDS
