"""The librarian web UI: find, add, edit, preview, import/export, sources, engagement."""

from __future__ import annotations

from .conftest import new_subscriber
from .test_security import csrf_of, login


def test_add_edit_and_delete_through_forms(client, world):
    csrf = login(client, world.a.email)
    form = {"csrf_token": csrf, "organisation_id": world.a.org_id, "name": "Grace Okafor", "email": "grace@example.nhs.uk",
            "role": "Practice nurse", "interests": "Falls prevention\nPressure ulcers", "topics": "nursing, patient-safety",
            "frequency": "weekly", "weekday": "tuesday", "hour": "8", "urgent_alerts": "on"}
    created = client.post("/subscribers/new", data=form, follow_redirects=False)
    assert created.status_code == 303
    page = client.get(created.headers["location"])
    assert "Saved." in page.text and "Falls prevention\nPressure ulcers" in page.text
    sid = created.headers["location"].split("/")[2].split("?")[0]
    api = client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()
    assert api["topics"] == ["nursing", "patient_safety"] and api["weekday"] == "tuesday" and api["hour"] == 8

    bad = client.post(f"/subscribers/{sid}", data={**form, "email": "nope", "examples": "my favourite paper"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text and "There is a problem" in bad.text
    saved = client.post(f"/subscribers/{sid}", data={**form, "examples": "pmid:12345678", "status": "active"})
    assert saved.status_code == 200
    api = client.get(f"/api/subscribers/{sid}", headers=world.a.headers).json()
    assert api["examples"] == ["pmid:12345678"]
    assert api["example_papers"] == [{"ref": "pmid:12345678", "status": "pending", "title": "", "source": "", "error": ""}]
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/12345678/" rel="noopener noreferrer"><code>pmid:12345678</code></a>:' \
        in saved.text and "being looked up" in saved.text

    listing = client.get("/subscribers", params={"q": "grace"})
    assert "Grace Okafor" in listing.text and '<main id="main">' in listing.text and 'aria-label="Main"' in listing.text
    assert client.post(f"/subscribers/{sid}/delete", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert client.get(f"/api/subscribers/{sid}", headers=world.a.headers).status_code == 404


def test_import_page_reports_rows_and_export_downloads(client, world):
    csrf = login(client, world.a.email)
    upload = ("people.csv", b"name,email\r\nAnn,ann@example.nhs.uk\r\nBad,bad\r\n", "text/csv")
    page = client.post("/import", data={"csrf_token": csrf, "organisation_id": world.a.org_id}, files={"file": upload})
    assert page.status_code == 200 and "1 created" in page.text and "1 refused" in page.text
    exported = client.get("/export", params={"organisation_id": world.a.org_id, "format": "csv"})
    assert exported.status_code == 200 and b"ann@example.nhs.uk" in exported.content
    assert client.get("/export", params={"organisation_id": world.b.org_id}).status_code == 404


def test_preview_sources_engagement_and_links_pages(client, world):
    sid = new_subscriber(client, world.a)["id"]
    login(client, world.a.email)
    preview = client.get(f"/subscribers/{sid}/preview")
    assert "New evidence on Anticoagulation in atrial fibrillation" in preview.text and "interest" in preview.text
    assert "HTTP 503" in client.get("/sources").text
    assert "Alpha Hospitals NHS Trust" in client.get("/engagement").text
    assert "/self/" in client.get(f"/subscribers/{sid}/links").text
