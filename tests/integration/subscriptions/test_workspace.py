"""The librarian's workspace: an admin sets up organisations and librarians in the browser's forms,
the home page says what needs attention, and each delivery and verdict is logged per subscriber."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from contracts import DigestSent, FeedbackGiven
from services.subscriptions import engagement, history

from .conftest import PASSWORD, new_subscriber
from .test_security import csrf_of, login


def test_an_admin_adds_an_organisation_and_a_librarian_who_can_then_log_in(client, world):
    csrf = login(client, world.b.email)  # b is an admin
    empty = client.post("/organisations", data={"csrf_token": csrf, "name": "  "})
    assert empty.status_code == 422 and "Enter the organisation&#39;s name." in empty.text and 'aria-invalid="true"' in empty.text
    made = client.post("/organisations", data={"csrf_token": csrf, "name": "Gamma Mental Health NHS Trust"})
    assert made.status_code == 200 and "Gamma Mental Health NHS Trust is added" in made.text
    page = client.get("/librarians").text
    gamma = next(o for o in page.split('value="') if "Gamma Mental Health" in o.split("</label>")[0]).split('"')[0]

    weak = client.post("/librarians/new", data={"csrf_token": csrf, "email": "new.lib@gamma.nhs.uk", "password": "short",
                                                "organisations": gamma})
    assert weak.status_code == 422 and 'id="password-error"' in weak.text
    none = client.post("/librarians/new", data={"csrf_token": csrf, "email": "new.lib@gamma.nhs.uk", "password": PASSWORD})
    assert none.status_code == 422 and "Choose at least one organisation" in none.text
    added = client.post("/librarians/new", data={"csrf_token": csrf, "name": "Nia Evans", "email": "new.lib@gamma.nhs.uk",
                                                 "password": PASSWORD, "role": "librarian", "organisations": gamma})
    assert added.status_code == 200 and "new.lib@gamma.nhs.uk is added" in added.text

    client.post("/logout", data={"csrf_token": csrf_of(added.text)})
    login(client, "new.lib@gamma.nhs.uk")
    form = client.get("/subscribers/new").text
    assert "Gamma Mental Health NHS Trust" in form and "Beta Community" not in form
    assert client.get("/organisations").status_code == 403


def test_a_librarian_belongs_to_several_organisations(client, world, sessions):
    csrf = login(client, world.b.email)
    client.post("/organisations", data={"csrf_token": csrf, "name": "Delta ICB"})
    page = client.get("/librarians").text
    delta = next(o for o in page.split('value="') if "Delta ICB" in o.split("</label>")[0]).split('"')[0]
    changed = client.post(f"/librarians/{world.b.librarian_id}/organisations",
                          data={"csrf_token": csrf, "organisations": [world.b.org_id, delta]})
    assert changed.status_code == 200
    options = client.get("/subscribers/new").text
    assert "Delta ICB" in options and "Beta Community NHS Trust" in options
    emptied = client.post(f"/librarians/{world.b.librarian_id}/organisations", data={"csrf_token": csrf})
    assert emptied.status_code == 422
    assert client.post(f"/librarians/{world.a.librarian_id}/organisations",
                       data={"csrf_token": csrf, "organisations": [delta]}).status_code == 404  # not one of theirs


def test_first_run_home_page_sends_an_admin_to_make_an_organisation(client, sessions):
    from services.subscriptions import accounts
    with sessions() as session:
        accounts.create_librarian(session, "first.admin@example.nhs.uk", PASSWORD, "admin")
    login(client, "first.admin@example.nhs.uk")
    home = client.get("/")
    assert home.status_code == 200 and "There is no organisation yet" in home.text and 'href="/organisations"' in home.text
    form = client.get("/subscribers/new").text
    assert "No organisation yet" in form


def test_home_page_says_what_needs_attention_and_what_went_out(client, world, sessions):
    quiet = new_subscriber(client, world.a, name="Quiet Person", email="quiet@alpha.nhs.uk")
    busy = new_subscriber(client, world.a, name="Busy Person", email="busy@alpha.nhs.uk")
    at = datetime.now(timezone.utc)
    with sessions() as session:
        from services.subscriptions.models import Subscriber
        for sid in (quiet["id"], busy["id"]):  # both joined long ago
            row = session.get(Subscriber, sid)
            row.created_at = at - timedelta(weeks=10)
            session.add(row)
        session.commit()
        engagement.record_digest(session, DigestSent(
            producer="notify", digest_id="d1", subscriber_id=busy["id"], organisation_id=world.a.org_id,
            period="2026-W49", item_ids=["doi:10.1000/x", "doi:10.1000/y"], item_titles=["Falls in care homes", ""],
            sent_at=at - timedelta(days=1)))
        engagement.record_feedback(session, FeedbackGiven(
            producer="notify", subscriber_id=busy["id"], organisation_id=world.a.org_id, item_id="doi:10.1000/x",
            digest_id="d1", verdict="useful"))
    login(client, world.a.email)
    home = client.get("/").text
    assert "Sent nothing for 4 weeks (1)" in home and "Quiet Person" in home and "Busy Person" not in home.split("This week")[0]
    assert "NICE guidance" in home and "Failing feeds (1)" in home
    assert "Unrouted urgent items" in home and "Full-text requests waiting" in home
    week = home.split("This week")[1]
    assert '<p class="figure">1</p><p>e-mails sent (2 items)</p>' in week

    with sessions() as session:
        h = history.subscriber_history(session, busy["id"])
    assert h.deliveries[0].items[0].title == "Falls in care homes" and h.deliveries[0].items[0].verdicts == ["useful"]
    assert h.feedback[0][1] == "Falls in care homes"


def test_profiles_take_topics_types_and_sources_by_name_and_refuse_unknown_ones(client, world):
    csrf = login(client, world.a.email)
    form = {"csrf_token": csrf, "organisation_id": world.a.org_id, "name": "Sam Patel", "email": "sam@alpha.nhs.uk",
            "interests": "Deprescribing in frail older people", "frequency": "weekly", "weekday": "monday", "hour": "7"}
    page = client.get("/subscribers/new").text
    assert 'value="cardiology"' in page and "Older people and frailty" in page and '<datalist id="topic-names">' in page
    assert "Randomised controlled trial" in page and "NICE guidance" in page  # sources by title

    refused = client.post("/subscribers/new", data={**form, "topics_text": "Cardiology, Basket weaving",
                                                    "content_types_text": "RCT, banana"})
    assert refused.status_code == 422
    assert "Horizon does not know “Basket weaving” as a topic." in refused.text
    assert "Horizon does not know “banana” as a content type." in refused.text and 'id="topics-error"' in refused.text

    saved = client.post("/subscribers/new", data={**form, "topics_text": "Cardiology, Older people and frailty",
                                                  "topics": "pharmacy", "content_types_text": "RCT",
                                                  "content_types": "guideline", "sources": "nice"}, follow_redirects=False)
    assert saved.status_code == 303
    sid = saved.headers["location"].split("/")[2].split("?")[0]
    api = client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()
    assert api["topics"] == ["pharmacy", "cardiology", "older_people"]
    assert api["content_types"] == ["guideline", "trial"] and api["sources"] == ["nice"]
    edit = client.get(f"/subscribers/{sid}").text
    assert 'value="older_people" checked' in edit and 'value="trial" checked' in edit and 'value="nice" checked' in edit


def test_delete_asks_first_and_lookup_errors_are_plain_english(client, world, sessions):
    from services.subscriptions import papers
    from services.subscriptions.models import ExamplePaper
    sub = new_subscriber(client, world.a, examples=["pmid:12345678"])
    with sessions() as session:
        row = session.get(ExamplePaper, "pmid:12345678")
        row.status, row.error = papers.UNAVAILABLE, "ConnectError: [Errno -2] Name or service not known"
        session.add(row)
        session.commit()
    login(client, world.a.email)
    page = client.get(f"/subscribers/{sub['id']}").text
    assert "PubMed and Crossref could not be reached; Horizon will try again" in page and "Errno" not in page
    assert f'href="/subscribers/{sub["id"]}/delete"' in page
    confirm = client.get(f"/subscribers/{sub['id']}/delete")
    assert confirm.status_code == 200 and "It cannot be undone." in confirm.text and "Yes, delete Dr Asha Khan" in confirm.text
    assert client.get(f"/api/subscribers/{sub['id']}", headers=world.a.headers).status_code == 200


def test_each_subscriber_has_a_history_of_deliveries_and_feedback_by_title(client, world, sessions):
    sub = new_subscriber(client, world.a)
    at = datetime.now(timezone.utc)
    with sessions() as session:
        engagement.record_digest(session, DigestSent(
            producer="notify", digest_id="d-w48", subscriber_id=sub["id"], organisation_id=world.a.org_id,
            period="2026-W48", item_ids=["doi:10.1000/af1", "doi:10.1000/af2"],
            item_titles=["Apixaban versus warfarin in older people", "Left atrial appendage closure"],
            sent_at=at - timedelta(days=3)))
        for verdict in ("click", "useful"):
            engagement.record_feedback(session, FeedbackGiven(
                producer="notify", subscriber_id=sub["id"], organisation_id=world.a.org_id,
                item_id="doi:10.1000/af1", digest_id="d-w48", verdict=verdict))
    login(client, world.a.email)
    page = client.get(f"/subscribers/{sub['id']}/history").text
    assert "Digest 2026-W48" in page and "Apixaban versus warfarin in older people" in page
    assert '<span class="tag">opened</span>' in page and '<span class="tag">useful</span>' in page
    assert "Last sent: <strong>3 days ago</strong>" in page and "Nothing sent for" not in page
    feedback = page.split("<h2>Feedback</h2>")[1]
    assert "Apixaban versus warfarin in older people" in feedback and "doi:10.1000/af1</a>" not in feedback
    learnt = client.get(f"/subscribers/{sub['id']}").text.split("Learnt from")[1]
    assert "Marked useful (1)" in learnt and "Apixaban versus warfarin in older people</a>" in learnt
    listing = client.get("/subscribers").text
    assert "3 days ago" in listing and "nothing for weeks" not in listing
    client.post(f"/subscribers/{sub['id']}/delete", data={"csrf_token": csrf_of(page)})
    with sessions() as session:
        assert history.subscriber_history(session, sub["id"]).deliveries == []  # erased with them


def test_preview_reads_as_the_email_and_shows_unsaved_changes_beside_the_saved_profile(client, world):
    sub = new_subscriber(client, world.a)
    csrf = login(client, world.a.email)
    saved = client.get(f"/subscribers/{sub['id']}/preview", params={"days": 30}).text
    assert "Your evidence update" in saved and "Last 30 days" in saved
    assert "Systematic review or meta-analysis" in saved and "systematic_review" not in saved
    assert "Chosen because it matches the interest “Anticoagulation in atrial fibrillation”." in saved
    assert "score 0.80" not in saved and "close match" in saved

    form = {"csrf_token": csrf, "name": "Dr Asha Khan", "email": "asha.khan@example.nhs.uk", "frequency": "weekly",
            "weekday": "monday", "hour": "7", "interests": "Anticoagulation in atrial fibrillation\nFalls in older people",
            "topics": "cardiology"}
    draft = client.post(f"/subscribers/{sub['id']}/preview", data=form)
    assert draft.status_code == 200
    assert "With the saved profile (1 item)" in draft.text and "With your unsaved changes (2 items)" in draft.text
    assert "New evidence on Falls in older people" in draft.text.split("With your unsaved changes")[1]
    assert client.get(f"/api/subscribers/{sub['id']}", headers=world.a.headers).json()["interests"] == [
        "Anticoagulation in atrial fibrillation"]  # nothing saved
    assert '<input type="hidden" name="topics" value="cardiology">' in draft.text  # "Save these changes" carries them
    bad = client.post(f"/subscribers/{sub['id']}/preview", data={**form, "topics": "Basket weaving"})
    assert bad.status_code == 422 and "Horizon does not know “Basket weaving” as a topic." in bad.text


def test_impact_over_a_date_range_per_subscriber_and_topic_with_a_chart_and_csv(client, world, sessions):
    asha = new_subscriber(client, world.a, topics=["cardiology"])
    other = new_subscriber(client, world.b, name="Beta Person", email="b@beta.nhs.uk")
    at = datetime.now(timezone.utc)
    with sessions() as session:
        for n, (sub, org, days) in enumerate([(asha, world.a, 2), (asha, world.a, 9), (asha, world.a, 200),
                                              (other, world.b, 2)]):
            engagement.record_digest(session, DigestSent(
                producer="notify", digest_id=f"d{n}", subscriber_id=sub["id"], organisation_id=org.org_id,
                period=f"p{n}", item_ids=[f"doi:10.1000/{n}"], sent_at=at - timedelta(days=days)))
        engagement.record_feedback(session, FeedbackGiven(
            producer="notify", subscriber_id=asha["id"], organisation_id=world.a.org_id, item_id="doi:10.1000/0",
            digest_id="d0", verdict="click"))
    login(client, world.a.email)
    page = client.get("/impact", params={"by": "subscriber"}).text  # the last 90 days by default
    assert "<svg" in page and "<polyline" in page and "Beta Person" not in page
    row = page.split('<th scope="row">Dr Asha Khan</th>')[1].split("</tr>")[0]
    assert '<td data-label="E-mails">2</td>' in row and '<td data-label="Opened">1</td>' in row
    assert "Cardiology" in client.get("/impact", params={"by": "topic"}).text
    assert "Alpha Hospitals NHS Trust" in client.get("/engagement").text  # the old address leads here

    start = (at - timedelta(days=5)).date().isoformat()
    exported = client.get("/impact.csv", params={"by": "subscriber", "start": start})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.strip().splitlines()
    assert lines[0] == "from,to,subscriber,reach,deliveries,items,click,useful,not_relevant,full_text_request"
    assert lines[1].split(",")[2:] == ["Dr Asha Khan", "1", "1", "1", "1", "0", "0", "0"] and lines[-1].split(",")[2] == "All"


def test_the_api_and_the_subscribers_file_take_topic_names_and_refuse_unknown_ones(client, world):
    made = new_subscriber(client, world.a, topics=["Cardiology", "older_people"])
    assert made["topics"] == ["cardiology", "older_people"]
    refused = client.post("/api/subscribers", json={"name": "X", "email": "x@alpha.nhs.uk", "topics": ["Basket weaving"]},
                          headers=world.a.headers)
    assert refused.status_code == 422 and "Basket weaving" in refused.text
    csrf = login(client, world.a.email)
    upload = ("people.csv", "name,email,topics\r\nAnn,ann@alpha.nhs.uk,Older people and frailty\r\n"
                            "Bob,bob@alpha.nhs.uk,Basket weaving\r\n".encode(), "text/csv")
    page = client.post("/import", data={"csrf_token": csrf, "organisation_id": world.a.org_id}, files={"file": upload})
    assert "1 created" in page.text and "Basket weaving" in page.text


def test_home_page_counts_unrouted_urgent_items_and_full_text_requests_waiting(client, world, sessions):
    from contracts import EvidenceType, ItemUnrouted
    from services.subscriptions import unrouted

    login(client, world.a.email)
    home = client.get("/").text
    assert "Unrouted urgent items (0)" in home and "Full-text requests waiting (0)" in home
    sub = new_subscriber(client, world.a, name="Asking Person", email="asking@alpha.nhs.uk")
    at = datetime.now(timezone.utc)
    with sessions() as session:
        unrouted.record(session, ItemUnrouted(
            producer="notify", item_id="alert:bed-rails", title="Bed rails and entrapment", evidence_type=EvidenceType.safety_alert,
            classified_at=at))
        session.commit()
        engagement.record_feedback(session, FeedbackGiven(
            producer="notify", subscriber_id=sub["id"], organisation_id=world.a.org_id, item_id="doi:10.1000/wanted",
            digest_id="d1", verdict="full_text_request"))
    home = client.get("/").text
    assert "Unrouted urgent items (1)" in home and 'href="/unrouted"' in home
    assert "Full-text requests waiting (1)" in home and 'href="/requests?status=new"' in home
