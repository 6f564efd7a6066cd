"""Technical failures said in plain English for librarians: a feed's last error, an example
paper's lookup, a content type's or topic's name. Pure functions; the templates use them as filters."""

from __future__ import annotations

from datetime import datetime, timezone

#: ingest's error kinds (services/ingest/errors.py) and what a librarian should make of each.
FEED_ERRORS = {
    "invalid_url": "the address is not a valid web address: check it for a typo",
    "forbidden_address": "the address points inside a private network, which Horizon is not allowed to fetch",
    "file_urls_disabled": "local files are not allowed as sources on this installation",
    "dns_error": "the site's name could not be found: check the address, or the site may have moved",
    "connect_error": "the site did not answer: it may be down; Horizon will try again",
    "timeout": "the site took too long to answer; Horizon will try again",
    "too_large": "the feed is larger than Horizon accepts",
    "too_many_redirects": "the address redirects too many times: ask the publisher for the feed's current address",
    "redirect_loop": "the address redirects in a loop: ask the publisher for the feed's current address",
    "rate_limited": "the site asked Horizon to slow down; it will try again later",
    "gone": "the publisher has removed this feed: find its new address or delete the source",
    "http_error": "the site answered with an error",
    "read_error": "the connection broke while reading the feed; Horizon will try again",
    "empty_body": "the site sent an empty page instead of a feed",
    "html_page": "the address is a web page, not a feed: look on that page for an RSS or Atom link",
    "not_a_feed": "what the address returns is not a feed (RSS, Atom, RDF or JSON Feed)",
    "parse_error": "the feed is malformed and could not be read",
    "bozo": "the feed has errors but was read",
}


def feed_error(last_error: str | None) -> str:
    """ingest's '<kind>: <message>' as a sentence a librarian can act on."""
    if not last_error:
        return ""
    kind, _, detail = last_error.partition(": ")
    meaning = FEED_ERRORS.get(kind.strip())
    if meaning is None:
        return last_error
    if kind == "http_error" and detail:
        return f"{meaning} ({detail.strip()[:80]})"
    return meaning[0].upper() + meaning[1:]


def paper_error(status: str, error: str) -> str:
    """An example paper's lookup outcome without exception names or errno."""
    low = (error or "").lower()
    if status == "not_found":
        return "Neither PubMed nor Crossref knows this reference: check it for a typo"
    if any(w in low for w in ("connecterror", "errno", "name or service", "timeout", "timed out", "connection")):
        what = "PubMed and Crossref could not be reached"
    elif any(w in low for w in ("429", "rate")):
        what = "PubMed or Crossref asked Horizon to slow down"
    elif any(w in low for w in (" 5", "503", "502", "500")):
        what = "PubMed or Crossref had a problem answering"
    else:
        what = "The lookup failed"
    if status == "failed":
        return f"{what}, and Horizon has stopped trying: save the profile again to retry"
    return f"{what}; Horizon will try again"


def when(moment: datetime | None, at: datetime | None = None) -> str:
    """'3 hours ago', 'in 20 minutes', '12 Nov 2026' for older dates; '' for none."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    at = at or datetime.now(timezone.utc)
    seconds = (at - moment).total_seconds()
    future, seconds = seconds < 0, abs(seconds)
    if seconds > 7 * 86400:
        return moment.strftime("%d %b %Y")
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            text = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "now" if not future else "in under a minute"
