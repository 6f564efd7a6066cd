"""The default outbox transport on disk, and the links API over the same SQLite database."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email import message_from_bytes, policy
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from contracts import FeedbackGiven
from services.notify.api import create_links_api
from services.notify.bootstrap import build_notifier

MONDAY_8 = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


def digest_with_links(settings, ev):  # type: ignore[no-untyped-def]
    n = build_notifier(settings)  # no SMTP URL: the outbox folder
    n.handle(ev.profile("asha"))
    n.handle(ev.classified("doi:1", url="https://www.nejm.org/doi/10.1056/NEJMoa1107039"))
    n.handle(ev.matched("asha", "doi:1"))
    [sent] = n.run_due(MONDAY_8)
    return n, sent


def test_outbox_holds_the_exact_message_and_its_html(settings, ev) -> None:  # type: ignore[no-untyped-def]
    n, sent = digest_with_links(settings, ev)
    n.close()
    [eml] = sorted(settings.outbox_dir.glob("*.eml"))
    [html] = sorted(settings.outbox_dir.glob("*.html"))
    assert eml.name == "digest_2026-W48_asha.eml" and html.stem == eml.stem
    raw = eml.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF, as SMTP carries it
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Message-ID"] == sent.message_id
    body = msg.get_body(preferencelist=("html",)).get_content()
    assert body.replace("\r\n", "\n").strip() == html.read_text(encoding="utf-8").strip()


def _link(html: str, marker: str) -> str:
    """The first link in the page whose URL (or, with '>', whose label) contains `marker`."""
    if marker.startswith(">"):
        return re.search(rf'<a href="([^"]+)"[^>]*{marker}', html).group(1)
    return next(h for h in (part.split('"')[0] for part in html.split('href="')[1:]) if marker in h)


def test_links_record_clicks_and_feedback_once(settings, ev) -> None:  # type: ignore[no-untyped-def]
    n, sent = digest_with_links(settings, ev)
    html = next(settings.outbox_dir.glob("*.html")).read_text(encoding="utf-8")
    client = TestClient(create_links_api(settings, store=n.store))
    path = lambda url: urlsplit(url).path.removeprefix("/n")  # noqa: E731  (links carry the public prefix)

    click = client.get(path(_link(html, "/r/")), follow_redirects=False)
    assert click.status_code == 303 and click.headers["location"] == "https://www.nejm.org/doi/10.1056/NEJMoa1107039"
    useful = path(_link(html, ">Useful<"))
    assert client.post(useful).status_code == 200
    page = client.post(useful)
    assert "Thank you" in page.text and "Title of doi:1" in page.text
    assert client.post(path(_link(html, "/t/"))).status_code == 200

    events = [e for e in n.outbox() if isinstance(e, FeedbackGiven)]
    assert sorted(e.verdict for e in events) == ["click", "full_text_request", "useful"]
    assert {(e.subscriber_id, e.item_id, e.digest_id) for e in events} == {("asha", "doi:1", sent.digest_id)}
    n.mark_published(events)
    assert [e for e in n.outbox() if isinstance(e, FeedbackGiven)] == []
    n.close()


def test_forged_links_and_unknown_verdicts_are_refused(settings, ev) -> None:  # type: ignore[no-untyped-def]
    n, _ = digest_with_links(settings, ev)
    client = TestClient(create_links_api(settings, store=n.store))
    html = next(settings.outbox_dir.glob("*.html")).read_text(encoding="utf-8")
    token = urlsplit(_link(html, ">Useful<")).path.split("/")[-1]
    assert client.get(f"/r/{token[:-3]}xyz", follow_redirects=False).status_code == 400
    assert client.post(f"/f/{token}/delete_everything").status_code == 410  # the older shape records nothing
    assert [e for e in n.outbox() if isinstance(e, FeedbackGiven)] == []
    n.close()
