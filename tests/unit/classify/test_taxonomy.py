"""The packaged taxonomy, and clear errors for a librarian's mistakes in a taxonomy file."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.classify.taxonomy import Taxonomy, TaxonomyError, Topic, load_taxonomy

REQUIRED = {
    "cardiology", "oncology", "nursing", "midwifery", "pharmacy", "allied_health_professions",
    "patient_safety", "infection_prevention_control", "antimicrobial_resistance", "medicines_optimisation",
    "mental_health", "workforce", "digital_health_ai", "health_inequalities", "primary_care",
    "urgent_emergency_care", "public_health", "maternity", "paediatrics", "older_people", "dementia",
    "end_of_life_care", "sepsis", "diabetes", "stroke", "respiratory", "renal", "musculoskeletal",
    "dermatology", "ophthalmology", "surgery", "anaesthesia", "critical_care", "radiology", "pathology",
    "sexual_health", "learning_disability_autism", "safeguarding", "research_methods",
    "quality_improvement", "leadership_management", "finance_commissioning", "integrated_care_systems",
    "sustainability_net_zero", "evidence_based_practice",
}


@pytest.fixture(scope="module")
def packaged() -> Taxonomy:
    return load_taxonomy()


def test_packaged_taxonomy_is_broad_and_complete(packaged: Taxonomy) -> None:
    assert len(packaged.topics) >= 50
    ids = [t.id for t in packaged.topics]
    assert REQUIRED <= set(ids) and len(set(ids)) == len(ids)
    for topic in packaged.topics:
        assert topic.label and len(topic.description) > 40, topic.id
        assert len(topic.synonyms) >= 3, topic.id


def test_synonyms_carry_uk_and_us_spellings(packaged: Taxonomy) -> None:
    def words(topic_id: str) -> set[str]:
        [topic] = [t for t in packaged.topics if t.id == topic_id]
        return {s.lower() for s in topic.synonyms}

    assert {"paediatric", "pediatric"} <= words("paediatrics")
    assert {"anaemia", "anemia"} <= words("haematology")
    assert {"anaesthesia", "anesthesia"} <= words("anaesthesia")
    assert {"oestrogen", "estrogen"} <= words("womens_health")


def test_some_topics_are_marked_urgent(packaged: Taxonomy) -> None:
    urgent = packaged.urgent_ids()
    assert "medicines_device_alerts" in urgent and "cardiology" not in urgent


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


TOPIC = """
  - id: {id}
    label: Cardiology
    description: Hearts.
    synonyms: [cardiac]
    group: specialty
"""


def test_a_small_custom_file_loads(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(_write(tmp_path, "topics:" + TOPIC.format(id="cardiology")))
    assert [t.id for t in taxonomy.topics] == ["cardiology"]
    assert taxonomy.topics[0] == Topic(
        id="cardiology", label="Cardiology", description="Hearts.", synonyms=["cardiac"], group="specialty"
    )


def test_duplicate_ids_are_named(tmp_path: Path) -> None:
    text = "topics:" + TOPIC.format(id="cardiology") + TOPIC.format(id="cardiology")
    with pytest.raises(TaxonomyError, match=r"topic #2 \(id 'cardiology'\): duplicate topic id 'cardiology'.*#1"):
        load_taxonomy(_write(tmp_path, text))


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    text = "topics:" + TOPIC.format(id="cardiology") + "    synonym: [heart]\n"
    with pytest.raises(TaxonomyError, match=r"topic #1 \(id 'cardiology'\): unknown key 'synonym'"):
        load_taxonomy(_write(tmp_path, text))


def test_missing_fields_are_named(tmp_path: Path) -> None:
    text = "topics:\n  - id: cardiology\n    label: Cardiology\n    group: specialty\n"
    with pytest.raises(TaxonomyError, match=r"missing field 'description'"):
        load_taxonomy(_write(tmp_path, text))


def test_bad_ids_and_yaml_and_shapes(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match=r"field 'id'.*lower case"):
        load_taxonomy(_write(tmp_path, "topics:" + TOPIC.format(id="Heart Stuff")))
    with pytest.raises(TaxonomyError, match="not valid YAML"):
        load_taxonomy(_write(tmp_path, "topics: [\n  - id: x"))
    with pytest.raises(TaxonomyError, match="non-empty list"):
        load_taxonomy(_write(tmp_path, "topics: []\n"))
    with pytest.raises(TaxonomyError, match="unknown top-level key"):
        load_taxonomy(_write(tmp_path, "topic: []\n"))
    with pytest.raises(TaxonomyError, match="cannot read"):
        load_taxonomy(tmp_path / "missing.yaml")
