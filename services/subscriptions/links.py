"""Self-service links: signed, expiring tokens that let a subscriber act without a password.

The format is shared with notify, which signs the same tokens into e-mails (docs: README.md):
itsdangerous URLSafeTimedSerializer(secret, salt="horizon.self-service"), payload
{"sid": subscriber_id, "act": "preferences"|"unsubscribe"|"export"|"delete"};
URL {public_base_url}/self/{token}; one-click unsubscribe POST {public_base_url}/self/{token}/unsubscribe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "horizon.self-service"
ACTIONS = ("preferences", "unsubscribe", "export", "delete")
Action = Literal["preferences", "unsubscribe", "export", "delete"]


@dataclass(frozen=True)
class LinkClaim:
    subscriber_id: str
    action: str


@dataclass(frozen=True)
class LinkRefused:
    reason: Literal["expired", "invalid"]


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def sign(secret: str, subscriber_id: str, action: Action) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown self-service action {action!r}")
    return _serializer(secret).dumps({"sid": subscriber_id, "act": action})


def verify(secret: str, token: str, max_age_s: int) -> LinkClaim | LinkRefused:
    """The claim in a genuine, unexpired token; otherwise why it is refused."""
    try:
        payload = _serializer(secret).loads(token, max_age=max_age_s)
    except SignatureExpired:
        return LinkRefused("expired")
    except BadSignature:
        return LinkRefused("invalid")
    if not isinstance(payload, dict) or payload.get("act") not in ACTIONS or not isinstance(payload.get("sid"), str):
        return LinkRefused("invalid")
    return LinkClaim(subscriber_id=payload["sid"], action=payload["act"])


def url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/self/{token}"


def one_click_url(public_base_url: str, token: str) -> str:
    return f"{url(public_base_url, token)}/unsubscribe"


def links_for(secret: str, public_base_url: str, subscriber_id: str) -> dict[str, str]:
    """Every self-service URL of one subscriber, plus the RFC 8058 one-click URL."""
    out = {act: url(public_base_url, sign(secret, subscriber_id, act)) for act in ACTIONS}
    out["one_click_unsubscribe"] = one_click_url(public_base_url, sign(secret, subscriber_id, "unsubscribe"))
    return out
