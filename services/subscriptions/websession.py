"""Librarian web sessions and CSRF protection, in signed cookies.

A logged-in librarian's session cookie carries their id and a random CSRF token; every form
echoes that token and a POST is refused unless the two agree (synchroniser token). Pages
without a session (login, self-service) use a signed double-submit cookie instead.
Cookies are HttpOnly and SameSite=Lax, and Secure whenever the public URL is https.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE = "horizon_session"
CSRF_COOKIE = "horizon_csrf"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class WebSession:
    librarian_id: str
    csrf: str


class Cookies:
    def __init__(self, secret: str, max_age_s: int, secure: bool) -> None:
        self._session = URLSafeTimedSerializer(secret, salt="horizon.session")
        self._csrf = URLSafeTimedSerializer(secret, salt="horizon.csrf")
        self.max_age_s, self.secure = max_age_s, secure

    def _set(self, response: Response, name: str, value: str) -> None:
        response.set_cookie(name, value, max_age=self.max_age_s, httponly=True, samesite="lax",
                            secure=self.secure, path="/")

    # --- session -------------------------------------------------------------------------------

    def start(self, response: Response, librarian_id: str) -> WebSession:
        session = WebSession(librarian_id, secrets.token_urlsafe(32))
        self._set(response, SESSION_COOKIE, self._session.dumps({"lid": session.librarian_id, "csrf": session.csrf}))
        return session

    def end(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")

    def session(self, request: Request) -> WebSession | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self._session.loads(raw, max_age=self.max_age_s)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("lid"), str) or not isinstance(data.get("csrf"), str):
            return None
        return WebSession(data["lid"], data["csrf"])

    # --- double-submit token for pages without a session ---------------------------------------

    def anonymous_csrf(self, request: Request) -> str:
        """The token already in the visitor's cookie, or a new one (set it with `keep_csrf`)."""
        raw = request.cookies.get(CSRF_COOKIE)
        if raw:
            try:
                value = self._csrf.loads(raw, max_age=self.max_age_s)
                if isinstance(value, str):
                    return value
            except BadSignature:
                pass  # a forged or stale cookie: issue a fresh token below
        return secrets.token_urlsafe(32)

    def keep_csrf(self, response: Response, token: str) -> None:
        self._set(response, CSRF_COOKIE, self._csrf.dumps(token))

    def anonymous_csrf_valid(self, request: Request, submitted: str | None) -> bool:
        raw = request.cookies.get(CSRF_COOKIE)
        if not raw or not submitted:
            return False
        try:
            value = self._csrf.loads(raw, max_age=self.max_age_s)
        except BadSignature:
            return False
        return isinstance(value, str) and hmac.compare_digest(value, submitted)


def same_token(expected: str, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(expected, submitted)
