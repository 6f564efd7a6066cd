"""The language of an item: as its feed declares it, or else as its text shows it.

Detection is py3langid (a maintained langid.py: a naive-Bayes model over byte n-grams, bundled
with the package, no network), limited to the languages in LANGUAGES. A declaration on the entry itself wins; a
channel-wide declaration (RSS <language>) is often a publisher's default for every feed it
serves, so a confident detection from the item's own text overrides it. Short or ambiguous text
keeps the declaration, or no language at all.
"""

from __future__ import annotations

from functools import cache

#: The languages it may answer: those the biomedical and health-policy literature is written in,
#: Welsh and Irish for the home nations' publishers (fewer choices, surer answers on short text).
LANGUAGES = ("ar", "cs", "cy", "da", "de", "el", "en", "es", "fa", "fi", "fr", "ga", "he", "hi", "hu", "id", "it",
             "ja", "ko", "ms", "nl", "no", "pl", "pt", "ro", "ru", "sv", "th", "tr", "uk", "vi", "zh")
#: Probability the detector must give before its answer is used; before it overrides what the
#: feed declares for all its items, and on how much text.
MIN_CONFIDENCE = 0.9
OVERRIDE_CONFIDENCE = 0.99
OVERRIDE_BYTES = 60
#: Fewer UTF-8 bytes than this are too little text to judge (a CJK character carries three).
MIN_BYTES = 24


@cache
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


#: Characters judged: the title and the start of the abstract say it; the rest only costs time.
MAX_CHARS = 400


def detect(text: str, confidence: float = MIN_CONFIDENCE, min_bytes: int = MIN_BYTES) -> str | None:
    """The ISO 639-1 code of the text's language, if the detector is confident."""
    text = " ".join(text[: MAX_CHARS * 2].split())[:MAX_CHARS]
    if len(text.encode("utf-8")) < min_bytes:
        return None
    if text.isupper():  # titles in capitals: the model knows words in their usual case
        text = text.lower()
    code, probability = _identifier().classify(text)
    return str(code) if probability >= confidence else None


def item_language(entry_declared: str | None, feed_declared: str | None, text: str) -> str | None:
    """The entry's own declaration; else a detection from its text, surer and on more text where
    it would override the feed's declaration; else the feed's declaration."""
    if entry_declared:
        return entry_declared
    if feed_declared:
        return detect(text, OVERRIDE_CONFIDENCE, OVERRIDE_BYTES) or feed_declared
    return detect(text)
