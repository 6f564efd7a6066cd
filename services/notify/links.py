"""Signed links in e-mails: tracking/feedback links served by notify, self-service links by subscriptions.

Click and feedback tokens are itsdangerous URLSafeTimedSerializer tokens signed with notify's
secret; they name the subscriber, organisation, item and digest, so a forged or altered link is
refused and an expired one too. Self-service tokens follow subscriptions' format (shared
secret, salt 'horizon.self-service', payload {"sid", "act"}).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.notify.settings import NotifySettings

LINK_SALT = "horizon.notify.link"
SELF_SERVICE_KEY_LABEL = b"horizon.self-service.key\x1f"
SELF_SERVICE_MAC_LABEL = b"horizon.self-service.v2\x1f"
SELF_SERVICE_ACTIONS = {"preferences": 1, "unsubscribe": 2}
VERDICTS = ("useful", "not_relevant")


@dataclass(frozen=True)
class LinkClaims:
    subscriber_id: str
    organisation_id: str
    item_id: str
    digest_id: str


@dataclass(frozen=True)
class BadLink:
    """Why a token was refused: 'expired' or 'invalid'."""

    reason: str


class Links:
    """Makes and checks the links one e-mail carries."""

    def __init__(
        self, *, secret: str, self_service_secret: str, public_base_url: str, subscriptions_base_url: str,
        max_age_s: int,
    ) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt=LINK_SALT)
        self._self_service_secret = self_service_secret.encode("utf-8")
        self._base = public_base_url.rstrip("/")
        self._subs = subscriptions_base_url.rstrip("/")
        self._max_age_s = max_age_s

    def token(self, claims: LinkClaims) -> str:
        return self._signer.dumps(
            {"s": claims.subscriber_id, "o": claims.organisation_id, "i": claims.item_id, "d": claims.digest_id}
        )

    def click(self, claims: LinkClaims) -> str:
        return f"{self._base}/r/{self.token(claims)}"

    def feedback(self, claims: LinkClaims, verdict: str) -> str:
        if verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}")
        return f"{self._base}/f/{self.token(claims)}/{verdict}"

    def full_text(self, claims: LinkClaims) -> str:
        return f"{self._base}/t/{self.token(claims)}"

    def entry(self, claims: LinkClaims, *, click: bool) -> dict[str, str]:
        """An item's four links (click, useful, not relevant, full text), sharing one signed
        token: signing is most of what a link costs, and a digest carries dozens."""
        token = self.token(claims)
        return {
            "click": f"{self._base}/r/{token}" if click else "",
            "useful": f"{self._base}/f/{token}/useful",
            "not_relevant": f"{self._base}/f/{token}/not_relevant",
            "full_text": f"{self._base}/t/{token}",
        }

    def verify(self, token: str) -> LinkClaims | BadLink:
        try:
            data = self._signer.loads(token, max_age=self._max_age_s)
        except SignatureExpired:
            return BadLink("expired")
        except BadSignature:
            return BadLink("invalid")
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "soid"):
            return BadLink("invalid")
        return LinkClaims(data["s"], data["o"], data["i"], data["d"])

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


def build_links(settings: NotifySettings) -> Links:
    """The links of these settings (secrets, bases, lifetime)."""
    return Links(
        secret=settings.secret_key.get_secret_value(),
        self_service_secret=settings.self_service_secret.get_secret_value(),
        public_base_url=settings.public_base_url,
        subscriptions_base_url=settings.subscriptions_base_url,
        max_age_s=settings.link_max_age_s,
    )
