"""The fault suite's summary: one row per fault, printed as a table at the end of the run.

conftest.py collects the rows (`record`) in the pytest config and prints them from its
pytest_terminal_summary hook, whatever the tests' outcomes; HORIZON_FAULTS_REPORT names a file
that gets them as JSON too (for CI to keep).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tests.faults.ledger import Account

COLUMNS = ("fault", "items in/out", "matches", "digests", "duplicates (counted)", "dead letters", "duration")


@dataclass(frozen=True)
class Row:
    fault: str
    items_in: int
    items_out: int
    matches_owed: int
    matches_delivered: int
    digests: int
    duplicates: int
    counted: int
    dead_letters: int
    duration_s: float
    note: str = ""

    def cells(self) -> tuple[str, ...]:
        return (
            self.fault + (f" [{self.note}]" if self.note else ""),
            f"{self.items_in}/{self.items_out}",
            f"{self.matches_delivered}/{self.matches_owed}",
            str(self.digests),
            f"{self.duplicates} ({self.counted})",
            str(self.dead_letters),
            f"{self.duration_s:.0f} s",
        )

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def row(fault: str, account: Account, item_ids: set[str], duration_s: float, note: str = "") -> Row:
    """A fault's row from its run's final books."""
    owed = account.expected | set(account.matched)
    return Row(
        fault=fault, items_in=len(item_ids), items_out=len(set(account.classified) & item_ids),
        matches_owed=len(owed), matches_delivered=len(owed & set(account.delivered)),
        digests=len({(d.subscriber_id, d.kind, d.period) for d in account.digests.values()}),
        duplicates=account.duplicates, counted=account.counted, dead_letters=len(account.letters),
        duration_s=duration_s, note=note,
    )


def table(rows: list[Row]) -> list[str]:
    """The rows as an aligned text table."""
    cells = [COLUMNS, *(r.cells() for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    line = lambda c: "  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip()  # noqa: E731
    return [line(cells[0]), line(tuple("-" * w for w in widths)), *(line(c) for c in cells[1:])]
