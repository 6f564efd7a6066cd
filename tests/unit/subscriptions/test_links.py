"""Self-service link tokens: the format notify shares, refusals for tampering, forgery and expiry."""

from __future__ import annotations

import time

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from services.subscriptions import links

SECRET = "a-secret-of-some-length"


def test_a_token_carries_the_agreed_payload_and_salt():
    token = links.sign(SECRET, "sub-1", "unsubscribe")
    assert URLSafeTimedSerializer(SECRET, salt="horizon.self-service").loads(token) == {"sid": "sub-1", "act": "unsubscribe"}
    assert links.verify(SECRET, token, 60) == links.LinkClaim("sub-1", "unsubscribe")


def test_a_token_signed_by_notify_the_same_way_is_accepted():
    token = URLSafeTimedSerializer(SECRET, salt="horizon.self-service").dumps({"sid": "s9", "act": "preferences"})
    assert links.verify(SECRET, token, 60) == links.LinkClaim("s9", "preferences")


def test_tampered_forged_and_odd_tokens_are_invalid():
    token = links.sign(SECRET, "sub-1", "export")
    assert links.verify(SECRET, token[:-2] + ("xy" if not token.endswith("xy") else "zz"), 60) == links.LinkRefused("invalid")
    assert links.verify("another-secret-entirely", token, 60) == links.LinkRefused("invalid")
    odd = URLSafeTimedSerializer(SECRET, salt="horizon.self-service").dumps({"sid": "s", "act": "make-admin"})
    assert links.verify(SECRET, odd, 60) == links.LinkRefused("invalid")
    assert links.verify(SECRET, "", 60) == links.LinkRefused("invalid")


def test_an_old_token_is_expired():
    class Past(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3600

    old = URLSafeTimedSerializer(SECRET, salt="horizon.self-service", signer=Past).dumps({"sid": "s", "act": "delete"})
    assert links.verify(SECRET, old, 60) == links.LinkRefused("expired")
    assert links.verify(SECRET, old, 7200) == links.LinkClaim("s", "delete")


def test_urls():
    urls = links.links_for(SECRET, "https://horizon.example.nhs.uk/", "s1")
    assert set(urls) == {"preferences", "unsubscribe", "export", "delete", "one_click_unsubscribe"}
    assert urls["one_click_unsubscribe"] == urls["unsubscribe"] + "/unsubscribe"
    assert urls["preferences"].startswith("https://horizon.example.nhs.uk/self/")
