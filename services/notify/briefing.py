"""What a monthly board briefing says about one organisation's month. Pure.

Key national guidance and policy, the top items per theme (ItemClassified.tags), emerging themes
(this month's volume against the average of the months before), and counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from contracts import EvidenceType, Item, TopicTag
from services.notify.digest import Candidate, Entry, entry

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
GUIDANCE = {EvidenceType.guideline, EvidenceType.policy, EvidenceType.safety_alert}


@dataclass(frozen=True)
class BriefItem:
    """An item of the month, with how many of the organisation's subscribers it matched."""

    item: Item
    evidence_type: EvidenceType
    tags: tuple[TopicTag, ...]
    urgent: bool
    subscribers: int = 0
    best_score: float = 0.0


@dataclass(frozen=True)
class Theme:
    topic_id: str
    label: str
    count: int
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Emerging:
    label: str
    count: int
    baseline: float
    change: str


@dataclass(frozen=True)
class Briefing:
    guidance: tuple[Entry, ...]
    themes: tuple[Theme, ...]
    emerging: tuple[Emerging, ...]
    counts: dict[str, int]

    @property
    def empty(self) -> bool:
        return not self.guidance and not self.themes


def _entry(b: BriefItem) -> Entry:
    e = entry(Candidate(item=b.item, score=b.best_score, evidence_type=b.evidence_type, urgent=b.urgent,
                        matched_at=b.item.published_at or b.item.updated_at or _EPOCH, tags=b.tags))
    why = f"Matched the interests of {b.subscribers} colleague{'s' if b.subscribers != 1 else ''}" if b.subscribers else ""
    return replace(e, why=why)


def _rank(items: list[BriefItem]) -> list[BriefItem]:
    return sorted(items, key=lambda b: (not b.urgent, -b.subscribers, -b.best_score, b.item.item_id))


def theme_counts(items: list[BriefItem]) -> Counter[str]:
    """Items per theme, counting each item under its first (best) tag."""
    return Counter(b.tags[0].topic_id for b in items if b.tags)


def emerging_themes(
    current: Counter[str], history: list[Counter[str]], labels: dict[str, str], *, min_count: int = 3, limit: int = 5,
) -> tuple[Emerging, ...]:
    """Themes whose volume this month rose well above the average of the months before."""
    months = max(len(history), 1)
    found = []
    for topic, count in current.items():
        baseline = sum(h.get(topic, 0) for h in history) / months
        if count >= min_count and count >= 1.5 * baseline + 1:
            change = "new this month" if baseline == 0 else f"up {round(100 * (count - baseline) / baseline)}% on the {months}-month average"
            found.append(Emerging(labels.get(topic, topic), count, round(baseline, 1), change))
    return tuple(sorted(found, key=lambda e: (-(e.count - e.baseline), e.label))[:limit])


def build_briefing(
    matched: list[BriefItem], national: list[BriefItem], history: list[Counter[str]], counts: dict[str, int],
    *, max_guidance: int = 8, max_themes: int = 6, per_theme: int = 3,
) -> Briefing:
    """The briefing of one organisation's month.

    matched: the items matched to the organisation's subscribers; national: every guideline,
    policy and safety alert of the month (matched or not); history: theme counts of earlier months.
    """
    by_id = {b.item.item_id: b for b in national} | {b.item.item_id: b for b in matched}
    guidance = _rank([b for b in by_id.values() if b.evidence_type in GUIDANCE])[:max_guidance]
    labels = {t.topic_id: t.label for b in matched for t in b.tags}
    current = theme_counts(matched)
    themes = []
    for topic, count in current.most_common(max_themes):
        top = _rank([b for b in matched if b.tags and b.tags[0].topic_id == topic])[:per_theme]
        themes.append(Theme(topic, labels.get(topic, topic), count, tuple(_entry(b) for b in top)))
    return Briefing(
        guidance=tuple(_entry(b) for b in guidance),
        themes=tuple(themes),
        emerging=emerging_themes(current, history, labels),
        counts=counts,
    )

