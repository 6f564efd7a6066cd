"""What a monthly board briefing says about one organisation's month. Pure.

Built for a board: an executive summary (what changed, the themes that moved most, the safety
alerts that need assurance), then national policy and regulation, national guidance, every
patient safety alert of the month with whom it reached, emerging themes measured against the
months before, the evidence that reached staff by theme, and the library's figures last. Each
item appears once, in the first section it belongs to (alerts, policy, guidance, evidence).

The month is a calendar month of publication dates (an item with no publication date, or one in
the future, counts on the day Horizon first saw it): see `briefings.gather`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

from contracts import EvidenceType, Item, TopicTag
from services.notify.digest import Candidate, Entry, entry

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ALERTS = {EvidenceType.safety_alert}
POLICY = {EvidenceType.policy, EvidenceType.report}
GUIDELINES = {EvidenceType.guideline}
#: Items every organisation's briefing carries, matched to its staff or not.
NATIONAL = ALERTS | POLICY | GUIDELINES


@dataclass(frozen=True)
class BriefItem:
    """An item of the month, with whom of the organisation's subscribers it matched."""

    item: Item
    evidence_type: EvidenceType
    tags: tuple[TopicTag, ...]
    urgent: bool
    subscribers: int = 0
    best_score: float = 0.0
    reached: tuple[str, ...] = ()  # the roles (or names) of the subscribers it matched

    @property
    def theme(self) -> str | None:
        return self.tags[0].topic_id if self.tags else None


@dataclass(frozen=True)
class Period:
    """The calendar month a briefing covers; `last_day` before the month's end while it runs."""

    year: int
    month: int
    last_day: date

    @property
    def label(self) -> str:
        return date(self.year, self.month, 1).strftime("%B %Y")

    @property
    def month_end(self) -> date:
        nxt = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return nxt - timedelta(days=1)

    @property
    def so_far(self) -> bool:
        return self.last_day < self.month_end

    @property
    def covers(self) -> str:
        """'1-30 November 2026', or '1-20 November 2026 (month to date)'."""
        text = f"1\u2013{self.last_day.day} {self.label}"
        return text + " (month to date)" if self.so_far else text


@dataclass(frozen=True)
class AlertReach:
    """A patient safety alert and whom at the organisation it reached."""

    entry: Entry
    reached: int
    who: tuple[str, ...]

    @property
    def reach_text(self) -> str:
        if not self.reached:
            return "Reached no one"
        people = ", ".join(self.who[:4]) + (f" and {len(self.who) - 4} more" if len(self.who) > 4 else "")
        return f"Reached {self.reached} ({people})" if people else f"Reached {self.reached}"


@dataclass(frozen=True)
class Theme:
    topic_id: str
    label: str
    count: int
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Movement:
    """A theme's volume this month against the average of the months before, with examples."""

    topic_id: str
    label: str
    count: int
    baseline: float
    change: str
    examples: tuple[str, ...] = ()

    @property
    def delta(self) -> float:
        return self.count - self.baseline


@dataclass(frozen=True)
class Trend:
    """Items per theme and month (the baseline months, then this one): the chart's data."""

    months: tuple[str, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]


@dataclass(frozen=True)
class Briefing:
    period: Period
    policy: tuple[Entry, ...]
    guidance: tuple[Entry, ...]
    alerts: tuple[AlertReach, ...]
    emerging: tuple[Movement, ...]
    moved: tuple[Movement, ...]
    themes: tuple[Theme, ...]
    trend: Trend
    figures: tuple[tuple[str, int], ...]
    has_baseline: bool
    matched_items: int = 0
    staff_reached: int = 0

    @property
    def empty(self) -> bool:
        return not (self.policy or self.guidance or self.alerts or self.themes)

    @property
    def unreached_alerts(self) -> tuple[AlertReach, ...]:
        return tuple(a for a in self.alerts if not a.reached)

    @property
    def what_changed(self) -> str:
        """One sentence: the month's national output and what reached staff."""
        parts = []
        if self.policy:
            parts.append(_n(len(self.policy), "national policy or regulation item"))
        if self.guidance:
            parts.append(_n(len(self.guidance), "new or updated national guideline"))
        if self.alerts:
            alerts = _n(len(self.alerts), "patient safety alert")
            unreached = len(self.unreached_alerts)
            parts.append(alerts + (f" ({unreached} reached no one here)" if unreached else ""))
        text = (", ".join(parts[:-1]) + " and " + parts[-1]) if len(parts) > 1 else "".join(parts)
        evidence = (f"{_n(self.matched_items, 'item')} of evidence matched the interests of "
                    f"{_n(self.staff_reached, 'member')} of staff") if self.matched_items else "No evidence matched staff interests"
        return f"{text[:1].upper() + text[1:]}. {evidence}." if text else f"{evidence}."


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s".replace("members of staffs", "members of staff")


def _entry(b: BriefItem) -> Entry:
    e = entry(Candidate(item=b.item, score=b.best_score, evidence_type=b.evidence_type, urgent=b.urgent,
                        matched_at=b.item.published_at or b.item.updated_at or _EPOCH, tags=b.tags))
    if b.subscribers:
        why = f"Matched the interests of {b.subscribers} colleague{'s' if b.subscribers != 1 else ''}"
    else:  # national items go in whatever they matched: say so when they reached no one here
        why = "Reached no one here: it matched no colleague's interests" if b.evidence_type in NATIONAL else ""
    return replace(e, why=why)


