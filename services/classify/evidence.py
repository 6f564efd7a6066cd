"""Infers what kind of evidence an item is, and whether it is urgent, from its source and text.

Precedence, chosen on purpose:
1. The source decides where its kind is unambiguous: safety-alert and news sources give alerts
   and news (a news story about a trial is still news); guideline and policy sources give
   guidelines and policy, unless the title is a safety alert (NHS England publishes National
   Patient Safety Alerts among its policy papers); an unknown source's policy-like title
   (white paper, government response, strategy) is policy.
2. Journals, reports and unknown sources are read: the title, then the abstract's "Design:" or
   "Methods:" sentence, then the abstract, where a design counts only as the study's own ("we
   conducted a ...", "this cohort study"), not in "previous meta-analyses have shown ...".
   Safety-alert wording counts only outside journals: a paper about alerts is research.
3. Within one text the first rule that fits wins: protocol or comment/letter/correction
   (`article`) > systematic review > trial (target-trial emulation is observational) >
   qualitative > observational > guideline ("adherence to NICE guidelines: a cohort study"
   stays observational) > case report (`article`) > narrative, scoping or rapid review.
4. Nothing fits: the source's own kind (journal -> `article`, report -> `report`, ...).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from functools import cache

from contracts import Item, TopicTag
from contracts.vocab import ContentType, EvidenceType

log = logging.getLogger(__name__)

_I = re.IGNORECASE
_RANDOMISED = r"randomi[sz]ed"

_PROTOCOL = re.compile(
    r"\bprotocol (?:for|of) (?:an?|the)\b|\b(?:study|trial|review) protocol\b|:\s*(?:an?|the|study) protocol\b"
    r"|\bprotocol\s*$",
    _I,
)
_COMMENT = re.compile(
    r"^\s*(?:editorial|comment(?:ary)?|letter|correspondence|reply|erratum|correction|corrigendum"
    r"|retraction|retracted|re\s*:|response to\s*:|in response to)\b",
    _I,
)
_SYSTEMATIC = re.compile(
    r"\bsystematic (?:literature )?reviews?\b|\bmeta[\s-]?analys[ie]s\b|\bumbrella review\b"
    r"|\bcochrane review\b|\boverview of (?:systematic )?reviews\b",
    _I,
)
_EMULATION = re.compile(r"\b(?:target[\s-]trial emulation|emulat\w* (?:a )?(?:target )?trial)\b", _I)
_TRIAL = re.compile(
    rf"\b{_RANDOMISED}\b[^.;:]{{0,40}}?\b(?:trials?|study)\b"
    r"|\bRCTs?\b|\bcontrolled (?:clinical )?trial\b|\bplacebo[\s-]controlled\b|\bdouble[\s-]blind(?:ed)?\b"
    r"|\bphase (?:i{1,3}|iv|[1-4])[ab]?(?:/(?:i{1,3}|[1-4]))? (?:\w+ )?trial\b|\bnon[\s-]?inferiority trial\b"
    r"|\bcross[\s-]?over trial\b|\bpragmatic trial\b|\bclinical trial\b"
    rf"|\bstepped[\s-]wedge\b|\bcluster[\s-]{_RANDOMISED}\b|\bcluster (?:controlled )?trials?\b",
    _I,
)
_QUALITATIVE = re.compile(
    r"\bqualitative\b|\bsemi[\s-]?structured interviews?\b|\binterview study\b|\bfocus groups?\b"
    r"|\bthematic analysis\b|\bethnograph(?:y|ic)\b|\bphenomenolog\w*\b|\bgrounded theory\b",
    _I,
)
_OBSERVATIONAL = re.compile(
    r"\bcohort\b|\bcase[\s-]control\b|\bcross[\s-]sectional\b|\bregistry\b|\bregister[\s-]based\b"
    r"|\bpopulation[\s-]based\b|\bobservational\b|\bretrospective\b|\bprospective (?:\w+ )?study\b"
    r"|\blongitudinal study\b|\binterrupted time[\s-]series\b|\breal[\s-]world\b|\bsurvey\b"
    r"|\btarget[\s-]trial emulation\b",
    _I,
)
_GUIDELINE = re.compile(
    r"\bNICE (?:guidelines?|guidance|quality standard)\b|\bclinical (?:practice )?guidelines?\b"
    r"|\bguidelines? (?:for|on) (?:the )?(?:management|diagnosis|treatment|prevention|assessment|care|use)\b"
    r"|\bconsensus (?:statement|guidelines?|recommendations)\b|\bquality standard\b|\b(?:NG|QS|TA)\d{1,4}\b"
    r"|\btechnology appraisal guidance\b|\bpractice guidance\b|\b(?:ESC|AHA|ACC|BTS|SIGN|WHO) guidelines?\b"
    r"|\bsummary of (?:the )?(?:updated |new )?(?:NICE )?guidance\b",
    _I,
)
_CASE = re.compile(r"\bcase reports?\b|\bcase series\b|\ba case of\b|\bwe report (?:a|an|two|three)\b", _I)
_REVIEW = re.compile(
    r"\b(?:narrative|scoping|rapid|literature|integrative|realist|critical|clinical|mini|state[\s-]of[\s-]the[\s-]art)"
    r"[\s-]reviews?\b|\breview of (?:the )?(?:literature|evidence)\b|:\s*an? (?:\w+ )?review\s*$|\boverview\b",
    _I,
)
_ALERT = re.compile(
    r"\b(?:national )?patient safety alert\b|\bsafety alert\b|\bdrug safety (?:update|communication)\b"
    r"|\b(?:class [1-4] )?(?:medicines?|drug|device) (?:recall|alert)\b|\bfield safety notice\b"
    r"|\bmedical device alert\b|\bdevice safety information\b|\bsafety warning\b|\bMHRA (?:alert|warns)\b",
    _I,
)
_POLICY = re.compile(r"\bwhite paper\b|\bgreen paper\b|\bpolicy paper\b|\bgovernment response\b|\bstrategy\b", _I)
_NOT_FINAL = re.compile(r"\b(?:consultation|draft|in development|withdrawn|scope)\b", _I)
_DESIGN_SENTENCE = re.compile(r"\b(?:design|methods?)(?:, setting,? and participants)?\s*:\s*([^.]{3,250})", _I)
_PROTOCOL_OWN = re.compile(r"\b(?:this|the|our) (?:study |trial |review )?protocol\b", _I)
_OWN = r"\b(?:we|this|our|a|an|in a|in an)\b[^.;]{0,80}?"

#: Design rules for one text, in precedence order.
_RULES: tuple[tuple[re.Pattern[str], EvidenceType], ...] = (
    (_SYSTEMATIC, EvidenceType.systematic_review),
    (_EMULATION, EvidenceType.observational),
    (_TRIAL, EvidenceType.trial),
    (_QUALITATIVE, EvidenceType.qualitative),
    (_OBSERVATIONAL, EvidenceType.observational),
    (_GUIDELINE, EvidenceType.guideline),
    (_CASE, EvidenceType.article),
    (_REVIEW, EvidenceType.review),
)
#: The kinds of evidence an interest statement can ask for by name ("systematic reviews of ...",
#: "randomised trials in ...", "qualitative research on ...", "NICE guidance on ..."). Observational
#: designs count only when named as studies: a statement about "population-based screening" or a
#: "staff survey" is about a subject, not asking for cohort studies.
_ASKED_OBSERVATIONAL = re.compile(
    r"\b(?:cohort|case[\s-]control|cross[\s-]sectional|observational|registry|population[\s-]based|real[\s-]world)"
    r" (?:studies|study|data|evidence|research)\b",
    _I,
)
_ASKED: tuple[tuple[re.Pattern[str], EvidenceType], ...] = (
    (_SYSTEMATIC, EvidenceType.systematic_review),
    (_TRIAL, EvidenceType.trial),
    (_QUALITATIVE, EvidenceType.qualitative),
    (_ASKED_OBSERVATIONAL, EvidenceType.observational),
    (_GUIDELINE, EvidenceType.guideline),
)

#: The same designs in an abstract: only where the study names itself ("we did a ...").
_OWN_RULES = tuple((re.compile(_OWN + f"(?:{p.pattern})", _I), kind) for p, kind in _RULES)

_BY_SOURCE = {
    ContentType.journal_article: EvidenceType.article,
    ContentType.guideline: EvidenceType.guideline,
    ContentType.policy: EvidenceType.policy,
    ContentType.report: EvidenceType.report,
    ContentType.news: EvidenceType.news,
    ContentType.safety_alert: EvidenceType.safety_alert,
    ContentType.other: EvidenceType.other,
}


def infer_evidence_type(title: str, summary: str, content_type: ContentType) -> EvidenceType:
    """The kind of evidence an item is; see the module docstring for the precedence."""
    title, summary = title or "", summary or ""
    if content_type in (ContentType.safety_alert, ContentType.news):
        return _BY_SOURCE[content_type]
    if content_type != ContentType.journal_article and _ALERT.search(title):
        return EvidenceType.safety_alert
    if content_type in (ContentType.guideline, ContentType.policy):
        return _BY_SOURCE[content_type]
    if content_type == ContentType.other and _POLICY.search(title):
        return EvidenceType.policy
    if _PROTOCOL.search(title) or _COMMENT.search(title):
        return EvidenceType.article
    found = _first(_RULES, title)
    if found is None:
        design = _DESIGN_SENTENCE.search(summary)
        found = _first(_RULES, design.group(1)) if design else None
    if found is None and not _PROTOCOL_OWN.search(summary):
        found = _first(_OWN_RULES, summary)
    return found if found is not None else _BY_SOURCE[content_type]


def asked_evidence_types(statement: str) -> list[EvidenceType]:
    """The kinds of evidence an interest statement names ("systematic literature reviews ... in
    software engineering": systematic reviews), in the order of `_ASKED`; none for most statements,
    which name a subject ("ACE inhibitors ... comparative effectiveness") and leave the kind open."""
    return [kind for pattern, kind in _ASKED if pattern.search(statement or "")]


def _first(rules: Iterable[tuple[re.Pattern[str], EvidenceType]], text: str) -> EvidenceType | None:
    return next((kind for pattern, kind in rules if pattern.search(text)), None)


@cache
def _packaged_urgent_topics() -> frozenset[str]:
    from services.classify.taxonomy import load_taxonomy

    return load_taxonomy().urgent_ids()


def is_urgent(item: Item, evidence_type: EvidenceType, tags: list[TopicTag], urgent_topics: Collection[str] | None = None,
              min_tag_score: float = 0.5) -> bool:
    """Whether to send the item straight away rather than in the next digest.

    Urgent: a safety alert; new guidance from a guideline source (not a draft or consultation);
    or, from any source but a journal, a tag of at least `min_tag_score` on a topic the taxonomy
    marks urgent (`urgent_topics`, by default those of the packaged taxonomy). A journal paper
    about an outbreak is research and waits for the digest.
    """
    if evidence_type == EvidenceType.safety_alert or item.content_type == ContentType.safety_alert:
        return True
    if (item.content_type == ContentType.guideline and evidence_type == EvidenceType.guideline
            and not _NOT_FINAL.search(item.title)):
        return True
    if item.content_type == ContentType.journal_article:
        return False
    urgent = _packaged_urgent_topics() if urgent_topics is None else urgent_topics
    return any(tag.topic_id in urgent and tag.score >= min_tag_score for tag in tags)
