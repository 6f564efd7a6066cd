"""`horizon demo` end to end on the project's own samples: the embedded defaults, no broker."""

from __future__ import annotations

import email
import json
from email import policy

import pytest
import yaml

from horizon.demo import DEFAULT_SUBSCRIBERS, run_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    report = run_demo(out)
    return out, report, json.loads((out / "summary.json").read_text())


def test_summary_counts_agree_with_what_was_written(demo_run):
    out, report, summary = demo_run
    assert summary["sources"] == 5 and summary["source_errors"] == []
    assert summary["items_ingested"] == summary["items_classified"] > 20
    assert summary["digests_written"] == len(report.digests) == len(list(out.glob("*.eml")))
    assert len(list(out.glob("*.html"))) == len(list(out.glob("*.eml")))


def test_the_same_work_in_two_feeds_is_ingested_once(demo_run):
    _, _, summary = demo_run
    # 34 entries across the five sample feeds; one paper is in both the journal and the PubMed feed.
    assert summary["items_ingested"] == 33


def test_each_subscriber_gets_what_matches_them_and_nobody_gets_an_empty_digest(demo_run):
    _, _, summary = demo_run
    people = yaml.safe_load(DEFAULT_SUBSCRIBERS.read_text())["subscribers"]
    rows = summary["subscribers"]
    assert set(rows) == {p["email"] for p in people}
    dermatologist = rows["helen.price@example.nhs.uk"]
    assert dermatologist["digest"] is None and dermatologist["items"] == []
    with_digest = [row for row in rows.values() if row["digest"]]
    assert len(with_digest) == len(people) - 1
    assert all(row["items"] for row in with_digest)
    infection = rows["fiona.macleod@example.nhs.uk"]["items"]
    assert any("infection" in title.lower() for title in infection)
    finance = " ".join(rows["priya.sharma@example.nhs.uk"]["items"]).lower()
    assert "workforce" in finance or "financial" in finance


def test_every_digest_is_a_complete_message_with_escaped_content(demo_run):
    out, _, _ = demo_run
    for path in out.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert message["To"] and message["Message-ID"] and message["List-Unsubscribe"]
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert "<script" not in html.lower() and "javascript:" not in html.lower()
        assert "<script" not in text.lower()
        assert path.with_suffix(".html").is_file()


def test_a_second_run_starts_afresh(demo_run):
    out, _, first = demo_run
    again = run_demo(out)
    assert len(again.digests) == first["digests_written"]
    assert len(list(out.glob("*.eml"))) == first["digests_written"]


def test_the_board_member_gets_the_briefing_with_its_pdf(demo_run):
    out = demo_run[0]
    summary = json.loads((out / "summary.json").read_text())  # the latest run's (another test runs it again)
    rows = summary["subscribers"]
    assert [email for email, row in rows.items() if row["board_briefing"]] == ["margaret.ellis@example.nhs.uk"]
    [eml] = list(out.glob("briefing_*.eml"))
    assert rows["margaret.ellis@example.nhs.uk"]["subscriber_id"] in eml.name
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    [pdf] = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert summary["pdfs_written"] == [f"{eml.stem}_{pdf.get_filename()}"]
    assert (out / summary["pdfs_written"][0]).read_bytes() == pdf.get_content()
    assert pdf.get_content().startswith(b"%PDF-")


def test_the_briefing_on_the_sample_sources_carries_the_boards_content(demo_run):
    """Policy, guidance and every safety alert of the samples' month, the two alerts that
    matched nobody flagged, the chart in the e-mail, each item once, figures last."""
    from io import BytesIO

    from pypdf import PdfReader

    out = demo_run[0]
    [eml] = list(out.glob("briefing_*.eml"))
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("Board horizon-scanning briefing: November 2026")  # the samples' month
    html = message.get_body(preferencelist=("related", "html")).get_body(preferencelist=("html",)).get_content()
    assert 'src="cid:briefing-themes@horizon"' in html
    [chart] = [p for p in message.walk() if p.get("Content-ID") == "<briefing-themes@horizon>"]
    assert chart.get_content_type() == "image/png"
    [pdf] = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(BytesIO(pdf.get_content())).pages).split())
    sections = ["Executive summary", "National policy and regulation", "National guidance", "Patient safety alerts",
                "Emerging themes", "Evidence reaching staff, by theme", "The library's figures for November 2026"]
    places = [text.index(s) for s in sections]
    assert places == sorted(places), "sections in the board's order"
    assert "Covers items published 1\u201330 November 2026" in text
    for policy_item in ("Financial framework for 2027/28", "state of care report", "Workforce plan refresh"):
        assert policy_item in text, policy_item
    assert text.count("Reached no one") >= 4  # the two unreached alerts, in the summary and in the table
    for alert in ("bed rails and entrapment risk", "volumetric infusion pump software fault"):
        assert alert in text
    # each entry prints its URL once: no item is shown twice
    joined = text.replace(" ", "")
    urls = {u for u in joined.split("https://")[1:]}
    assert urls and all(joined.count("https://" + u[:40]) == 1 for u in urls)
