"""Feedback and full-text links: a GET shows a confirmation and records nothing (mail scanners open
every link); the confirming POST records once; the verdict is inside the signed token, so a click
token is no feedback token and a 'useful' token cannot say 'not relevant'; a replay changes
nothing; an erased subscriber's links are dead; and no id can be read out of a link."""

from __future__ import annotations

import base64
import re
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlmodel import update

from contracts import FeedbackGiven
from services.notify.api import create_links_api
from services.notify.bootstrap import build_notifier
from services.notify.tables import DeliveryRow

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
SID, ORG = str(uuid.uuid4()), str(uuid.uuid4())
ITEM = "doi:10.1056/nejmoa1107039"
URL = "https://www.nejm.org/doi/10.1056/NEJMoa1107039"


def _digest(settings, ev):  # type: ignore[no-untyped-def]
    n = build_notifier(settings)
    n.handle(ev.profile(SID, org=ORG))
    n.handle(ev.classified(ITEM, url=URL, title="Apixaban versus warfarin"))
    n.handle(ev.matched(SID, ITEM, org=ORG))
    [sent] = n.run_due(MONDAY_8)
    html = next(settings.outbox_dir.glob("*.html")).read_text(encoding="utf-8")
    return n, sent, html


def _links(html: str) -> dict[str, str]:
    """The item's links by label, as paths on the links app (the public prefix taken off)."""
    path = lambda url: urlsplit(url).path.removeprefix("/n")  # noqa: E731
    found = {"click": re.search(r'<a href="([^"]+/r/[^"]+)"', html).group(1)}
    for label, key in (("Useful", "useful"), ("Not relevant", "not_relevant"), ("Request the full text", "full_text")):
        found[key] = re.search(rf'<a href="([^"]+)"[^>]*>{label}</a>', html).group(1)
    return {k: path(v) for k, v in found.items()}


def _feedback(n) -> list[FeedbackGiven]:  # type: ignore[no-untyped-def]
    return [e for e in n.outbox() if isinstance(e, FeedbackGiven)]


def _form_action(page: str) -> str | None:
    match = re.search(r"<form[^>]*method=\"post\"[^>]*>", page)
    return match.group(0) if match else None


def test_a_get_records_nothing_and_the_confirming_post_records_once(settings, ev) -> None:  # type: ignore[no-untyped-def]
    n, sent, html = _digest(settings, ev)
    client = TestClient(create_links_api(settings, store=n.store))
    links = _links(html)
    for key in ("useful", "not_relevant", "full_text"):
        page = client.get(links[key])  # what a mail scanner does
        assert page.status_code == 200 and _form_action(page.text) and "Apixaban versus warfarin" in page.text
    assert _feedback(n) == []
    done = client.post(links["useful"])
    assert done.status_code == 200 and "more like this" in done.text
    again = client.post(links["useful"])  # a replay
    assert again.status_code == 200 and client.get(links["useful"]).status_code == 200
    assert client.post(links["full_text"]).status_code == 200
    assert sorted(e.verdict for e in _feedback(n)) == ["full_text_request", "useful"]
    assert {(e.subscriber_id, e.organisation_id, e.item_id, e.digest_id) for e in _feedback(n)} == {(SID, ORG, ITEM, sent.digest_id)}
    n.close()


def test_the_verdict_is_in_the_token(settings, ev) -> None:  # type: ignore[no-untyped-def]
    n, _, html = _digest(settings, ev)
    client = TestClient(create_links_api(settings, store=n.store))
    links = _links(html)
    click_token = links["click"].rsplit("/", 1)[-1]
    useful_token = links["useful"].rsplit("/", 1)[-1]
    assert client.get(f"/f/{click_token}").status_code == 400  # a click token is no feedback token
    assert client.post(f"/f/{click_token}").status_code == 400
    assert client.post(f"/t/{useful_token}").status_code == 400  # nor is a verdict a full-text request
    assert client.get(f"/r/{useful_token}", follow_redirects=False).status_code == 400
    assert client.post(f"/f/{useful_token}/not_relevant").status_code in (404, 405, 410)  # the old shape says nothing
    raw = bytearray(base64.urlsafe_b64decode(useful_token + "=" * (-len(useful_token) % 4)))
    for position in range(len(raw)):  # no byte can be changed, the action's included
        forged = bytearray(raw)
        forged[position] ^= 0x01
        token = base64.urlsafe_b64encode(bytes(forged)).decode().rstrip("=")
        assert client.post(f"/f/{token}").status_code == 400
    assert client.post(links["useful"]).status_code == 200
    assert [e.verdict for e in _feedback(n)] == ["useful"]
    n.close()


