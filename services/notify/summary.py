"""The two or three sentences a digest shows of an item: its finding, not its first lines.

A clinician reads a digest for what a paper found and what a guideline changed. So:
1. the feed's front matter goes (citation line, DOI, authors, "Abstract:", "HTML XML PDF");
2. a structured abstract (BACKGROUND / METHODS / RESULTS / CONCLUSIONS, in any common form)
   gives its results (the sentence with the effect estimate and its interval first) and conclusions;
3. an unstructured abstract gives the sentences that carry findings (effect estimates, intervals,
   p-values, "reduced", "associated with", "we found", "in conclusion"), not the first ones;
4. guidance and policy give what changed ("recommends", "updated", "replaces", "should");
5. at most three sentences, in the order they were written; a length cap drops whole sentences,
   never cuts one (only a run of text with no sentence end at all, a list or a table over twice
   the cap, is cut at a word).
Pure: text in, text out.
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass

from services.notify.text import clean_text, sentences

MAX_SENTENCES = 3
MAX_CHARS = 400  # about six lines on a phone: the next item starts on the first screen

# --- front matter feeds put around an abstract -------------------------------------------------
_FRONT_PREFIX = re.compile(r"^(doi|pmid|authors?|author\(s\)|publication date|source|keywords)\s*:", re.I)
_FRONT_WHOLE = re.compile(r"^(html|xml|pdf|full text|abstract|summary|graphical abstract)\s*[:.]?$", re.I)
_CITATION = re.compile(r"^.{0,120}(\b(19|20)\d\d\b.{0,80}\bdoi:\s?10\.|\s\d+:\s?\d+\s?[-–]\s?\d+$)|"
                       r"^(.{0,80}, )?volume \d+, issue \d+", re.I)
_ABSTRACT_LABEL = re.compile(r"^\s*(abstract|summary)\s*(?:[:.]\s*|$)", re.I)
_LINE = "\x00"  # stands for a line break while clean_text collapses spaces


# --- structured abstracts ------------------------------------------------------------------------
_ROLES = {
    "background": "background", "introduction": "background", "context": "background", "rationale": "background",
    "importance": "background", "aims": "background", "aim": "background", "objective": "background",
    "objectives": "background", "purpose": "background", "question": "background",
    "methods": "methods", "method": "methods", "design": "methods", "setting": "methods",
    "participants": "methods", "patients": "methods", "interventions": "methods", "intervention": "methods",
    "measurements": "methods", "main outcome measures": "methods", "outcomes": "methods",
    "data sources": "methods", "study selection": "methods", "data extraction": "methods",
    "search methods": "methods", "selection criteria": "methods", "data collection and analysis": "methods",
    "results": "results", "result": "results", "findings": "results", "main results": "results",
    "methods and results": "results", "principal findings": "results", "key findings": "results",
    "conclusions": "conclusions", "conclusion": "conclusions", "interpretation": "conclusions",
    "conclusions and relevance": "conclusions", "authors' conclusions": "conclusions",
    "discussion": "conclusions", "significance": "conclusions", "implications": "conclusions",
    "implications for practice": "conclusions", "conclusions/significance": "conclusions",
    "methods/principal findings": "results", "what this study adds": "conclusions",
}
_HEADING_WORDS = "|".join(sorted((re.escape(k) for k in _ROLES), key=len, reverse=True))
# A heading opens the text or a line, or follows a sentence's end; it ends in ':' or '.', or a line break.
_HEADING = re.compile(rf"(?:^|(?<=[.!?)\]])\s+|\n)\s*({_HEADING_WORDS})\s*(?::|\.(?=\s)|\s*\n)\s*", re.I)

# --- what makes a sentence a finding -------------------------------------------------------------
_ESTIMATE = re.compile(
    r"\b(a?HR|a?RR|a?OR|IRR|RRR|ARR|NNT|NNH|SMD|WMD|MD|RD|hazard ratio|risk ratio|odds ratio|rate ratio|"
    r"relative risk|mean difference|risk difference)\b[\s,:=(]*-?\d", re.I)
_INTERVAL = re.compile(r"\b(9[059]\s?% ?(CI|confidence|credible|UI)|confidence interval|CI\s?[:\[(]?\s?-?\d|I2\s?=)", re.I)
_P_VALUE = re.compile(r"\bp(\s?-?values?)?\s?[<=>≤]\s?0?\.\d|\bR2\s?=", re.I)
_CHANGE = re.compile(r"\bfrom -?\d[\d.,]*%? (\w+ )*?to -?\d[\d.,]*|\d+(\.\d+)?\s?%|→|->")
_FINDING_WORDS = re.compile(
    r"\b(reduc\w*|increas\w*|decreas\w*|improv\w*|lower\w*|higher|fewer|more likely|less likely|fell|rose|"
    r"halved|doubled|"
    r"associated with|no (significant |statistically significant )?(difference|effect|association|benefit)|"
    r"did not (differ|reduce|improve|increase|change)|not significantly|non-?inferior\w*|superior|"
    r"effective|ineffective|efficacy|was safe|well tolerated|"
    r"we found|were found|was found|found that|in total|we (noted|observed|recorded|report\w*|detected)|showed|shows|show that|revealed|demonstrated|indicated|"
    r"confirmed|supported|recovered|resulted in|led to|predicted|identified|"
    r"is described|are described|described and illustrated|newly (recorded|reported)|for the first time|"
    r"first record|is proposed|are proposed|we (have )?describe|sp\. nov)",
    re.I)
_CONCLUSION_WORDS = re.compile(
    r"\b(in conclusion|we conclude|conclusions?|overall|taken together|these (findings|results|data)|"
    r"our (findings|results|data)|this (study|review|trial) (shows|showed|suggests|found|provides|demonstrates)|"
    r"suggests?|support(s|ed)? the use|should be(?! noted)|may (be|reduce|improve|help)|probably|likely)\b", re.I)
_AIM_WORDS = re.compile(
    r"\b(we aimed|the aim|aims? (was|were|of|to)|objective (was|of)|we (sought|set out) to|"
    r"(this|the present) (study|paper|review) (aims|aimed|investigates|examines|focuses)|to (assess|evaluate|"
    r"investigate|determine|examine|explore|compare) (the|whether|how)|we (searched|conducted|performed|"
    r"recruited|enrolled|included|randomi[sz]ed|used|collected|analysed|analyzed)|were (randomly assigned|"
    r"randomi[sz]ed|recruited|enrolled|included)|databases? (were )?searched)\b", re.I)
_BACKGROUND_WORDS = re.compile(
    r"\b(previous(ly)? (studies|research|work)|little is known|remains? (unknown|unclear|uncertain)|"
    r"(has|have) (rarely|seldom|not) been|is (unknown|unclear|uncertain)|are (common|rare)|is (common|rare))\b", re.I)
_CHANGE_WORDS = re.compile(
    r"\b(recommend\w*|updat\w*|new|now|replac\w*|should|must|withdraw\w*|amend\w*|revis\w*|chang\w*|"
    r"no longer|introduc\w*|removed|added|clarif\w*|reminded|advise\w*|require\w*)\b", re.I)

_BOILERPLATE = re.compile(
    r"^(read|view|see|download|click|access|get) (the |this )?(full|more|article|pdf|paper)|supplementary (data|material)"
    r"|all rights reserved|©|\bcopyright\b|this article is protected|^\[?(this|the) (article|abstract) (is|was) truncated",
    re.I)

GUIDANCE_KINDS = frozenset({"guideline", "policy", "safety_alert", "report", "news"})


@dataclass(frozen=True)
class Sentence:
    text: str
    at: int  # position in the abstract
    role: str = ""  # background, methods, results or conclusions, where the abstract says


def abstract_body(text: str | None) -> str:
    """The abstract without the front matter feeds wrap it in; a line break only before a heading."""
    if not text:
        return ""
    lines = [line.strip() for line in clean_text(text.replace("\n", _LINE)).split(_LINE)]
    starts = [i for i, line in enumerate(lines) if _ABSTRACT_LABEL.match(line)]
    if starts:  # everything before an "Abstract" label is front matter: title again, authors, citation
        lines = lines[starts[0]:]
        lines[0] = _ABSTRACT_LABEL.sub("", lines[0], count=1)
    kept = [line for line in lines
            if line and not (_FRONT_PREFIX.match(line) or _FRONT_WHOLE.match(line) or _CITATION.match(line))]
    body = "\n".join(kept)
    # a line wrapped inside a sentence joins the next (feeds that wrap at 80 columns or split a name in <i>)
    return re.sub(r"\n(?!\s*(" + _HEADING_WORDS + r")\s*(:|\.\s|\n))", " ", body, flags=re.I)


def _boilerplate(sentence: str) -> bool:
    return bool(_BOILERPLATE.search(sentence))


def split(text: str) -> list[Sentence]:
    """Sentences of an abstract, each with the role its heading gives it (none if unstructured)."""
    marks = list(_HEADING.finditer(text))
    if len({_ROLES[m.group(1).lower()] for m in marks}) < 2:
        text = _HEADING.sub(" ", text)  # a lone "Conclusions:" is a label, not a structure
        kept = [s for s in sentences(" ".join(text.split())) if not _boilerplate(s)]
        return [Sentence(s, i) for i, s in enumerate(kept)]
    out: list[Sentence] = []
    lead = text[:marks[0].start()].strip()
    for s in sentences(" ".join(lead.split())):
        if not _boilerplate(s):
            out.append(Sentence(s, len(out), "background"))
    for m, nxt in zip(marks, [*marks[1:], None]):
        role = _ROLES[m.group(1).lower()]
        part = text[m.end(): nxt.start() if nxt else len(text)]
        for s in sentences(" ".join(part.split())):
            if not _boilerplate(s):
                out.append(Sentence(s, len(out), role))
    return out


def finding_score(sentence: str) -> float:
    """How plainly a sentence reports a result or a conclusion (0: not at all)."""
    score = 0.0
    score += 3.0 if _ESTIMATE.search(sentence) else 0.0
    score += 2.0 if _INTERVAL.search(sentence) else 0.0
    score += 1.5 if _P_VALUE.search(sentence) else 0.0
    score += 1.0 if _CHANGE.search(sentence) else 0.0
    score += 1.5 if _FINDING_WORDS.search(sentence) else 0.0
    score += 1.0 if _CONCLUSION_WORDS.search(sentence) else 0.0
    if score and (_AIM_WORDS.search(sentence) or _BACKGROUND_WORDS.search(sentence)):
        score -= 1.5
    return max(score, 0.0)


def is_finding(sentence: Sentence, last: int) -> bool:
    """A result or conclusion: under such a heading, or by its words, or an unstructured abstract's closing line."""
    if sentence.role:
        return sentence.role in ("results", "conclusions")
    return finding_score(sentence.text) >= 1.5 or (sentence.at == last and sentence.at > 0)


