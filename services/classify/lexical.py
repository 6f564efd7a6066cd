"""Lexical side of matching: words, their document frequencies, and BM25-weighted sparse vectors.

An item becomes a vector of BM25 document weights (IDF from the items seen); a profile a vector
of query-term weights, its statements' words plus its example papers' most telling ones (RM3),
so that their dot product is the item's BM25 score against the profile. Spelling is folded
(oestrogen/estrogen, tumour/tumor): UK statements meet US-spelt abstracts.

Design markers (`design_features`) say how a study was done rather than what it is about
(randomised, placebo, pharmacokinetic, rats, in vitro, case report...), in the text and in the
title; fusion.design_weights learns from a profile's example papers which of them it wants. One
more marker, TRANSLATED (`translated`), is a language, not a design: MEDLINE's bracketed English
title of an article written in another language.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_WORD = re.compile(r"[a-z0-9]+")

STOPWORDS = frozenset(
    """a about above after again against all also although am among an and any are as at be
    because been before being below between both but by can could did do does doing down during
    each either et al etc few for from further had has have having he her here hers herself him
    himself his how however i if in into is it its itself just may me might more most must my
    myself neither no nor not of off on once only or other our ours ourselves out over own per
    same she should so some such than that the their theirs them themselves then there these they
    this those through thus to too under until up upon very via was we were what when where which
    while who whom why will with within without would yet you your yours yourself such whether
    versus vs using used use""".split()
)

K1 = 1.2
B = 0.75


def fold(word: str) -> str:
    """British to American spelling and a light plural strip, so variants share one term."""
    if len(word) > 3:
        word = word.replace("ae", "e").replace("oe", "e")
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        if word.endswith("our") and len(word) > 5:
            word = word[:-3] + "or"
        if word.endswith("isation"):
            word = word[:-7] + "ization"
        elif word.endswith("ise") and len(word) > 6:
            word = word[:-3] + "ize"
    return word


def terms(text: str) -> list[str]:
    """The text's index terms: lower case, stop words out, spelling folded."""
    return [fold(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


_DESIGN_MARKERS = {
    "randomised": r"\brandomi[sz](?:ed|ation)|\brandomly (?:assigned|allocated)",
    "blind": r"\b(?:double|single|triple)[\s-]?blind|\bmasked\b",
    "placebo": r"\bplacebo",
    "controlled": r"\bcontrolled (?:clinical )?(?:trial|study)",
    "crossover": r"\bcross[\s-]?over\b",
    "comparative": r"\bcompar(?:ed|ison|ing|ative)\b|\bversus\b|\bvs\.?\b|\bhead[\s-]to[\s-]head",
    "multicentre": r"\bmulti[\s-]?cent(?:er|re)",
    "duration": r"\b\d+[\s-](?:weeks?|months?)\b",
    "sample": r"\b\d{2,5} (?:patients|subjects|participants|children|adults|women|men|volunteers)\b",
    "observational": r"\bcohort\b|\bretrospective\b|\bobservational\b|\bcase[\s-]control\b|\bregistry\b",
    "meta_analysis": r"\bmeta[\s-]?analys[ie]s\b|\bsystematic (?:literature )?review",
    "review": r"\breview\b",
    "pharmacokinetic": r"\bpharmacokinetic|\bbioavailab|\bbioequival|\bplasma concentrations?\b|\bhalf[\s-]life\b"
                       r"|\bclearance\b|\bauc\b|\bcmax\b",
    "healthy_volunteers": r"\bhealthy (?:volunteers|subjects|men|male)",
    "animal": r"\brats?\b|\bmice\b|\bmouse\b|\bdogs?\b|\brabbits?\b|\bguinea[\s-]pigs?\b|\banimals?\b|\bporcine\b"
              r"|\bcanine\b|\bmonkeys?\b",
    "in_vitro": r"\bin vitro\b|\bcultured\b|\bcells?\b|\breceptors?\b|\bbinding\b|\bisolated\b",
    "case_report": r"\bcase reports?\b|\bcase series\b|\ba case of\b|\bwe (?:report|describe) (?:a|an|two|three)\b",
    "mechanism": r"\bmechanism|\bmolecular\b|\bgene\b|\bexpression\b",
    "economic": r"\bcost|\beconomic",
    "survey": r"\bsurvey|\bquestionnaire",
    "efficacy": r"\befficacy\b|\beffective(?:ness)?\b",
    "harms": r"\badverse|\bside[\s-]effects?\b|\btolerab|\bsafety\b",
    "dose_finding": r"\bdose[\s-](?:response|ranging|finding)",
    "open_label": r"\bopen[\s-]?label\b|\bopen (?:study|trial)\b",
    "trial": r"\btrials?\b",
    "study": r"\bstudy\b",
    "significance": r"\bsignificant(?:ly)?\b|\bp\s*[<=]\s*0?\.\d",
    "conclusions": r"\bconclusions?\b",
    "commentary": r"^\s*(?:letter|comment|editorial)",
}
_DESIGN = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _DESIGN_MARKERS.items())
#: Every feature design_features can give: each marker in the text, and in the title.
DESIGN_FEATURES = tuple(name for name, _ in _DESIGN) + tuple(f"title:{name}" for name, _ in _DESIGN)
_TITLE_END = re.compile(r"[.?!](?:\s|$)")
#: Marker of a title in square brackets: MEDLINE's way of giving the English translation of a
#: title whose article is written in another language (not a design: scoring leaves it out of
#: design_weights, and the matcher demotes such items for readers of English).
TRANSLATED = "translated"
_TRANSLATED_TITLE = re.compile(r"^\s*\[[^\]]{12,}\]")
#: Version of what design_features marks, stored with each recent item's markers: raise it when a
#: marker is added or changed, so that items stored before are read again (2: a "brief" marker,
#: since removed; markers no longer known are ignored where stored).
DESIGN_VERSION = 2


def title_of(text: str, limit: int = 160) -> str:
    """The title of a title-plus-abstract text (embedder.item_text): its first sentence, shortened."""
    end = _TITLE_END.search(text)
    title = (text[: end.start() + 1] if end else text).strip()
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"


def design_features(text: str) -> frozenset[str]:
    """The design markers of a title-plus-abstract text (embedder.item_text): each marker found
    anywhere in it, and as `title:<marker>` where found in its first sentence (the title);
    TRANSLATED where the title is a bracketed translation."""
    end = _TITLE_END.search(text)
    title = text[: end.start()] if end else text
    found = {name for name, p in _DESIGN if p.search(text)}
    found.update(f"title:{name}" for name, p in _DESIGN if name in found and p.search(title))
    if translated(text):
        found.add(TRANSLATED)
    return frozenset(found)


def translated(text: str) -> bool:
    """Whether a title-plus-abstract text (embedder.item_text) opens with a bracketed title: an
    article not in English."""
    return bool(_TRANSLATED_TITLE.match(text))


def term_id(term: str) -> int:
    """A stable sparse-vector index for a term."""
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


@dataclass
class TermStats:
    """Document frequencies over the items seen: the IDF every sparse vector uses."""

    n_docs: int = 0
    total_len: int = 0
    df: Counter = field(default_factory=Counter)

    def add(self, docs: Iterable[Sequence[str]]) -> None:
        for doc in docs:
            self.n_docs += 1
            self.total_len += len(doc)
            self.df.update(set(doc))

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))

    @property
    def avg_len(self) -> float:
        return self.total_len / self.n_docs if self.n_docs else 150.0

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"n_docs": self.n_docs, "total_len": self.total_len, "df": self.df}))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "TermStats":
        if not path.exists():
            return cls()
        raw = json.loads(path.read_text())
        return cls(raw["n_docs"], raw["total_len"], Counter(raw["df"]))


Sparse = dict[int, float]


def item_vector(doc: Sequence[str], stats: TermStats) -> Sparse:
    """BM25 document weights of an item's terms."""
    tf = Counter(doc)
    norm = K1 * (1 - B + B * len(doc) / stats.avg_len)
    out: Sparse = {}
    for t, n in tf.items():
        w = stats.idf(t) * n * (K1 + 1) / (n + norm)
        if w > 0:
            i = term_id(t)
            out[i] = out.get(i, 0.0) + w
    return out
