"""A subscriber's "useful" and "not relevant" verdicts steer their profile, on both databases."""

from __future__ import annotations

from sqlmodel import select

from contracts import FeedbackGiven, ProfileChanged
from services.subscriptions import engagement, usecases
from services.subscriptions.models import OutboxRow

from .conftest import new_subscriber
from .test_security import csrf_of, login


def verdict(sid: str, org_id: str, item_id: str, kind: str, event_id: str | None = None) -> FeedbackGiven:
    extra = {"event_id": event_id} if event_id else {}
    return FeedbackGiven(producer="notify", subscriber_id=sid, organisation_id=org_id, item_id=item_id,
                         verdict=kind, **extra)


def latest(sessions, sid: str) -> ProfileChanged:
    with sessions() as session:
        row = session.exec(select(OutboxRow).where(OutboxRow.key == sid).order_by(OutboxRow.id.desc())).first()
        return ProfileChanged.model_validate_json(row.payload)


def test_verdicts_are_kept_on_the_profile_and_published(client, world, sessions):
    sid = new_subscriber(client, world.a)["id"]
    org = world.a.org_id
    with sessions() as session:
        first = verdict(sid, org, "doi:10.1/a", "useful")
        assert engagement.record_feedback(session, first)
    assert latest(sessions, sid).profile.liked == ["doi:10.1/a"] and latest(sessions, sid).version == 2
    with sessions() as session:
        assert not engagement.record_feedback(session, first)  # redelivered: nothing new
        engagement.record_feedback(session, verdict(sid, org, "doi:10.1/b", "useful"))
        engagement.record_feedback(session, verdict(sid, org, "doi:10.1/a", "not_relevant"))  # changed their mind
        engagement.record_feedback(session, verdict(sid, org, "doi:10.1/c", "click"))  # a click teaches nothing
    event = latest(sessions, sid)
    assert (event.profile.liked, event.profile.disliked, event.version) == (["doi:10.1/b"], ["doi:10.1/a"], 4)

    with sessions() as session:
        for n in range(usecases.FEEDBACK_KEPT + 5):
            engagement.record_feedback(session, verdict(sid, org, f"doi:10.2/{n}", "useful"))
    liked = latest(sessions, sid).profile.liked
    assert len(liked) == usecases.FEEDBACK_KEPT and liked[0] == f"doi:10.2/{usecases.FEEDBACK_KEPT + 4}"

    api = client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()
    assert api["liked"] == liked and api["disliked"] == ["doi:10.1/a"]
    login(client, world.a.email)
    page = client.get(f"/subscribers/{sid}")
    assert "Marked not relevant (1)" in page.text
    assert '<a href="https://doi.org/10.1/a" rel="noopener noreferrer"><code>doi:10.1/a</code></a>' in page.text
    assert client.post(f"/subscribers/{sid}/forget-feedback", data={"csrf_token": csrf_of(page.text)},
                       follow_redirects=False).status_code == 303
    event = latest(sessions, sid)
    assert event.profile.liked == [] and event.profile.disliked == []
    assert "Nothing yet" in client.get(f"/subscribers/{sid}").text


def test_feedback_from_an_unsubscribed_or_other_tenant_is_not_learnt(client, world, sessions):
    sid = new_subscriber(client, world.a)["id"]
    assert client.patch(f"/api/subscribers/{sid}", json={"status": "unsubscribed"},
                        headers=world.a.headers).status_code == 200
    version = latest(sessions, sid).version
    with sessions() as session:
        engagement.record_feedback(session, verdict(sid, world.a.org_id, "doi:10.1/a", "useful"))
    assert latest(sessions, sid).version == version
    other = client.post(f"/api/subscribers/{sid}/feedback/forget", headers=world.b.headers)
    assert other.status_code == 404
