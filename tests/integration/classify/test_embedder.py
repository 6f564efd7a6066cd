"""The packaged all-MiniLM-L6-v2 weights load offline and embed meaningfully."""

from __future__ import annotations

import numpy as np
import pytest

from services.classify.embedder import Embedder, item_text


@pytest.mark.slow
def test_packaged_model_loads_offline_and_embeds(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = Embedder(max_seq_length=128, batch_size=4)
    texts = [
        item_text("Apixaban versus warfarin in atrial fibrillation", "Stroke prevention with anticoagulants."),
        "Oral anticoagulation for stroke prevention in atrial fibrillation",
        "Fluoride varnish and tooth decay in schoolchildren",
    ]
    v = embedder.encode(texts)
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    assert embedder.key == "all-MiniLM-L6-v2@128"


def test_item_text_is_title_then_abstract():
    assert item_text("A title", "An  abstract\n here.") == "A title. An abstract here."
    assert item_text("Why?", "Because.") == "Why? Because."
    assert item_text("", "Only abstract") == "Only abstract"
