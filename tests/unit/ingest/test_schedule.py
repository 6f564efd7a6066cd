"""Schedules: jitter, capped exponential back-off, Retry-After parsing; health after success and failure."""

from datetime import datetime, timedelta, timezone

from services.ingest.errors import ErrorKind, IngestError
from services.ingest.health import is_healthy, record_failure, record_success
from services.ingest.netguard import is_public
from services.ingest.schedule import Policy, after_failure, after_success, backoff_s, parse_retry_after
from services.ingest.tables import Source

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
POLICY = Policy(jitter_fraction=0.1, backoff_base_s=60, backoff_max_s=3600, retry_after_max_s=7200)


def test_jitter_spreads_within_the_fraction():
    assert after_success(NOW, 1000, POLICY, 0.0) == NOW + timedelta(seconds=900)
    assert after_success(NOW, 1000, POLICY, 0.5) == NOW + timedelta(seconds=1000)
    assert after_success(NOW, 1000, POLICY, 0.999999) < NOW + timedelta(seconds=1100)


def test_backoff_doubles_and_is_capped():
    assert [backoff_s(n, POLICY) for n in (1, 2, 3, 7, 100)] == [60, 120, 240, 3600, 3600]


def test_retry_after_wins_but_is_capped():
    assert after_failure(NOW, 1, POLICY, 0.5, retry_after_s=600) == NOW + timedelta(seconds=600)
    assert after_failure(NOW, 1, POLICY, 0.5, retry_after_s=10**6) == NOW + timedelta(seconds=7200)
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Mon, 23 Nov 2026 09:00:00 GMT", NOW) == 3600
    assert parse_retry_after("soon", NOW) is None and parse_retry_after(None, NOW) is None


def test_health_counts_failures_resets_on_success_and_410_disables():
    source = Source(id="s", url="https://e.example/rss", poll_interval_s=600)
    error = IngestError(kind=ErrorKind.timeout, message="slow")
    failed = record_failure(record_failure(source, NOW, error, POLICY, 0.5), NOW, error, POLICY, 0.5)
    assert failed.consecutive_failures == 2 and failed.last_error_kind == "timeout" and not is_healthy(failed)
    assert failed.next_attempt_at == NOW + timedelta(seconds=120)
    ok = record_success(failed, NOW, POLICY, 0.5, etag='"e"', last_modified=None, moved_to="https://n.example/rss",
                        items=3, warning=None)
    assert ok.consecutive_failures == 0 and ok.etag == '"e"' and ok.url == "https://n.example/rss" and is_healthy(ok)
    assert ok.last_error_kind == "timeout"  # the last error stays on record
    gone = record_failure(ok, NOW, IngestError(kind=ErrorKind.gone, message="410"), POLICY, 0.5)
    assert gone.enabled is False and gone.next_attempt_at is None


def test_only_public_addresses_pass():
    assert is_public("93.184.216.34") and is_public("2606:2800:220:1::1")
    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fe80::1",
                    "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1", "fc00::1"):
        assert not is_public(address), address
