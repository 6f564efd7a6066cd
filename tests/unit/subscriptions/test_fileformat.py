"""The subscribers file: YAML and CSV parsing, file-level errors, export that reads back."""

from __future__ import annotations

from pathlib import Path

from services.subscriptions import fileformat
from services.subscriptions.schemas import SubscriberFields

SAMPLE = Path(__file__).resolve().parents[3] / "horizon" / "samples" / "subscribers.yaml"


def test_the_design_example_parses_and_validates():
    parsed = fileformat.parse_yaml(b"""
organisation: Example Hospitals NHS Trust
subscribers:
  - name: Dr Asha Khan
    email: asha.khan@example.nhs.uk
    role: Consultant cardiologist
    frequency: weekly
    interests:
      - Anticoagulation for stroke prevention in atrial fibrillation
    topics: [cardiology]
    examples: [doi:10.1056/NEJMoa0905561]
    exclude: [paediatric]
    content_types: [guideline, systematic_review, trial]
""")
    assert parsed.organisation == "Example Hospitals NHS Trust" and parsed.errors == []
    row = SubscriberFields.model_validate(parsed.rows[0][1])
    assert row.examples == ["doi:10.1056/NEJMoa0905561"] and row.weekday == "monday" and row.hour == 7


def test_the_projects_sample_file_is_valid():
    if not SAMPLE.exists():
        return
    parsed = fileformat.parse_yaml(SAMPLE.read_bytes())
    assert parsed.errors == [] and len(parsed.rows) >= 1
    for _, row in parsed.rows:
        SubscriberFields.model_validate(row)


def test_file_level_errors():
    assert fileformat.parse_yaml(b"subscribers: [unclosed").errors[0].row == 0
    assert "unknown keys: owner" in fileformat.parse_yaml(b"owner: x\nsubscribers: []\n").errors[0].message
    assert fileformat.parse_yaml(b"- just a list\n").errors
    assert "UTF-8" in fileformat.parse_csv(b"name,email\r\n\xff\xfe,x\r\n").errors[0].message
    assert "unknown columns: colour" in fileformat.parse_csv(b"name,email,colour\r\n").errors[0].message
    assert fileformat.parse(b"", "xlsx").errors


def test_a_non_mapping_yaml_row_is_a_row_error_and_others_are_kept():
    parsed = fileformat.parse_yaml(b"subscribers:\n  - just text\n  - {name: A, email: a@example.nhs.uk}\n")
    assert [e.row for e in parsed.errors] == [1] and [n for n, _ in parsed.rows] == [2]


def test_csv_cells_lists_defaults_and_ragged_rows():
    parsed = fileformat.parse_csv(
        b"name,email,interests,urgent_alerts,hour\r\n"
        b"Ann,ann@example.nhs.uk, Diabetes | Obesity ,no,\r\n"
        b"Bob,bob@example.nhs.uk,,,,extra\r\n"
    )
    assert parsed.rows == [(2, {"name": "Ann", "email": "ann@example.nhs.uk", "interests": ["Diabetes", "Obesity"],
                                "urgent_alerts": "no"})]
    assert [e.row for e in parsed.errors] == [3]
    assert SubscriberFields.model_validate(parsed.rows[0][1]).urgent_alerts is False


def test_export_reads_back_identically_in_both_formats():
    rows = [SubscriberFields(name="=SUM(A1)", email="a@example.nhs.uk", role="-x", interests=["Sepsis", "+AKI"],
                             topics=["renal"]).model_dump(mode="json")]
    for fmt in ("yaml", "csv"):
        data = fileformat.dump_yaml("Trust", rows) if fmt == "yaml" else fileformat.dump_csv(rows)
        parsed = fileformat.parse(data, fmt)
        assert [SubscriberFields.model_validate(r).model_dump(mode="json") for _, r in parsed.rows] == rows
    assert b"'=SUM(A1)" in fileformat.dump_csv(rows)
