"""Each self-service link does its own action only. The unsubscribe link (which mail providers
see) unsubscribes and offers nothing else; the preferences link changes preferences; downloading
or deleting one's data needs a fresh link e-mailed to the subscriber's own address, which soon expires."""

from __future__ import annotations

import base64
import json
import re
import socket
import time
import uuid
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlmodel import select

from services.subscriptions import links, mail
from services.subscriptions.models import MailRow

from .conftest import SECRET, new_subscriber
from .test_security import csrf_of


class _Inbox:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    """A real SMTP server on loopback (aiosmtpd)."""
    inbox = _Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{port}"
    controller.stop()


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def _actions(html: str) -> list[str]:
    return re.findall(r'<form[^>]*action="([^"]+)"', html)


def test_the_unsubscribe_page_offers_no_other_link(client, world):
    sid = new_subscriber(client, world.a)["id"]
    token = links.sign(SECRET, sid, "unsubscribe")
    page = client.get(f"/self/{token}")
    assert page.status_code == 200
    assert [h for h in _hrefs(page.text) if "/self/" in h] == []
    assert set(_actions(page.text)) == {f"/self/{token}"}
    done = client.post(f"/self/{token}", data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and "/self/" not in done.text.replace(f"/self/{token}", "")
    # an unsubscribe link changes nothing else, whatever the form says
    assert client.post(f"/self/{token}", data={"csrf_token": csrf_of(page.text), "frequency": "daily"}).status_code == 200
    sub = client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()
    assert (sub["status"], sub["frequency"]) == ("unsubscribed", "weekly")
    assert client.post(f"/self/{token}/send-link", data={"csrf_token": csrf_of(page.text), "what": "export"}).status_code == 403


def test_the_preferences_page_links_to_nothing_that_exports_or_deletes(client, world):
    sid = new_subscriber(client, world.a)["id"]
    token = links.sign(SECRET, sid, "preferences")
    page = client.get(f"/self/{token}")
    assert [h for h in _hrefs(page.text) if "/self/" in h] == []
    assert set(_actions(page.text)) == {f"/self/{token}", f"/self/{token}/send-link"}
    # a preferences link never deletes, exports or unsubscribes in one click
    assert client.post(f"/self/{token}/unsubscribe").status_code == 403
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()["status"] == "active"


def test_export_and_delete_need_a_fresh_link_sent_to_the_subscriber(client, world, sessions, settings, smtp):
    inbox, smtp_url = smtp
    sid = new_subscriber(client, world.a)["id"]
    prefs = links.sign(SECRET, sid, "preferences")
    page = client.get(f"/self/{prefs}")
    asked = client.post(f"/self/{prefs}/send-link", data={"csrf_token": csrf_of(page.text), "what": "export"})
    assert asked.status_code == 200 and "sent" in asked.text and "asha.khan@example.nhs.uk" not in asked.text
    again = client.post(f"/self/{prefs}/send-link", data={"csrf_token": csrf_of(page.text), "what": "export"})
    assert again.status_code == 200  # said kindly, but no second e-mail within the interval
    with sessions() as db:
        assert len(db.exec(select(MailRow)).all()) == 1
    transport = mail.transport_for(settings.model_copy(update={"smtp_url": SecretStr(smtp_url)}))
    assert mail.send_pending(sessions, transport, settings.from_address) == 1
    assert mail.send_pending(sessions, transport, settings.from_address) == 0  # sent once
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["asha.khan@example.nhs.uk"]
    message = message_from_bytes(envelope.content, policy=policy.default)
    url = re.search(r"http://testserver(/self/[A-Za-z0-9_-]+)", message.get_content()).group(1)
    with sessions() as db:
        assert db.exec(select(MailRow)).one().body == ""  # the link is not kept once sent
    download = client.get(url)
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert json.loads(download.content)["email"] == "asha.khan@example.nhs.uk"
    stale = links.sign(SECRET, sid, "export", issued_at=int(time.time()) - settings.sensitive_link_max_age_s - 60)
    assert client.get(f"/self/{stale}").status_code == 410

    asked = client.post(f"/self/{prefs}/send-link", data={"csrf_token": csrf_of(page.text), "what": "delete"})
    assert asked.status_code == 200
    mail.send_pending(sessions, transport, settings.from_address)
    message = message_from_bytes(inbox.envelopes[-1].content, policy=policy.default)
    delete_url = re.search(r"http://testserver(/self/[A-Za-z0-9_-]+)", message.get_content()).group(1)
    confirm = client.get(delete_url)
    assert confirm.status_code == 200 and [h for h in _hrefs(confirm.text) if "/self/" in h] == []
    assert client.post(delete_url, data={"csrf_token": csrf_of(confirm.text)}).status_code == 200
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).status_code == 404
    assert client.get(f"/self/{prefs}").status_code == 404  # every link of an erased subscriber is dead
    with sessions() as db:
        assert db.exec(select(MailRow)).all() == []  # nor is their address kept in the mail outbox


def test_self_service_links_carry_no_readable_id(client, world):
    sub = new_subscriber(client, world.a)
    listed = client.get(f"/api/subscribers/{sub['id']}/links", headers=world.a.headers).json()
    assert set(listed) == {"preferences", "unsubscribe", "one_click_unsubscribe"}
    for url in listed.values():
        token = url.split("/self/")[1].split("/")[0]
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        for secret_id in (sub["id"], sub["organisation_id"]):
            assert secret_id not in url and secret_id.encode() not in raw
            assert uuid.UUID(secret_id).bytes not in raw


def test_links_in_older_e_mails_still_unsubscribe_but_never_export_or_delete(client, world):
    """Tokens of the previous format (itsdangerous, 45 days) are in mailboxes: unsubscribing
    through them must keep working until they expire; export and delete ones are refused."""
    from itsdangerous import URLSafeTimedSerializer

    sid = new_subscriber(client, world.a)["id"]
    old = URLSafeTimedSerializer(SECRET, salt="horizon.self-service")
    for act in ("export", "delete"):
        assert client.get(f"/self/{old.dumps({'sid': sid, 'act': act})}").status_code == 403
    prefs = client.get(f"/self/{old.dumps({'sid': sid, 'act': 'preferences'})}")
    assert prefs.status_code == 200 and "Your preferences" in prefs.text
    one_click = client.post(f"/self/{old.dumps({'sid': sid, 'act': 'unsubscribe'})}/unsubscribe",
                            data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()["status"] == "unsubscribed"
