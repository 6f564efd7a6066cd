"""notify's operator endpoints: events applied, deliveries by outcome, possible duplicate sends
after a crash, dead letters, SMTP time; /ready on the scheduler's metrics port (database, Kafka,
SMTP) and on the links app (database), which also times its requests by route."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from faststream import TestApp
from faststream.kafka import TestKafkaBroker
from prometheus_client import REGISTRY
from pydantic import SecretStr

from contracts.topics import ITEMS_CLASSIFIED, MATCHES, PROFILES
from services.common.kafka import KafkaSettings
from services.notify.app import create_app, create_links_api
from services.notify.mailer import Outgoing, SendResult, SmtpTransport, parse_smtp_url
from services.notify.readiness import smtp_check

from .conftest import PASSWORD, USER

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def feed(n, ev, sid: str) -> None:  # type: ignore[no-untyped-def]
    n.handle_batch([ev.profile(sid)])
    n.handle_batch([ev.classified(f"doi:{sid}")])
    n.handle_batch([ev.matched(sid, f"doi:{sid}")])


async def test_events_applied_digests_sent_and_poison_parked_through_the_app(settings, ev) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={"send_immediately": True, "scheduler_interval_s": 3600}))
    applied = [value("horizon_notify_events_applied_total", event=e) for e in ("ProfileChanged", "ItemMatched")]
    sent = value("horizon_notify_deliveries_total", kind="digest", outcome="sent")
    parked = value("horizon_notify_messages_dead_lettered_total", topic=MATCHES)
    async with TestKafkaBroker(app.broker) as broker, TestApp(app):
        profile = ev.profile("ops-asha")
        await broker.publish(profile, topic=PROFILES, key=b"ops-asha")
        await broker.publish(profile, topic=PROFILES, key=b"ops-asha")  # redelivered: not applied again
        await broker.publish(ev.matched("ops-asha", "doi:ops"), topic=MATCHES, key=b"ops-asha")
        await broker.publish(b"\xff not json", topic=MATCHES, key=b"ops-asha")  # poison: parked
        await broker.publish(ev.classified("doi:ops"), topic=ITEMS_CLASSIFIED, key=b"doi:ops")
        await app.notify_tick()  # type: ignore[attr-defined]
    assert [value("horizon_notify_events_applied_total", event=e) for e in ("ProfileChanged", "ItemMatched")] == \
        [applied[0] + 1, applied[1] + 1]
    assert value("horizon_notify_deliveries_total", kind="digest", outcome="sent") == sent + 1
    assert value("horizon_notify_messages_dead_lettered_total", topic=MATCHES) == parked + 1


def test_an_intent_resumed_after_its_sender_stopped_mid_send_counts_as_a_possible_duplicate(make, ev, recording) -> None:  # type: ignore[no-untyped-def]
    duplicates = value("horizon_notify_possible_duplicate_sends_total", kind="digest")
    retrying = value("horizon_notify_deliveries_total", kind="digest", outcome="retrying")
    sent = value("horizon_notify_deliveries_total", kind="digest", outcome="sent")

    crashing, _ = make(transport=recording(fail_after=0))  # dies with the message in the transport's hands
    feed(crashing, ev, "crash")
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashing.run_due(T0, force=True)
    survivor, transport = make()
    survivor.run_due(T0 + timedelta(minutes=5))  # the dead instance's lease has run out: resent
    assert [m.recipient for m in transport.sent] == ["crash@example.nhs.uk"]
    assert value("horizon_notify_possible_duplicate_sends_total", kind="digest") == duplicates + 1

    # a refused attempt is recorded: resending it later is a retry, not a possible duplicate
    refusing, _ = make(transport=recording(results=[SendResult(ok=False, error="451 try again later")]))
    feed(refusing, ev, "retry")
    refusing.run_due(T0, force=True)
    assert value("horizon_notify_deliveries_total", kind="digest", outcome="retrying") == retrying + 1
    later, transport = make()
    later.run_due(T0 + timedelta(minutes=10))
    assert [m.recipient for m in transport.sent] == ["retry@example.nhs.uk"]
    assert value("horizon_notify_possible_duplicate_sends_total", kind="digest") == duplicates + 1
    assert value("horizon_notify_deliveries_total", kind="digest", outcome="sent") == sent + 2


def test_smtp_sends_are_timed_and_the_server_is_checked_without_logging_in(smtp_server) -> None:  # type: ignore[no-untyped-def]
    inbox, port = smtp_server
    url = f"smtp://{USER}:{quote(PASSWORD)}@127.0.0.1:{port}"
    transport = SmtpTransport(parse_smtp_url(url), backoff_s=0)
    before = value("horizon_notify_smtp_send_duration_seconds_count", outcome="ok")
    try:
        result = transport.send(Outgoing(name="m", message_id="<m@x>", sender="a@example.org",
                                         recipient="b@example.org", raw=b"Subject: hi\r\n\r\nhello\r\n"))
    finally:
        transport.close()
    assert result.ok and len(inbox.envelopes) == 1
    assert value("horizon_notify_smtp_send_duration_seconds_count", outcome="ok") == before + 1

    asyncio.run(smtp_check(url, timeout_s=3)())  # answers: no exception
    with pytest.raises(OSError):
        asyncio.run(smtp_check(f"smtp://127.0.0.1:{free_port()}", timeout_s=3)())


async def test_the_schedulers_port_names_what_is_down(settings, smtp_server) -> None:  # type: ignore[no-untyped-def]
    _, smtp_port = smtp_server
    port = free_port()
    down = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")
    outcomes = {}
    for smtp in (f"smtp://127.0.0.1:{smtp_port}", f"smtp://127.0.0.1:{free_port()}"):
        app = create_app(settings.model_copy(update={"metrics_port": port, "smtp_url": SecretStr(smtp),
                                                     "scheduler_interval_s": 3600}), kafka=down)
        # the in-memory broker stands in for Kafka; readiness still asks the closed port it was given
        async with TestKafkaBroker(app.broker), TestApp(app), \
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            ready = await http.get("/ready")
            assert (await http.get("/health")).status_code == 200
            assert "horizon_notify_deliveries_total" in (await http.get("/metrics")).text
        assert ready.status_code == 503 and ready.json()["checks"]["database"] == "ok"
        outcomes[smtp] = ready.json()["failed"]
    assert list(outcomes.values()) == [["kafka"], ["kafka", "smtp"]]


@pytest.fixture(params=["sqlite", "postgres"])
def links_settings(request, settings):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return settings
    return settings.model_copy(update={"database_url": request.getfixturevalue("postgres_url")})


def test_the_links_app_times_requests_by_route_and_is_ready_on_its_database(links_settings) -> None:  # type: ignore[no-untyped-def]
    labels = {"route": "/r/{token}", "method": "GET", "status": "400"}
    before = value("horizon_notify_http_request_duration_seconds_count", **labels)
    with TestClient(create_links_api(links_settings)) as client:
        assert client.get("/r/not-a-valid-token").status_code == 400
        ready = client.get("/ready")
        assert client.get("/health").status_code == 200 and client.get("/healthz").status_code == 200
        metrics = client.get("/metrics")
    assert value("horizon_notify_http_request_duration_seconds_count", **labels) == before + 1
    assert "not-a-valid-token" not in metrics.text
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}


@pytest.mark.kafka
async def test_the_scheduler_is_ready_on_the_real_broker(settings, kafka_bootstrap) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    app = create_app(settings.model_copy(update={"metrics_port": port, "scheduler_interval_s": 3600,
                                                 "consumer_group": f"notify-ops-{port}"}),
                     kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap))
    async with TestApp(app), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        ready = await http.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}  # no SMTP set: the outbox folder
