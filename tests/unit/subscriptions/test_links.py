"""Self-service link tokens: opaque (no id readable), the format notify shares, refusals for
tampering, forgery, another action and expiry (export and delete expire soon)."""

from __future__ import annotations

import base64
import time
import uuid

from services.notify.links import Links
from services.subscriptions import links

SECRET = "a-secret-of-some-length"
SID = str(uuid.uuid4())


def _raw(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def test_a_token_names_the_subscriber_only_through_an_opaque_key():
    token = links.sign(SECRET, SID, "unsubscribe")
    claim = links.verify(SECRET, token, 60, 60)
    assert claim == links.LinkClaim(links.link_key(SID), "unsubscribe", claim.issued_at)
    raw = _raw(token)
    assert SID.encode() not in raw and uuid.UUID(SID).bytes not in raw and SID not in token
    assert len(token) == len(links.sign(SECRET, "x" * 200, "preferences"))  # the same size whoever it names


def test_a_token_made_by_notify_is_accepted():
    notify = Links(secret="n" * 32, self_service_secret=SECRET, public_base_url="https://n.example",
                   subscriptions_base_url="https://s.example", max_age_s=3600)
    for made, act in ((notify.preferences(SID), "preferences"), (notify.unsubscribe(SID), "unsubscribe")):
        token = made.rsplit("/", 1)[-1]
        claim = links.verify(SECRET, token, 60, 60)
        assert (claim.link_key, claim.action) == (links.link_key(SID), act)
    assert notify.list_unsubscribe(SID) == notify.unsubscribe(SID) + "/unsubscribe"


def test_tampered_forged_and_odd_tokens_are_invalid():
    token = links.sign(SECRET, "sub-1", "export")
    raw = bytearray(_raw(token))
    for position in (0, 16, 17, 20, len(raw) - 1):  # the key, the action, the time, the signature
        changed = bytearray(raw)
        changed[position] ^= 1
        assert links.verify(SECRET, base64.urlsafe_b64encode(bytes(changed)).decode().rstrip("="), 60, 60) == links.LinkRefused("invalid")
    assert links.verify("another-secret-entirely", token, 60, 60) == links.LinkRefused("invalid")
    assert links.verify(SECRET, "", 60, 60) == links.LinkRefused("invalid")
    assert links.verify(SECRET, "not a token at all!", 60, 60) == links.LinkRefused("invalid")
    assert links.verify(SECRET, token + "AA", 60, 60) == links.LinkRefused("invalid")
    old_format = "eyJzaWQiOiJzdWItMSIsImFjdCI6ImRlbGV0ZSJ9.Z0Ab1A.c2lnbmF0dXJl"  # itsdangerous, v1
    assert links.verify(SECRET, old_format, 60, 60) == links.LinkRefused("invalid")


def test_expiry_is_shorter_for_export_and_delete():
    hour_ago = int(time.time()) - 3600
    assert links.verify(SECRET, links.sign(SECRET, "s", "preferences", issued_at=hour_ago), 7200, 600).action == "preferences"
    assert links.verify(SECRET, links.sign(SECRET, "s", "delete", issued_at=hour_ago), 7200, 600) == links.LinkRefused("expired")
    assert links.verify(SECRET, links.sign(SECRET, "s", "export", issued_at=hour_ago), 7200, 600) == links.LinkRefused("expired")
    assert links.verify(SECRET, links.sign(SECRET, "s", "unsubscribe", issued_at=hour_ago), 60, 60) == links.LinkRefused("expired")


def test_urls_offer_no_export_or_delete_link():
    urls = links.links_for(SECRET, "https://horizon.example.nhs.uk/", "s1")
    assert set(urls) == {"preferences", "unsubscribe", "one_click_unsubscribe"}
    assert urls["one_click_unsubscribe"] == urls["unsubscribe"] + "/unsubscribe"
    assert urls["preferences"].startswith("https://horizon.example.nhs.uk/self/")
