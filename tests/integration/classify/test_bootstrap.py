"""The composition root with the real model, on Qdrant Edge under a temporary data folder."""

from __future__ import annotations

import pytest

from services.classify.bootstrap import build_classifier
from services.classify.settings import ClassifySettings

from .conftest import item_event, profile_event


@pytest.mark.slow
def test_build_classifier_runs_the_real_pipeline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = ClassifySettings(data_dir=tmp_path / "classify", max_seq_length=128)
    classifier = build_classifier(settings)
    try:
        classifier.apply_profiles([profile_event(
            "s1", interests=["Anticoagulation for stroke prevention in atrial fibrillation"], topics=["cardiology"])])
        result = classifier.classify([
            item_event("doi:10.1/af", "Apixaban versus warfarin for stroke prevention in atrial fibrillation",
                       "In this randomised trial, apixaban reduced stroke and major bleeding compared with warfarin "
                       "in patients with atrial fibrillation."),
        ])
        classified = result.classified[0]
        assert classified.model == "all-MiniLM-L6-v2@128"
        assert classified.evidence_type.value == "trial"
        assert any(t.topic_id == "cardiology" for t in classified.tags)
        assert [m.subscriber_id for m in result.matched] == ["s1"]
        kinds = {r.kind for r in result.matched[0].reasons}
        assert {"interest", "topic"} <= kinds
    finally:
        classifier.close()
    assert (tmp_path / "classify" / "term_stats.json").exists()
