"""`horizon bench relevance` and `horizon bench pipeline`: classify's benchmarks."""


def relevance() -> None:
    """The routing benchmark: bm25, dense and the production matcher."""
    raise SystemExit("not built yet")


def pipeline() -> None:
    """Classify throughput against raw encode speed; match latency as profiles grow."""
    raise SystemExit("not built yet")
