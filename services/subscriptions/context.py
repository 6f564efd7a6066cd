"""What the web app's handlers share: settings, database sessions, ports, cookies, templates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session

from services.subscriptions import plain, vocabulary
from services.subscriptions.ports import ClassifyPort, IngestPort
from services.subscriptions.settings import SubscriptionsSettings
from services.subscriptions.store import SessionFactory
from services.subscriptions.websession import Cookies

TEMPLATES = Path(__file__).resolve().parent / "web" / "templates"


@dataclass
class Context:
    settings: SubscriptionsSettings
    sessions: SessionFactory
    classify: ClassifyPort
    ingest: IngestPort
    cookies: Cookies
    templates: Jinja2Templates

    @property
    def secret(self) -> str:
        return self.settings.secret_key.get_secret_value()


def make_templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    env.filters["safe_url"] = safe_url
    env.filters["ref_url"] = ref_url
    env.filters["plain_error"] = plain.feed_error
    env.filters["paper_error"] = plain.paper_error
    env.filters["when"] = plain.when
    env.filters["type_label"] = vocabulary.content_type_label
    env.filters["topic_label"] = vocabulary.topic_label
    return Jinja2Templates(env=env)


def ref_url(ref: str) -> str:
    """Where a reader finds a paper or item named 'doi:…', 'pmid:…', 'url:…' or by its URL."""
    low = ref.lower() if isinstance(ref, str) else ""
    if low.startswith("doi:"):
        return "https://doi.org/" + quote(ref[4:].strip(), safe="/:;()._-")
    if low.startswith("pmid:") and ref[5:].strip().isdigit():
        return f"https://pubmed.ncbi.nlm.nih.gov/{ref[5:].strip()}/"
    return safe_url(ref[4:] if low.startswith("url:") else ref)


def safe_url(url: str) -> str:
    """Only web addresses become links: a 'javascript:' URL from a feed must never run."""
    return url if isinstance(url, str) and url.lower().startswith(("https://", "http://")) else "#"


def ctx(request: Request) -> Context:
    return request.app.state.ctx


def db(request: Request) -> Iterator[Session]:
    with ctx(request).sessions() as session:
        yield session
