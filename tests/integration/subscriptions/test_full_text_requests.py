"""A full-text request from the e-mail's link to the library: the confirming POST on notify's
links app, the FeedbackGiven it publishes, the librarian's queue, and the e-mail to the library's
request address arriving at a real SMTP server on loopback."""

from __future__ import annotations

import email
import re
from datetime import datetime, timezone
from email import policy

from fastapi.testclient import TestClient

from contracts import EvidenceType, Item, ItemClassified, ItemMatched, MatchReason, Profile, ProfileChanged
from services.notify.api import create_links_api
from services.notify.bootstrap import build_notifier
from services.notify.settings import NotifySettings
from services.subscriptions import engagement, mail, requests

from .conftest import new_subscriber
from .test_security import login
from .test_selfservice_links import smtp  # noqa: F401  (the loopback SMTP server fixture)

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
LIBRARY = "requests@library.alpha.nhs.uk"


def test_a_full_text_request_reaches_the_librarian_queue_and_the_librarys_mailbox(client, world, sessions, tmp_path, smtp):
    inbox, smtp_url = smtp
    sub = new_subscriber(client, world.a, name="Dr Asha Khan", email="asha.khan@alpha.nhs.uk", role="Consultant cardiologist")
    notify_settings = NotifySettings(_env_file=None, dev=True, database_url=f"sqlite:///{tmp_path}/notify.db",
                                     outbox_dir=tmp_path / "outbox", smtp_url="", public_base_url="http://links.test",
                                     library_name="Alpha Library and Knowledge Service")
    n = build_notifier(notify_settings)
    try:
        n.handle(ProfileChanged(producer="subscriptions", subscriber_id=sub["id"], organisation_id=world.a.org_id,
                                version=1, profile=Profile(name="Dr Asha Khan", email="asha.khan@alpha.nhs.uk")))
        n.handle(ItemClassified(producer="classify", occurred_at=NOW, evidence_type=EvidenceType.trial, item=Item(
            item_id="doi:10.5555/horizon.2026.0042", source_id="s", title="Apixaban dosing in frail older adults",
            url="https://journal.example.org/apixaban", published_at=NOW)))
        n.handle(ItemMatched(producer="classify", occurred_at=NOW, item_id="doi:10.5555/horizon.2026.0042",
                             subscriber_id=sub["id"], organisation_id=world.a.org_id, score=0.9,
                             reasons=[MatchReason(kind="interest", text="Anticoagulation", score=0.9)]))
        [sent] = n.run_due(NOW, force=True)
        [eml] = (tmp_path / "outbox").glob("*.eml")
        text = email.message_from_bytes(eml.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
        link = re.search(r"Request the full text: (\S+)", text).group(1)
        path = link.removeprefix("http://links.test")

        with TestClient(create_links_api(notify_settings, store=n.store)) as links:
            ask = links.get(path)
            assert ask.status_code == 200 and "Apixaban dosing in frail older adults" in ask.text
            assert "request queue" in ask.text and "will reply to you by e-mail" in ask.text
            assert "will send you the full text" not in ask.text  # no promise the library may not keep
            done = links.post(path)
            assert done.status_code == 200 and "Request sent to your library team" in done.text
            assert "nothing is sent to you automatically" in done.text
        [given] = [e for e in n.outbox() if getattr(e, "verdict", "") == "full_text_request"]
        assert (given.title, given.url) == ("Apixaban dosing in frail older adults", "https://journal.example.org/apixaban")
    finally:
        n.close()

    # subscriptions consumes the FeedbackGiven (as its Kafka handler does), twice: redelivery counts once
    for _ in range(2):
        with sessions() as session:
            engagement.record_feedback(session, given, requests_address=LIBRARY)
    with sessions() as session:
        assert requests.waiting_count(session, [world.a.org_id]) == 1
        assert requests.waiting_count(session, [world.b.org_id]) == 0
    assert mail.send_pending(sessions, mail.SmtpTransport(smtp_url), "evidence@library.alpha.nhs.uk") == 1
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == [LIBRARY]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == "Full-text request: Apixaban dosing in frail older adults"
    body = message.get_content()
    assert "Dr Asha Khan (Consultant cardiologist) <asha.khan@alpha.nhs.uk>" in body
    assert "https://doi.org/10.5555/horizon.2026.0042" in body and "https://journal.example.org/apixaban" in body

    csrf = login(client, world.a.email)
    queue = client.get("/requests")
    assert "Apixaban dosing in frail older adults" in queue.text and "Dr Asha Khan, Consultant cardiologist" in queue.text
    assert 'href="https://doi.org/10.5555/horizon.2026.0042"' in queue.text and "Status:</strong> new" in queue.text
    [request_id] = re.findall(r'action="/requests/(\d+)"', queue.text)
    moved = client.post(f"/requests/{request_id}", data={"csrf_token": csrf, "status": "supplied",
                                                          "note": "Sent the PDF from our subscription"}, follow_redirects=False)
    assert moved.status_code == 303
    assert "Sent the PDF from our subscription" in client.get("/requests", params={"status": "supplied"}).text
    with sessions() as session:
        assert requests.waiting_count(session, [world.a.org_id]) == 0
    # another organisation's librarian neither sees nor moves it
    client.post("/logout", data={"csrf_token": csrf})
    other = login(client, world.b.email)
    assert "Apixaban" not in client.get("/requests").text
    assert client.post(f"/requests/{request_id}", data={"csrf_token": other, "status": "closed"}).status_code == 404
