"""`horizon demo`: the embedded end-to-end run in one process."""


def demo() -> None:
    """Run the services' use cases in one process on the embedded defaults."""
    raise SystemExit("not built yet")
