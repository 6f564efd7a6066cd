"""Links in e-mails: tracking and feedback links served by notify, self-service links by subscriptions.

A tracking or feedback token names a delivery, an item in it and one action, and nothing a reader
could use: the claims (subscriber, organisation, item, digest) stay in notify's delivery log.
It is 35 bytes, base64url without padding (47 characters):

    link id (16)  HMAC-SHA256(secret, "horizon.notify.link-id" 0x1F digest id)[:16], kept on the
                  delivery row (`notify_delivery.link_id`) to find it
    index (2)     the item's place in the delivery's `item_ids`, big-endian
    action (1)    1 click, 2 useful, 3 not relevant, 4 full-text request
    mac (16)      HMAC-SHA256(secret, "horizon.notify.link.v2" 0x1F the 19 bytes above)[:16]

So a click token is no feedback token, a "useful" token cannot say "not relevant", and a token
recorded once (its event id derives from its claims) changes nothing when replayed. Expiry is
counted from the delivery's creation; a deleted subscriber's deliveries are gone, and so are
their links. Self-service tokens follow subscriptions' format (its README: the subscriber's
link key, action, time, HMAC with subscriptions' secret).

Click tokens of the previous format (itsdangerous, salt 'horizon.notify.link') are still in
mailboxes for their year: `legacy_click` reads one so that it still leads to its item; it is
never counted, and feedback links of that format record nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.notify.settings import NotifySettings

LINK_ID_LABEL = b"horizon.notify.link-id\x1f"
LINK_MAC_LABEL = b"horizon.notify.link.v2\x1f"
ACTIONS = ("click", "useful", "not_relevant", "full_text_request")
VERDICTS = ("useful", "not_relevant")
_CODES = {action: code for code, action in enumerate(ACTIONS, start=1)}
_BODY = 16 + 2 + 1
_TOKEN_CHARS = 47
SELF_SERVICE_KEY_LABEL = b"horizon.self-service.key\x1f"
SELF_SERVICE_MAC_LABEL = b"horizon.self-service.v2\x1f"
SELF_SERVICE_ACTIONS = {"preferences": 1, "unsubscribe": 2}


@dataclass(frozen=True)
class LinkRef:
    """What a genuine token names: a delivery (by its link id), an item's place in it, an action."""

    link_id: str
    index: int
    action: str


@dataclass(frozen=True)
class LinkClaims:
    """What a token names once found in the delivery log."""

    subscriber_id: str
    organisation_id: str
    item_id: str
    digest_id: str
    action: str = "click"


@dataclass(frozen=True)
class BadLink:
    """Why a token was refused: 'invalid' (forged, altered, another action), 'expired' or 'gone'."""

    reason: str


