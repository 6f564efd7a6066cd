"""The transactional outbox: a crash between commit and publish loses no ProfileChanged."""

from __future__ import annotations

import pytest

from contracts import ProfileChanged
from services.subscriptions import outbox, usecases
from services.subscriptions.accounts import ensure_organisation
from services.subscriptions.schemas import SubscriberCreate, SubscriberUpdate


class Broker:
    """A publish port that acknowledges, or fails like a broker that went away."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.sent: list[tuple[ProfileChanged, str]] = []
        self.fail_after = fail_after

    async def __call__(self, event: ProfileChanged, key: str) -> None:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise ConnectionError("broker unreachable")
        self.sent.append((event, key))


def _changes(sessions) -> str:
    with sessions() as session:
        org = ensure_organisation(session, "Alpha Hospitals NHS Trust")
        sub = usecases.create_subscriber(session, None, SubscriberCreate(
            organisation_id=org.id, name="Ann Lee", email="ann@example.nhs.uk", interests=["Sepsis"]))
        usecases.update_subscriber(session, None, sub.id, SubscriberUpdate(frequency="daily"))
        usecases.delete_subscriber(session, None, sub.id)
        return sub.id


async def test_events_committed_before_a_crash_are_published_after_restart(sessions):
    sid = _changes(sessions)
    crashed = Broker(fail_after=1)
    with pytest.raises(ConnectionError):
        await outbox.relay_once(sessions, crashed)  # the process dies mid-relay
    restarted = Broker()
    assert await outbox.relay_once(sessions, restarted) == 2
    versions = [e.version for e, _ in crashed.sent + restarted.sent]
    assert versions == [1, 2, 3] and all(key == sid for _, key in crashed.sent + restarted.sent)
    assert restarted.sent[-1][0].deleted
    assert await outbox.relay_once(sessions, Broker()) == 0
    with sessions() as session:
        assert outbox.pending(session) == []


async def test_a_crash_after_publish_but_before_marking_republishes_the_same_event(sessions):
    _changes(sessions)
    with sessions() as session:
        batch = outbox.pending(session, 1)
    first = Broker()
    await first(batch[0][1], batch[0][1].subscriber_id)  # the broker has it, but the row was never marked
    again = Broker()
    await outbox.relay_once(sessions, again)
    assert again.sent[0][0].event_id == first.sent[0][0].event_id  # same id: consumers drop the repeat
    assert len(again.sent) == 3


def test_a_rolled_back_change_leaves_no_event(sessions):
    with sessions() as session:
        org = ensure_organisation(session, "Alpha Hospitals NHS Trust")
        sub = usecases.create_subscriber(session, None, SubscriberCreate(
            organisation_id=org.id, name="Ann Lee", email="ann@example.nhs.uk"))
        sub.name = "Changed"
        usecases.emit_change(session, sub, usecases.profile_of(session, sub))
        session.rollback()  # the change failed: its event must go with it
    with sessions() as session:
        assert [e.version for _, e in outbox.pending(session)] == [1]