def _pick(ranked: list[Sentence], limit: int) -> list[Sentence]:
    """The best sentences that fit the length cap, whole, in the order the abstract has them."""
    chosen: list[Sentence] = []
    for s in ranked:
        if len(chosen) == limit:
            break
        if sum(len(c.text) + 1 for c in chosen) + len(s.text) <= MAX_CHARS:
            chosen.append(s)
    if not chosen and ranked:  # one sentence longer than the cap: the shortest of the best, whole
        chosen = [min(ranked[:3], key=lambda s: len(s.text))]
        if len(chosen[0].text) > 2 * MAX_CHARS and not chosen[0].text.endswith((".", "!", "?")):
            # not a sentence but a run of text with no end (a list, a table): cut at a word
            cut = chosen[0].text[:MAX_CHARS].rsplit(" ", 1)[0].rstrip(",;:")
            chosen = [Sentence(cut + "…", chosen[0].at, chosen[0].role)]
    return sorted(chosen, key=lambda s: s.at)


def _structured(parts: list[Sentence]) -> list[Sentence]:
    results = [s for s in parts if s.role == "results"]
    conclusions = [s for s in parts if s.role == "conclusions"]
    # the result with the effect estimate first, then the first conclusion, then other results
    best_results = sorted(results, key=lambda s: (-finding_score(s.text), s.at))
    # a second result where it reports something too, or where no conclusion follows
    more = [s for s in best_results[1:2] if finding_score(s.text) > 0 or not conclusions]
    ranked = best_results[:1] + conclusions[:1] + more + conclusions[1:2]
    return ranked or parts


