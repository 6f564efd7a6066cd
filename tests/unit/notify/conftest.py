"""Fixtures for notify's tests: event factories, settings on a temporary database, a recording transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from contracts import (
    EvidenceType, Item, ItemClassified, ItemMatched, MatchReason, Profile, ProfileChanged, TopicTag,
)
from services.notify.mailer import Outgoing, SendResult
from services.notify.settings import NotifySettings

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)  # a Monday


class Events:
    """Builds the contract events notify consumes, with sensible defaults."""

    def profile(self, sid: str, *, org: str = "org-1", version: int = 1, **fields: Any) -> ProfileChanged:
        data = {"name": f"Dr {sid.title()}", "email": f"{sid}@example.nhs.uk", "interests": ["Atrial fibrillation"]}
        return ProfileChanged(
            producer="subscriptions", subscriber_id=sid, organisation_id=org, version=version,
            profile=Profile(**(data | fields)),
        )

    def tombstone(self, sid: str, *, org: str = "org-1", version: int = 2) -> ProfileChanged:
        return ProfileChanged(producer="subscriptions", subscriber_id=sid, organisation_id=org, version=version, deleted=True)

    def classified(
        self, item_id: str, *, title: str | None = None, summary: str = "First sentence. Second sentence. Third one.",
        url: str | None = None, evidence: EvidenceType = EvidenceType.trial, urgent: bool = False,
        tags: tuple[str, ...] = ("cardiology",), at: datetime = T0, revision: int = 0, **item: Any,
    ) -> ItemClassified:
        return ItemClassified(
            producer="classify", occurred_at=at, revision=revision, evidence_type=evidence, urgent=urgent,
            tags=[TopicTag(topic_id=t, label=t.replace("-", " ").title(), score=0.8) for t in tags],
            item=Item(
                item_id=item_id, source_id="src-1", source_title="BMJ", title=title or f"Title of {item_id}",
                summary=summary, url=url if url is not None else f"https://example.org/{item_id}",
                published_at=at, **item,
            ),
        )

    def matched(
        self, sid: str, item_id: str, *, org: str = "org-1", score: float = 0.8, reason: str = "Atrial fibrillation",
        kind: str = "interest", urgent: bool = False, at: datetime = T0,
    ) -> ItemMatched:
        return ItemMatched(
            producer="classify", occurred_at=at, item_id=item_id, subscriber_id=sid, organisation_id=org,
            score=score, reasons=[MatchReason(kind=kind, text=reason, score=score)], urgent=urgent,  # type: ignore[arg-type]
        )


@dataclass
class RecordingTransport:
    """A transport port that keeps what it was given; `fail_after` sends, it raises (a crash)."""

    sent: list[Outgoing] = field(default_factory=list)
    fail_after: int | None = None
    results: list[SendResult] = field(default_factory=list)

    def send(self, message: Outgoing) -> SendResult:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise RuntimeError("simulated crash: the process dies here")
        if self.results:
            result = self.results.pop(0)
            if not result.ok:
                return result
        self.sent.append(message)
        return SendResult(ok=True)


@pytest.fixture
def ev() -> Events:
    return Events()


@pytest.fixture
def settings(tmp_path: Path) -> NotifySettings:
    return NotifySettings(
        _env_file=None, dev=True, database_url=f"sqlite:///{tmp_path}/notify.db", outbox_dir=tmp_path / "outbox",
        smtp_url="", public_base_url="https://horizon.example.org/n", subscriptions_base_url="https://horizon.example.org/s",
    )


@pytest.fixture
def recording() -> type[RecordingTransport]:
    """The recording transport class (tests build it with their own failure plan)."""
    return RecordingTransport


@pytest.fixture
def make(settings: NotifySettings):  # type: ignore[no-untyped-def]
    """Build a Notifier over the test database: make(transport=None, **setting_overrides)."""
    from services.notify.bootstrap import build_notifier

    built = []

    def factory(transport: Any = None, **overrides: Any):  # type: ignore[no-untyped-def]
        transport = transport if transport is not None else RecordingTransport()
        n = build_notifier(settings.model_copy(update=overrides), transport=transport)
        built.append(n)
        return n, transport

    yield factory
    for n in built:
        n.close()
