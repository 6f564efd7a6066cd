"""Fixtures for classify's tests: a deterministic stand-in for the embedding model, and builders.

The fake embedder is a fake of classify's own port (a function from texts to unit vectors):
hashed bags of words, so texts sharing words are near and others are far. Tests that need the
real model are marked slow.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from contracts import Item, ItemDiscovered, Profile, ProfileChanged
from services.classify import lexical
from services.classify.classifier import Classifier

DIM = 64


def fake_embed(texts: Sequence[str]) -> np.ndarray:
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for n, text in enumerate(texts):
        for term in lexical.terms(text):
            out[n, zlib.crc32(term.encode()) % DIM] += 1.0
        norm = np.linalg.norm(out[n])
        out[n] = out[n] / norm if norm else out[n]
    return out


def profile_event(subscriber_id: str, version: int = 1, **fields) -> ProfileChanged:
    profile = Profile(name=subscriber_id, email=f"{subscriber_id}@example.org", **fields)
    return ProfileChanged(producer="test", subscriber_id=subscriber_id, organisation_id="org-1",
                          version=version, profile=profile)


def tombstone(subscriber_id: str, version: int) -> ProfileChanged:
    return ProfileChanged(producer="test", subscriber_id=subscriber_id, organisation_id="org-1",
                          version=version, deleted=True)


def item_event(item_id: str, title: str, summary: str = "", **fields) -> ItemDiscovered:
    return ItemDiscovered(producer="test", event_id=f"ev-{item_id}",
                          item=Item(item_id=item_id, source_id=fields.pop("source_id", "src-1"), title=title,
                                    summary=summary, **fields))


def make_classifier(index, recent, threshold: float = 0.5) -> Classifier:
    return Classifier(embed=fake_embed, model_key="fake", dim=DIM, index=index, recent=recent,
                      tagger=None, stats=lexical.TermStats(), threshold=threshold)


@pytest.fixture(params=["edge", "client"])
def classifier(request, tmp_path: Path):
    if request.param == "edge":
        from services.classify.index_edge import edge_stores

        index, recent = edge_stores(tmp_path, DIM)
    else:
        from qdrant_client import QdrantClient

        from services.classify.index_client import client_stores

        client = QdrantClient(":memory:")
        index, recent = client_stores(client, "profiles", "items", DIM)
    c = make_classifier(index, recent)
    yield c
    c.close()
