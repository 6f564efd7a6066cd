"""Librarian web-session cookies and CSRF protection for pages without a session.

A logged-in librarian's cookie carries only a random value; the session itself (who, its CSRF
token, its age) is held on the server (sessions.py), and every form echoes that CSRF token
(synchroniser token). Pages without a session (login, self-service) use a signed double-submit
cookie instead. Cookies are HttpOnly and SameSite=Lax, and Secure whenever the public URL is https.
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from services.subscriptions.sessions import WebSession

SESSION_COOKIE = "horizon_session"
CSRF_COOKIE = "horizon_csrf"
CSRF_FIELD = "csrf_token"

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "SESSION_COOKIE", "Cookies", "WebSession", "same_token"]


class Cookies:
    def __init__(self, secret: str, max_age_s: int, secure: bool) -> None:
        self._csrf = URLSafeTimedSerializer(secret, salt="horizon.csrf")
        self.max_age_s, self.secure = max_age_s, secure

    def _set(self, response: Response, name: str, value: str) -> None:
        response.set_cookie(name, value, max_age=self.max_age_s, httponly=True, samesite="lax",
                            secure=self.secure, path="/")

    # --- session -------------------------------------------------------------------------------

    def start(self, response: Response, cookie: str) -> None:
        self._set(response, SESSION_COOKIE, cookie)

    def end(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")

    def session_cookie(self, request: Request) -> str | None:
        value = request.cookies.get(SESSION_COOKIE)
        return value if value and len(value) <= 100 else None

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
