"""Shared vocabularies: content and evidence types, digest frequencies."""

from __future__ import annotations

from enum import StrEnum


class ContentType(StrEnum):
    """What kind of publication a source carries (set per source, refined per item)."""

    journal_article = "journal_article"
    guideline = "guideline"
    policy = "policy"
    report = "report"
    news = "news"
    safety_alert = "safety_alert"
    other = "other"


class EvidenceType(StrEnum):
    """The kind of evidence an item is, inferred by classify from its source and text."""

    guideline = "guideline"
    systematic_review = "systematic_review"
    trial = "trial"
    observational = "observational"
    qualitative = "qualitative"
    review = "review"
    policy = "policy"
    report = "report"
    news = "news"
    safety_alert = "safety_alert"
    article = "article"
    other = "other"


class Frequency(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"


class Weekday(StrEnum):
    monday = "monday"
    tuesday = "tuesday"
    wednesday = "wednesday"
    thursday = "thursday"
    friday = "friday"
    saturday = "saturday"
    sunday = "sunday"