def test_a_replayed_click_counts_once(settings, ev) -> None:  # type: ignore[no-untyped-def]
    n, _, html = _digest(settings, ev)
    client = TestClient(create_links_api(settings, store=n.store))
    click = _links(html)["click"]
    for _ in range(3):
        response = client.get(click, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == URL
    assert [e.verdict for e in _feedback(n)] == ["click"]
    n.close()


def test_an_erased_subscribers_links_are_dead(settings, ev) -> None:  # type: ignore[no-untyped-def]
    n, _, html = _digest(settings, ev)
    client = TestClient(create_links_api(settings, store=n.store))
    links = _links(html)
    n.handle(ev.tombstone(SID, org=ORG))
    assert client.get(links["click"], follow_redirects=False).status_code == 410
    for key in ("useful", "not_relevant", "full_text"):
        assert client.get(links[key]).status_code == 410
        assert client.post(links[key]).status_code == 410
    assert _feedback(n) == []
    n.close()


def test_expired_links_are_refused(settings, ev) -> None:  # type: ignore[no-untyped-def]
    n, _, html = _digest(settings, ev)
    client = TestClient(create_links_api(settings, store=n.store))
    with n.store.session() as s:
        s.exec(update(DeliveryRow).values(created_at=datetime.now(timezone.utc) - timedelta(seconds=settings.link_max_age_s + 60)))
        s.commit()
    assert client.post(_links(html)["useful"]).status_code == 410
    assert _feedback(n) == []
    n.close()


def _readable(token: str) -> bytes:
    """Whatever a reader can get out of a token: each dot-separated part base64-decoded, and
    inflated where it is compressed (as itsdangerous compresses a payload starting '.')."""
    out = b""
    for part in token.split("."):
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) if part else b""
        try:
            raw += zlib.decompress(raw)
        except zlib.error:
            pass
        out += raw + b"\x00"
    return out


def test_no_id_can_be_read_out_of_a_link(settings, ev) -> None:  # type: ignore[no-untyped-def]
    n, sent, html = _digest(settings, ev)
    message = message_from_bytes(next(settings.outbox_dir.glob("*.eml")).read_bytes(), policy=policy.default)
    text = message.get_body(("plain",)).get_content() + message["List-Unsubscribe"]
    urls = set(re.findall(r"https://horizon\.example\.org/[^\s\"<>]+", html + text))
    assert any("/r/" in u for u in urls) and any("/self/" in u for u in urls)
    secrets = [SID, ORG, sent.digest_id, ITEM, URL, "nejm", "10.1056"]
    for url in urls:
        token = url.rstrip("/").split("/")[-1] if not url.endswith("/unsubscribe") else url.split("/")[-2]
        decoded = _readable(token)
        for value in secrets:
            assert value not in url and value.encode() not in decoded
        for value in (SID, ORG, sent.digest_id):
            assert uuid.UUID(value).bytes not in decoded
    n.close()


def test_links_in_older_e_mails_take_the_reader_to_the_item_and_record_nothing(settings, ev) -> None:  # type: ignore[no-untyped-def]
    """Click tokens of the previous format are in mailboxes for a year: they still lead to the
    item (for a subscriber still held) but count nothing; their feedback links record nothing."""
    from itsdangerous import URLSafeTimedSerializer

    n, sent, _ = _digest(settings, ev)
    client = TestClient(create_links_api(settings, store=n.store))
    old = URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt="horizon.notify.link").dumps(
        {"s": SID, "o": ORG, "i": ITEM, "d": sent.digest_id})
    click = client.get(f"/r/{old}", follow_redirects=False)
    assert click.status_code == 303 and click.headers["location"] == URL
    assert client.get(f"/f/{old}/useful").status_code == 410 and client.get(f"/t/{old}").status_code in (400, 410)
    assert _feedback(n) == []
    n.handle(ev.tombstone(SID, org=ORG))
    assert client.get(f"/r/{old}", follow_redirects=False).status_code == 410
    n.close()