def _rank(items: list[BriefItem]) -> list[BriefItem]:
    """Most reach first, then urgent, then the best match, then the newest."""
    return sorted(items, key=lambda b: (-b.subscribers, not b.urgent, -b.best_score,
                                        -(b.item.published_at or _EPOCH).timestamp(), b.item.item_id))


def theme_counts(items: list[BriefItem]) -> Counter[str]:
    """Items per theme, counting each item under its first (best) tag."""
    return Counter(b.theme for b in items if b.theme)


def _change(count: int, baseline: float, months: int) -> str:
    if baseline == 0:
        return f"{count} this month, none in the {months} months before"
    pct = round(100 * (count - baseline) / baseline)
    direction = "up" if pct >= 0 else "down"
    return f"{count} this month against an average of {baseline:g} a month before: {direction} {abs(pct)}%"


def movements(current: list[BriefItem], history: list[Counter[str]], labels: dict[str, str]) -> list[Movement]:
    """Every theme of this month or the months before, with its change and up to two examples."""
    now = theme_counts(current)
    months = max(len(history), 1)
    topics = set(now) | {t for h in history for t in h}
    out = []
    for topic in topics:
        baseline = round(sum(h.get(topic, 0) for h in history) / months, 1)
        examples = tuple(_entry(b).title for b in _rank([b for b in current if b.theme == topic])[:2])
        out.append(Movement(topic, labels.get(topic, topic.replace("_", " ").capitalize()), now.get(topic, 0),
                            baseline, _change(now.get(topic, 0), baseline, months), examples))
    return out


def emerging_themes(moves: list[Movement], *, min_count: int = 3, limit: int = 5) -> tuple[Movement, ...]:
    """Themes whose volume this month rose well above the average of the months before."""
    rising = [m for m in moves if m.count >= min_count and m.count >= 1.5 * m.baseline + 1]
    return tuple(sorted(rising, key=lambda m: (-m.delta, m.label))[:limit])


def trend(moves: list[Movement], current: Counter[str], history: list[Counter[str]], month_labels: list[str],
          *, limit: int = 5) -> Trend:
    """The chart's data: the `limit` themes that moved most (largest this month on a tie)."""
    top = sorted(moves, key=lambda m: (-abs(m.delta), -m.count, m.label))[:limit]
    series = tuple((m.label, tuple([*(h.get(m.topic_id, 0) for h in reversed(history)), current.get(m.topic_id, 0)]))
                   for m in top)
    return Trend(tuple(month_labels), series)


def build_briefing(
    period: Period, matched: list[BriefItem], national: list[BriefItem], history: list[Counter[str]],
    figures: list[tuple[str, int]], month_labels: list[str], *, max_national: int = 10, max_themes: int = 6,
    per_theme: int = 3, staff_reached: int = 0,
) -> Briefing:
    """The briefing of one organisation's month.

    matched: the month's items matched to the organisation's subscribers; national: every
    guideline, policy and safety alert of the month (matched or not); history: theme counts of
    the baseline months, most recent first; month_labels: those months oldest first, then this one.
    """
    by_id = {b.item.item_id: b for b in national} | {b.item.item_id: b for b in matched}
    everything = list(by_id.values())
    alerts = _rank([b for b in everything if b.evidence_type in ALERTS])
    alerts.sort(key=lambda b: (b.subscribers > 0, -(b.item.published_at or _EPOCH).timestamp()))  # no one reached first
    policy = _rank([b for b in everything if b.evidence_type in POLICY])[:max_national]
    guidance = _rank([b for b in everything if b.evidence_type in GUIDELINES])[:max_national]
    evidence = [b for b in everything if b.evidence_type not in NATIONAL and b.subscribers]
    labels = {t.topic_id: t.label for b in everything for t in b.tags}
    themes = []
    for topic, count in theme_counts(evidence).most_common(max_themes):
        top = _rank([b for b in evidence if b.theme == topic])[:per_theme]
        themes.append(Theme(topic, labels.get(topic, topic), count, tuple(_entry(b) for b in top)))
    moves = movements(everything, history, labels)
    has_baseline = any(history)
    return Briefing(
        period=period,
        policy=tuple(_entry(b) for b in policy),
        guidance=tuple(_entry(b) for b in guidance),
        alerts=tuple(AlertReach(_entry(b), b.subscribers, b.reached) for b in alerts),
        emerging=emerging_themes(moves) if has_baseline else (),
        moved=tuple(sorted(moves, key=lambda m: (-abs(m.delta), -m.count, m.label))[:3]),
        themes=tuple(themes),
        trend=trend(moves, theme_counts(everything), history, month_labels),
        figures=tuple(figures),
        has_baseline=has_baseline,
        matched_items=sum(1 for b in everything if b.subscribers),
        staff_reached=staff_reached,
    )


def item_ids(briefing: Briefing) -> list[str]:
    """The items a briefing shows, once each, in order: its delivery's `item_ids`, which its links index."""
    ids = [a.entry.item_id for a in briefing.alerts] + [e.item_id for e in (*briefing.policy, *briefing.guidance)]
    ids += [e.item_id for t in briefing.themes for e in t.entries]
    return list(dict.fromkeys(ids))
