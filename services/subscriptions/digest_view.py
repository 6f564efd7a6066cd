"""A preview laid out as the e-mail would be: urgent alerts apart from the digest, items grouped
under the interest or topic that chose them, types by name, and why each was chosen in words.

Pure: takes classify's preview items and the profile, returns what the template shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts import Profile
from services.subscriptions import vocabulary
from services.subscriptions.ports import PreviewItem

#: Evidence types that go out straight away (when the subscriber takes urgent alerts), as notify sends them.
URGENT_TYPES = {"safety_alert"}


@dataclass
class ViewItem:
    item: PreviewItem
    type_label: str
    why: list[str]
    strength: str


@dataclass
class Group:
    heading: str
    items: list[ViewItem] = field(default_factory=list)


@dataclass
class DigestView:
    alerts: list[ViewItem]
    groups: list[Group]
    count: int
    urgent_alerts: bool


def _why(item: PreviewItem) -> list[str]:
    out = []
    for r in item.reasons:
        if r.kind == "interest":
            out.append(f"matches the interest “{r.text}”")
        elif r.kind == "topic":
            out.append(f"is about {vocabulary.topic_label(r.text)}")
        elif r.kind == "example":
            out.append(f"is like the example paper {r.text}")
        elif r.kind == "evidence":
            out.append(f"is the kind of evidence asked for ({vocabulary.content_type_label(r.text)})")
        else:
            out.append(r.text)
    return out


def _strength(score: float) -> str:
    """Words, not a number: scores from different reasons are not on one scale."""
    return "close match" if score >= 0.75 else "good match" if score >= 0.5 else "loose match"


def _heading(item: PreviewItem) -> str:
    first = item.reasons[0] if item.reasons else None
    if first is None:
        return "Other new evidence"
    if first.kind == "topic":
        return vocabulary.topic_label(first.text)
    if first.kind == "example":
        return "Like your example papers"
    return first.text


def view(items: list[PreviewItem], profile: Profile | None) -> DigestView:
    urgent = bool(profile and profile.urgent_alerts)
    alerts: list[ViewItem] = []
    groups: dict[str, Group] = {}
    for item in sorted(items, key=lambda i: -i.score):
        shown = ViewItem(item, vocabulary.content_type_label(item.evidence_type) if item.evidence_type else "",
                         _why(item), _strength(item.score))
        if urgent and item.evidence_type in URGENT_TYPES:
            alerts.append(shown)
        else:
            groups.setdefault(_heading(item), Group(_heading(item))).items.append(shown)
    return DigestView(alerts, list(groups.values()), len(items), urgent)
