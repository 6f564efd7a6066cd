"""What goes in a digest or an urgent alert: ranking, grouping by interest, capping. Pure.

A candidate is one matched item whose classification has arrived. A digest shows the best
`max_items` of them, grouped by the reason each was chosen (ItemMatched.reasons[0]; each item then says what in it
met that reason, why.py); the rest
are counted ("and 4 more"), and taken with the digest so they do not pile up for ever.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from contracts import EvidenceType, Item, MatchReason, TopicTag
from services.notify.kinds import notice_kind, offers_full_text
from services.notify.summary import summarise
from services.notify.text import clean_text, safe_url
from services.notify.why import why

EVIDENCE_LABELS = {
    EvidenceType.guideline: "Guideline",
    EvidenceType.systematic_review: "Systematic review",
    EvidenceType.trial: "Trial",
    EvidenceType.observational: "Observational study",
    EvidenceType.qualitative: "Qualitative study",
    EvidenceType.review: "Review",
    EvidenceType.policy: "Policy",
    EvidenceType.report: "Report",
    EvidenceType.news: "News",
    EvidenceType.safety_alert: "Safety alert",
    EvidenceType.article: "Article",
    EvidenceType.other: "Other",
}

#: Names of the languages ingest detects (ISO 639-1), for the note on items not in English.
LANGUAGE_NAMES = {
    "ar": "Arabic", "cs": "Czech", "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "es": "Spanish",
    "fa": "Persian", "fi": "Finnish", "fr": "French", "ga": "Irish", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "ms": "Malay", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sv": "Swedish",
    "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}


def language_note(code: str | None) -> str:
    """'In German' for an item not in English; nothing for English or an unknown language."""
    if not code or code == "en":
        return ""
    name = LANGUAGE_NAMES.get(code.lower())
    return f"In {name}" if name else "Not in English"


_REASON_PREFIX = {"interest": "", "topic": "Topic: ", "example": "Papers like: ", "evidence": "Asked for: "}


@dataclass(frozen=True)
class Candidate:
    """A matched item ready to show: the item, its classification and why it matched."""

    item: Item
    score: float
    evidence_type: EvidenceType
    urgent: bool
    matched_at: datetime
    reasons: tuple[MatchReason, ...] = ()
    tags: tuple[TopicTag, ...] = ()


@dataclass(frozen=True)
class Entry:
    """One item as an e-mail shows it (plain text; templates escape it)."""

    item_id: str
    title: str
    url: str
    source: str
    date: str
    badge: str
    evidence_type: str
    summary: str
    why: str  # what in the item met the interest, never the group heading again
    urgent: bool
    language: str = ""  # "In German" for an item not in English
    group: str = ""  # the heading it is shown under: its first reason
    notice: str = ""  # "Correction" or "Letter or reply": about a paper, not a paper
    full_text: bool = False  # a journal article not free to read: a full-text request is offered


@dataclass(frozen=True)
class Group:
    heading: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Digest:
    groups: tuple[Group, ...]
    item_ids: tuple[str, ...] = ()
    overflow_ids: tuple[str, ...] = field(default=())
    left_out_ids: tuple[str, ...] = ()  # corrections and letters not shown (a setting): taken, not counted

    @property
    def shown(self) -> int:
        return len(self.item_ids)

    @property
    def more(self) -> int:
        return len(self.overflow_ids)


def rank(candidates: list[Candidate]) -> list[Candidate]:
    """Best first: urgent items, then by score, then the newest; stable on the item id."""
    return sorted(candidates, key=lambda c: (not c.urgent, -c.score, -c.matched_at.timestamp(), c.item.item_id))


def reason_label(reasons: tuple[MatchReason, ...]) -> str:
    if not reasons:
        return "Other matches"
    best = reasons[0]
    return _REASON_PREFIX.get(best.kind, "") + clean_text(best.text)


NOTICES_HEADING = "Corrections, letters and replies"


def entry(candidate: Candidate) -> Entry:
    item = candidate.item
    when = item.published_at or item.updated_at
    source = clean_text(item.source_title or item.publisher or item.source_id)
    title = clean_text(item.title) or "(untitled)"
    notice = notice_kind(title)
    return Entry(
        item_id=item.item_id,
        title=title,
        url=safe_url(item.url),
        source=source,
        date=f"{when.day} {when:%b %Y}" if when else "",
        badge=notice or EVIDENCE_LABELS.get(candidate.evidence_type, "Other"),
        evidence_type=str(candidate.evidence_type),
        summary=summarise(item.summary, str(candidate.evidence_type)),
        why=clean_text(why(item, candidate.reasons)),
        urgent=candidate.urgent,
        language=language_note(item.language),
        group=reason_label(candidate.reasons),
        notice=notice,
        full_text=not notice and offers_full_text(item, candidate.evidence_type),
    )


class SharedEntries:
    """entry() once per item and reason among the subscribers of one page: an item reaches many
    people for the same statement, and its entry (cleaned text, summary, why) is the same for each.

    Items are told apart by identity (one page's candidates share each item's object), so a
    cache lives for one page only."""

    def __init__(self) -> None:
        self._made: dict[tuple, Entry] = {}

    def __call__(self, candidate: Candidate) -> Entry:
        key = (id(candidate.item), candidate.evidence_type, candidate.urgent,
               tuple((r.kind, r.text) for r in candidate.reasons))
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = entry(candidate)
        return made


def build_digest(candidates: list[Candidate], max_items: int, notices: str = "apart",
                 make: Callable[[Candidate], Entry] = entry) -> Digest:
    """The digest of these candidates: the top `max_items`, grouped by their first reason.

    Corrections and letters (`notices`): "apart" shows them after the papers under their own
    heading, in a cap of their own; "omit" leaves them out (taken with the digest, not counted)."""
    ranked = rank(candidates)
    papers = [c for c in ranked if not notice_kind(clean_text(c.item.title))]
    about = [c for c in ranked if notice_kind(clean_text(c.item.title))]
    shown, overflow = papers[:max_items], papers[max_items:]
    groups: dict[str, list[Entry]] = {}
    for candidate in shown:
        e = make(candidate)
        groups.setdefault(e.group, []).append(e)
    left_out: list[Candidate] = []
    if notices == "omit":
        left_out = about
    elif about:
        groups[NOTICES_HEADING] = [make(c) for c in about[:max_items]]
        shown, overflow = shown + about[:max_items], overflow + about[max_items:]
    return Digest(
        groups=tuple(Group(heading, tuple(entries)) for heading, entries in groups.items()),
        item_ids=tuple(c.item.item_id for c in shown),
        overflow_ids=tuple(c.item.item_id for c in overflow),
        left_out_ids=tuple(c.item.item_id for c in left_out),
    )


def build_alert(candidates: list[Candidate], make: Callable[[Candidate], Entry] = entry) -> Digest:
    """A short urgent alert: every urgent candidate, in one group, nothing capped away."""
    urgent = [c for c in rank(candidates) if c.urgent]
    entries = tuple(make(c) for c in urgent)
    return Digest(groups=(Group("Urgent", entries),) if entries else (), item_ids=tuple(e.item_id for e in entries))