def _unstructured(parts: list[Sentence]) -> list[Sentence]:
    last = parts[-1].at
    scored = [(finding_score(s.text) + (1.0 if s.at == last and s.at > 0 else 0.0)
               - (0.5 if s.at == 0 and len(parts) > 2 else 0.0), s) for s in parts]
    ranked = [s for score, s in sorted(scored, key=lambda p: (-p[0], p[1].at)) if score > 0]
    if len(ranked) < 2:  # too few findings to read alone: the opening line for context
        ranked += [s for s in parts if s not in ranked][:2 - len(ranked)]
    return ranked


def _guidance(parts: list[Sentence]) -> list[Sentence]:
    changed = [s for s in parts if _CHANGE_WORDS.search(s.text)]
    ranked = changed + [s for s in parts if s not in changed]
    if parts and parts[0] not in changed[:2]:  # what the document covers, then what changed in it
        ranked = [parts[0]] + [s for s in ranked if s is not parts[0]]
    return ranked


@lru_cache(maxsize=4096)  # an item is summarised once for all who receive it
def summarise(text: str | None, kind: str = "") -> str:
    """Two or three whole sentences that carry the finding (or, for guidance and policy, the change).

    `kind` is the item's evidence type; guidance, policy, alerts and reports are read for what changed."""
    body = abstract_body(text)
    parts = split(body)
    if not parts:
        return ""
    if kind in GUIDANCE_KINDS:
        ranked = _guidance(parts)
    elif parts[0].role:
        ranked = _structured(parts)
    else:
        ranked = _unstructured(parts)
    return " ".join(s.text for s in _pick(ranked, MAX_SENTENCES))


def holds_finding(text: str | None, summary: str) -> bool:
    """Whether `summary` holds one of the abstract's result or conclusion sentences (the benchmark's test)."""
    parts = split(abstract_body(text))
    last = parts[-1].at if parts else 0
    return any(s.text in summary for s in parts if is_finding(s, last))