class Links:
    """Makes the links one e-mail carries and checks a token's signature."""

    def __init__(
        self, *, secret: str, self_service_secret: str, public_base_url: str, subscriptions_base_url: str,
        max_age_s: int,
    ) -> None:
        self._secret = secret.encode("utf-8")
        self._self_service_secret = self_service_secret.encode("utf-8")
        self._base = public_base_url.rstrip("/")
        self._subs = subscriptions_base_url.rstrip("/")
        self.max_age_s = max_age_s
        self._mac_keyed = hmac.new(self._secret, LINK_MAC_LABEL, hashlib.sha256)  # copied per token: the key set up once

    def _mac(self, body: bytes) -> bytes:
        mac = self._mac_keyed.copy()
        mac.update(body)
        return mac.digest()[:16]

    def link_id(self, digest_id: str) -> str:
        """The delivery's link id (hex), written on its row when it is composed."""
        return hmac.new(self._secret, LINK_ID_LABEL + digest_id.encode("utf-8"), hashlib.sha256).digest()[:16].hex()

    def token(self, digest_id: str, index: int, action: str) -> str:
        return self._token(bytes.fromhex(self.link_id(digest_id)), index, action)

    def _token(self, link_id: bytes, index: int, action: str) -> str:
        body = link_id + struct.pack(">HB", index, _CODES[action])
        return base64.urlsafe_b64encode(body + self._mac(body)).decode("ascii").rstrip("=")

    def click(self, digest_id: str, index: int) -> str:
        return f"{self._base}/r/{self.token(digest_id, index, 'click')}"

    def entry(self, digest_id: str, index: int, *, click: bool) -> dict[str, str]:
        """An item's four links, each with its own action signed in: click, useful, not relevant, full text."""
        lid = bytes.fromhex(self.link_id(digest_id))
        return {
            "click": f"{self._base}/r/{self._token(lid, index, 'click')}" if click else "",
            "useful": f"{self._base}/f/{self._token(lid, index, 'useful')}",
            "not_relevant": f"{self._base}/f/{self._token(lid, index, 'not_relevant')}",
            "full_text": f"{self._base}/t/{self._token(lid, index, 'full_text_request')}",
        }

    def parse(self, token: str) -> LinkRef | BadLink:
        """The reference in a token with a genuine signature (the delivery log says the rest)."""
        if len(token) != _TOKEN_CHARS:
            return BadLink("invalid")
        try:
            raw = base64.urlsafe_b64decode(token + "=")
        except (binascii.Error, ValueError):
            return BadLink("invalid")
        body, mac = raw[:_BODY], raw[_BODY:]
        if len(mac) != 16 or not hmac.compare_digest(mac, self._mac(body)):
            return BadLink("invalid")
        index, code = struct.unpack(">HB", body[16:])
        if not 1 <= code <= len(ACTIONS):
            return BadLink("invalid")
        return LinkRef(body[:16].hex(), index, ACTIONS[code - 1])

    def self_service_token(self, subscriber_id: str, act: str, issued_at: int | None = None) -> str:
        """A preferences or unsubscribe token in subscriptions' format (its README): the
        subscriber's link key, the action, the time, an HMAC; no id readable in it."""
        key = hashlib.sha256(SELF_SERVICE_KEY_LABEL + subscriber_id.encode("utf-8")).digest()[:16]
        body = key + struct.pack(">BI", SELF_SERVICE_ACTIONS[act], int(time.time()) if issued_at is None else issued_at)
        mac = hmac.new(self._self_service_secret, SELF_SERVICE_MAC_LABEL + body, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(body + mac).decode("ascii").rstrip("=")

    def preferences(self, subscriber_id: str) -> str:
        return f"{self._subs}/self/{self.self_service_token(subscriber_id, 'preferences')}"

    def unsubscribe(self, subscriber_id: str) -> str:
        return f"{self._subs}/self/{self.self_service_token(subscriber_id, 'unsubscribe')}"

    def list_unsubscribe(self, subscriber_id: str) -> str:
        """The RFC 8058 one-click target (POST List-Unsubscribe=One-Click)."""
        return f"{self.unsubscribe(subscriber_id)}/unsubscribe"


def legacy_click(secret: str, token: str, max_age_s: int) -> tuple[str, str] | BadLink:
    """(subscriber id, item id) of a genuine previous-format click token, to redirect only."""
    try:
        data = URLSafeTimedSerializer(secret, salt="horizon.notify.link").loads(token, max_age=max_age_s)
    except SignatureExpired:
        return BadLink("expired")
    except BadSignature:
        return BadLink("invalid")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "si"):
        return BadLink("invalid")
    return data["s"], data["i"]


def build_links(settings: NotifySettings) -> Links:
    """The links of these settings (secrets, bases, lifetime)."""
    return Links(
        secret=settings.secret_key.get_secret_value(),
        self_service_secret=settings.self_service_secret.get_secret_value(),
        public_base_url=settings.public_base_url,
        subscriptions_base_url=settings.subscriptions_base_url,
        max_age_s=settings.link_max_age_s,
    )
