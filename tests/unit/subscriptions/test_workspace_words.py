"""The workspace's pure parts: names to ids, failures in plain English, a preview laid out as the e-mail."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from contracts import Profile
from services.subscriptions import digest_view, plain, vocabulary
from services.subscriptions.ports import PreviewItem, SourceHealth


def test_topics_by_label_or_id_in_any_case_and_spacing():
    assert vocabulary.resolve_topics(["Cardiology", "older people and frailty", "patient-safety", "cardiology"]) == (
        ["cardiology", "older_people", "patient_safety"], [])
    assert vocabulary.resolve_topics(["Basket weaving"]) == ([], ["Basket weaving"])
    assert vocabulary.topic_label("older_people") == "Older people and frailty"


def test_content_types_by_common_names():
    assert vocabulary.resolve_content_types(["RCT", "Systematic review", "meta-analysis", "guideline", "banana"]) == (
        ["trial", "systematic_review", "guideline"], ["banana"])
    assert vocabulary.content_type_label("systematic_review") == "Systematic review or meta-analysis"


def test_sources_by_title_address_or_id():
    sources = [SourceHealth(source_id="src-0f94", title="NICE guidance", url="https://www.nice.org.uk/rss")]
    assert vocabulary.resolve_sources(["nice guidance", "https://www.nice.org.uk/rss", "src-0f94", "BMJ"], sources) == (
        ["src-0f94"], ["BMJ"])


def test_failures_are_said_in_plain_english():
    assert plain.feed_error("html_page: an HTML page was served instead of a feed").startswith(
        "The address is a web page, not a feed")
    assert plain.feed_error("http_error: HTTP 503") == "the site answered with an error (HTTP 503)"
    assert plain.feed_error("HTTP 503") == "HTTP 503"  # not one of ingest's kinds: as it came
    message = plain.paper_error("unavailable", "ConnectError: [Errno -2] Name or service not known")
    assert message == "PubMed and Crossref could not be reached; Horizon will try again" and "Errno" not in message
    assert "check it for a typo" in plain.paper_error("not_found", "not found in PubMed or Crossref: x")


def test_when_in_words():
    at = datetime(2026, 12, 4, 12, tzinfo=timezone.utc)
    assert plain.when(at - timedelta(hours=3), at) == "3 hours ago"
    assert plain.when(at + timedelta(minutes=20), at) == "in 20 minutes"
    assert plain.when(at - timedelta(days=30), at) == "04 Nov 2026"
    assert plain.when(None, at) == ""


def test_preview_keeps_urgent_alerts_apart_and_groups_by_what_chose_them():
    profile = Profile(name="A", email="a@example.nhs.uk", organisation_name="O", urgent_alerts=True)
    items = [PreviewItem(item_id="1", title="Valproate alert", score=0.9, evidence_type="safety_alert",
                         reasons=[{"kind": "topic", "text": "medicines_device_alerts", "score": 0.9}]),
             PreviewItem(item_id="2", title="AF review", score=0.8, evidence_type="systematic_review",
                         reasons=[{"kind": "interest", "text": "Atrial fibrillation", "score": 0.8}]),
             PreviewItem(item_id="3", title="Older AF trial", score=0.4, evidence_type="trial",
                         reasons=[{"kind": "interest", "text": "Atrial fibrillation", "score": 0.4}])]
    view = digest_view.view(items, profile)
    assert [a.item.title for a in view.alerts] == ["Valproate alert"]
    [group] = view.groups
    assert group.heading == "Atrial fibrillation" and [i.item.title for i in group.items] == ["AF review", "Older AF trial"]
    assert group.items[0].why == ["matches the interest “Atrial fibrillation”"] and group.items[1].strength == "loose match"
    assert group.items[0].type_label == "Systematic review or meta-analysis"
    quiet = digest_view.view(items, profile.model_copy(update={"urgent_alerts": False}))
    assert quiet.alerts == [] and quiet.count == 3
