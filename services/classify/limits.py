"""How large a profile the preview API fits: the bounds that keep one preview short.

A preview embeds and calibrates the profile it is sent while it holds the index. These bounds are
those a librarian's profile meets anyway (subscriptions' own limits), with room for abstracts: a
profile past them is refused (422), a body past HORIZON_CLASSIFY_MAX_REQUEST_BYTES unread (413).
"""

from __future__ import annotations

from contracts import Profile

#: field -> (most entries, most characters in one entry)
LIST_LIMITS: dict[str, tuple[int, int]] = {
    "interests": (50, 1000),
    "exclude": (50, 1000),
    "topics": (100, 200),
    "sources": (100, 200),
    "examples": (50, 500),
    "example_texts": (50, 8000),
    "liked": (100, 300),
    "disliked": (100, 300),
    "content_types": (50, 100),
}
#: the profile's single strings (name, e-mail, role, organisation name)
TEXT_LIMIT = 1000


def profile_problems(profile: Profile) -> list[str]:
    """What makes this profile too large for a preview; empty when it fits."""
    problems = []
    for name, (most, chars) in LIST_LIMITS.items():
        values = [str(v) for v in getattr(profile, name)]
        if len(values) > most:
            problems.append(f"profile.{name} has {len(values)} entries; at most {most}")
        longest = max((len(v) for v in values), default=0)
        if longest > chars:
            problems.append(f"profile.{name} has an entry of {longest} characters; at most {chars}")
    for name in ("name", "email", "role", "organisation_name"):
        if len(getattr(profile, name)) > TEXT_LIMIT:
            problems.append(f"profile.{name} is longer than {TEXT_LIMIT} characters")
    return problems
