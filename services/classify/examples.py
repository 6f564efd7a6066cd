"""Example papers a profile names without their text, found among the items classify has seen.

An example given as 'doi:…', 'pmid:…' or a URL that subscriptions could not resolve may be an
item seen in the last RECENT_DAYS: its title and abstract then stand for it. Items marked useful
join the examples the same way; those marked not relevant are kept as vectors. An example found
nowhere is awaited, and the profile applied again when it arrives (`awaiting_keys`, `item_keys`).
"""

from __future__ import annotations

import logging
from collections import defaultdict

import numpy as np

from contracts import Item, Profile, ProfileChanged
from services.classify.embedder import item_text
from services.classify.index import RecentItems
from services.common.papers import canonical_ref, doi_in

log = logging.getLogger(__name__)

Lookup = tuple[str, str]  # (payload field, value)


def lookups(ref: str) -> list[Lookup]:
    """Where an item for this example reference would be found: its stable id, DOI, PMID or URL."""
    ref = canonical_ref(ref)
    if ref.startswith("doi:"):
        return [("item_id", ref), ("item.doi", ref[4:])] if ref[4:] else []
    if ref.startswith("pmid:"):
        return [("item_id", ref), ("item.pmid", ref[5:])] if ref[5:].isdigit() else []
    if ref.lower().startswith(("http://", "https://")):
        out = [("item.url", ref), ("item_id", f"url:{ref}")]
        if doi := doi_in(ref):  # a publisher's page named by its DOI
            out += [("item_id", f"doi:{doi}"), ("item.doi", doi)]
        return out
    return []


def awaiting_keys(profile: Profile, own: int) -> list[str]:
    """The lookup keys ('field=value') of the profile's own example papers (its first `own`:
    those after are items marked useful) that still have no text."""
    refs = [ref for ref, text in zip(profile.examples[:own], _aligned_texts(profile)) if not text.strip()]
    return list(dict.fromkeys(f"{field}={value}" for ref in refs for field, value in lookups(ref)))


def item_keys(item: Item) -> list[str]:
    """The lookup keys under which an arriving item may be an awaited example paper."""
    given = (("item.doi", item.doi), ("item.pmid", item.pmid), ("item.url", item.url))
    return [f"item_id={item.item_id}", *(f"{field}={value}" for field, value in given if value)]


def _aligned_texts(profile: Profile) -> list[str]:
    """One text per example ("" where none came), whatever the length of example_texts."""
    n = len(profile.examples)
    return [*profile.example_texts[:n], *[""] * (n - len(profile.example_texts))]


def fill_example_texts(profile: Profile, recent: RecentItems) -> Profile:
    """The profile with a text for each example that has none, where a seen item is that paper."""
    texts = _aligned_texts(profile)
    missing = [n for n, t in enumerate(texts) if not t.strip()]
    if not missing:
        return profile
    wanted: dict[str, set[str]] = defaultdict(set)
    for n in missing:
        for field, value in lookups(profile.examples[n]):
            wanted[field].add(value)
    found: dict[Lookup, str] = {}
    for field, values in wanted.items():
        for item in recent.find(field, sorted(values), limit=len(values) * 2):
            stored = item.payload.get("item", {})
            value = item.item_id if field == "item_id" else stored.get(field.removeprefix("item."))
            text = item_text(stored.get("title", ""), stored.get("summary", ""))
            if value and text.strip():
                found.setdefault((field, str(value)), text)
    for n in missing:
        texts[n] = next((found[k] for k in lookups(profile.examples[n]) if k in found), "")
    resolved = sum(bool(texts[n]) for n in missing)
    if resolved:
        log.info("example papers found among seen items", extra={"resolved": resolved, "missing": len(missing)})
    return profile.model_copy(update={"example_texts": texts + list(profile.example_texts[len(profile.examples):])})


def with_example_texts(event: ProfileChanged, recent: RecentItems) -> ProfileChanged:
    """The event with its profile's missing example texts filled in from seen items, and the
    items its subscriber marked useful added as examples (those still among the seen items)."""
    p = event.profile
    if p is None or not (p.examples or p.liked):
        return event
    liked = [i for i in dict.fromkeys(p.liked) if i not in p.examples]
    widened = p.model_copy(update={"examples": [*p.examples, *liked],
                                   "example_texts": [*_aligned_texts(p), *[""] * len(liked)]})
    return event.model_copy(update={"profile": fill_example_texts(widened, recent)})


def disliked_vectors(event: ProfileChanged, recent: RecentItems, dim: int) -> tuple[list[str], np.ndarray]:
    """The ids and stored vectors of the items the subscriber marked not relevant, where seen."""
    ids = list(dict.fromkeys(event.profile.disliked)) if event.profile is not None else []
    found = {it.item_id: it for it in recent.find("item_id", ids, limit=len(ids))} if ids else {}
    kept = [i for i in ids if i in found and len(found[i].dense) == dim]
    vectors = np.asarray([found[i].dense for i in kept], dtype=np.float32).reshape(len(kept), dim)
    return kept, vectors
