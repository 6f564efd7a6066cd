"""Self-service links: opaque, signed, expiring tokens that let a subscriber act without a password.

The format is shared with notify, which makes preferences and unsubscribe tokens for its e-mails
(see README.md). A token is 37 bytes, base64url without padding (50 characters):

    key (16)   the subscriber's link key: SHA-256("horizon.self-service.key" 0x1F subscriber id)[:16],
               kept on the subscriber row (`subscribers.link_key`) to find them; it reveals no id
    act (1)    1 preferences, 2 unsubscribe, 3 export, 4 delete
    at (4)     when it was made, seconds since 1970, big-endian
    mac (16)   HMAC-SHA256(secret, "horizon.self-service.v2" 0x1F key act at)[:16]

URL {public_base_url}/self/{token}; one-click unsubscribe POST {public_base_url}/self/{token}/unsubscribe.
Preferences and unsubscribe tokens live `max_age_s` (45 days by default); export and delete tokens
are only ever e-mailed to the subscriber on request and live `sensitive_max_age_s` (an hour).

Tokens of the previous format (itsdangerous, salt 'horizon.self-service', payload {"sid", "act"})
are still in mailboxes: for their remaining life they work for preferences and unsubscribe only,
so that unsubscribing from an older e-mail never fails; old export and delete tokens are refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

KEY_LABEL = b"horizon.self-service.key\x1f"
MAC_LABEL = b"horizon.self-service.v2\x1f"
ACTIONS = ("preferences", "unsubscribe", "export", "delete")
SENSITIVE = ("export", "delete")
Action = Literal["preferences", "unsubscribe", "export", "delete"]
_CODES = {action: code for code, action in enumerate(ACTIONS, start=1)}
_SIZE = 16 + 1 + 4 + 16
_CLOCK_SKEW_S = 300
LEGACY_SALT = "horizon.self-service"
LEGACY_ACTIONS = ("preferences", "unsubscribe")


@dataclass(frozen=True)
class LinkClaim:
    link_key: str  # hex; the subscriber row holds the same
    action: str
    issued_at: int


@dataclass(frozen=True)
class LinkRefused:
    reason: Literal["expired", "invalid"]


def link_key(subscriber_id: str) -> str:
    """The subscriber's link key (hex): names them in tokens without revealing their id."""
    return hashlib.sha256(KEY_LABEL + subscriber_id.encode("utf-8")).digest()[:16].hex()


def _mac(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), MAC_LABEL + body, hashlib.sha256).digest()[:16]


def sign(secret: str, subscriber_id: str, action: Action, issued_at: int | None = None) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown self-service action {action!r}")
    at = int(time.time()) if issued_at is None else issued_at
    body = bytes.fromhex(link_key(subscriber_id)) + struct.pack(">BI", _CODES[action], at)
    return base64.urlsafe_b64encode(body + _mac(secret, body)).decode("ascii").rstrip("=")


def verify(secret: str, token: str, max_age_s: int, sensitive_max_age_s: int, now: float | None = None) -> LinkClaim | LinkRefused:
    """The claim in a genuine, unexpired token; otherwise why it is refused."""
    if len(token) != 50:
        return _verify_legacy(secret, token, max_age_s) if "." in token else LinkRefused("invalid")
    try:
        raw = base64.urlsafe_b64decode(token + "==")
    except (binascii.Error, ValueError):
        return LinkRefused("invalid")
    body, mac = raw[:21], raw[21:]
    if len(raw) != _SIZE or not hmac.compare_digest(mac, _mac(secret, body)):
        return LinkRefused("invalid")
    code, at = struct.unpack(">BI", body[16:])
    if not 1 <= code <= len(ACTIONS):
        return LinkRefused("invalid")
    action = ACTIONS[code - 1]
    now = time.time() if now is None else now
    if at > now + _CLOCK_SKEW_S:
        return LinkRefused("invalid")
    if now - at > (sensitive_max_age_s if action in SENSITIVE else max_age_s):
        return LinkRefused("expired")
    return LinkClaim(body[:16].hex(), action, at)


def _verify_legacy(secret: str, token: str, max_age_s: int) -> LinkClaim | LinkRefused:
    """A previous-format token, for preferences and unsubscribe only."""
    try:
        payload, signed_at = URLSafeTimedSerializer(secret, salt=LEGACY_SALT).loads(token, max_age=max_age_s,
                                                                                   return_timestamp=True)
    except SignatureExpired:
        return LinkRefused("expired")
    except BadSignature:
        return LinkRefused("invalid")
    if not isinstance(payload, dict) or payload.get("act") not in LEGACY_ACTIONS or not isinstance(payload.get("sid"), str):
        return LinkRefused("invalid")
    return LinkClaim(link_key(payload["sid"]), payload["act"], int(signed_at.timestamp()))


def url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}/self/{token}"


def one_click_url(public_base_url: str, token: str) -> str:
    return f"{url(public_base_url, token)}/unsubscribe"


def links_for(secret: str, public_base_url: str, subscriber_id: str) -> dict[str, str]:
    """The links a librarian may hand on: preferences, unsubscribe and the RFC 8058 one-click URL.
    Export and delete links go only to the subscriber's own address, on their request."""
    unsubscribe = sign(secret, subscriber_id, "unsubscribe")
    return {"preferences": url(public_base_url, sign(secret, subscriber_id, "preferences")),
            "unsubscribe": url(public_base_url, unsubscribe),
            "one_click_unsubscribe": one_click_url(public_base_url, unsubscribe)}
