"""Render a sample digest and board briefing to HTML for the screenshots in this folder.

Run from the repository root:
    HORIZON_NOTIFY_DEV=true python docs/screenshots/render_samples.py OUT_DIR
then take the screenshots with headless Chromium (see README.md here).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from contracts import EvidenceType, Item, ItemClassified, ItemMatched, MatchReason, Profile, ProfileChanged, TopicTag
from services.notify.bootstrap import build_notifier
from services.notify.settings import NotifySettings

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
ITEMS = [
    ("doi:10.1056/nejmoa1107039", "Apixaban versus warfarin in patients with atrial fibrillation", "New England Journal of Medicine",
     EvidenceType.trial, "Anticoagulation for stroke prevention in atrial fibrillation", 0.91, False,
     "Vitamin K antagonists are highly effective in preventing stroke in patients with atrial fibrillation but have several limitations. "
     "Apixaban is a novel oral direct factor Xa inhibitor that has been shown to reduce the risk of stroke. In this randomised double-blind trial, "
     "we compared apixaban with warfarin in 18,201 patients. Apixaban was superior to warfarin in preventing stroke or systemic embolism."),
    ("url:https://www.nice.org.uk/guidance/ng196", "Atrial fibrillation: diagnosis and management (update)", "NICE guidance",
     EvidenceType.guideline, "Anticoagulation for stroke prevention in atrial fibrillation", 0.88, False,
     "This guideline covers diagnosing and managing atrial fibrillation in adults. It includes guidance on assessing stroke and bleeding risks. "
     "It aims to improve outcomes by ensuring people receive appropriate anticoagulation."),
    ("doi:10.1002/14651858.cd013215", "Self-management interventions for people with chronic heart failure", "Cochrane Database of Systematic Reviews",
     EvidenceType.systematic_review, "Heart failure self-care and telemonitoring", 0.79, False,
     "Self-management is a key element of care for people with heart failure. We assessed the effects of self-management interventions. "
     "Self-management probably reduces hospital admissions for heart failure. Quality of life improved slightly. <script>alert('x')</script>"),
    ("url:https://www.gov.uk/drug-safety-update/x", "MHRA Drug Safety Update: DOAC dosing in renal impairment", "MHRA",
     EvidenceType.safety_alert, "Anticoagulation for stroke prevention in atrial fibrillation", 0.75, True,
     "Prescribers are reminded to calculate creatinine clearance before prescribing a direct oral anticoagulant. Doses must be adjusted in renal impairment."),
    ("pmid:39000001", "Remote monitoring after hospital discharge for heart failure: a pragmatic trial", "Heart",
     EvidenceType.trial, "Heart failure self-care and telemonitoring", 0.66, False,
     "Remote monitoring may reduce readmissions. We randomised 1,200 patients at 40 hospitals. Readmissions at 90 days did not differ."),
]


def main(out: Path) -> None:
    work = Path(tempfile.mkdtemp())
    settings = NotifySettings(
        dev=True, database_url=f"sqlite:///{work}/notify.db", outbox_dir=out, smtp_url="",
        library_name="Example Hospitals Library and Knowledge Service",
    )
    n = build_notifier(settings)
    profile = Profile(name="Dr Asha Khan", email="asha.khan@example.nhs.uk", organisation_name="Example Hospitals NHS Trust",
                      urgent_alerts=False, board_briefing=True)
    n.handle(ProfileChanged(producer="subscriptions", subscriber_id="asha", organisation_id="org-1", version=1, profile=profile))
    for item_id, title, source, evidence, reason, score, urgent, summary in ITEMS:
        n.handle(ItemClassified(
            producer="classify", occurred_at=NOW, evidence_type=evidence, urgent=urgent,
            tags=[TopicTag(topic_id="cardiology", label="Cardiology", score=0.8)],
            item=Item(item_id=item_id, source_id="s", source_title=source, title=title, summary=summary,
                      url=f"https://example.org/{item_id}", published_at=datetime(2026, 11, 19, tzinfo=timezone.utc)),
        ))
        n.handle(ItemMatched(producer="classify", occurred_at=NOW, item_id=item_id, subscriber_id="asha", organisation_id="org-1",
                             score=score, reasons=[MatchReason(kind="interest", text=reason, score=score)], urgent=urgent))
    n.run_due(NOW)
    n.run_briefings(NOW, force=True)
    n.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
