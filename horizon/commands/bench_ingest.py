"""`horizon bench ingest`: parse and normalise throughput over the publisher feeds."""


def ingest() -> None:
    """Items per second for parse and normalise, and feedparser's share of the time."""
    raise SystemExit("not built yet")
