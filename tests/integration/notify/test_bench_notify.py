"""notify's benchmark runs end to end on a small population and reports what it measured."""

from __future__ import annotations

from horizon.bench.notify import measure_notify


def test_measure_notify_reports_every_figure() -> None:
    lines: list[str] = []
    result = measure_notify(subscribers=30, matches_per_subscriber=3, smtp_connections=2, progress=lines.append)
    assert set(result) == {"notify_events_per_s", "digests_per_s", "smtp_floor_per_s", "subscribers", "events", "digests"}
    assert result["subscribers"] == 30 and result["digests"] == 30
    assert result["events"] == 30 * 3 + max(3 * 4, 30 * 3 // 20)  # the matches and the items they point at
    assert all(result[k] > 0 for k in ("notify_events_per_s", "digests_per_s", "smtp_floor_per_s"))
    assert lines and all(line.startswith("notify: ") for line in lines)
