"""Reading PubMed's and Crossref's answers about an example paper (pure parts of papers.py)."""

from __future__ import annotations

import pytest

from services.subscriptions.papers import (
    PaperNotFound, ServiceUnavailable, canonical_ref, paper_text, parse_crossref, parse_pubmed,
)

EFETCH = b"""<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">
<PubmedArticleSet>
 <PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
   <PMID Version="1">19717844</PMID>
   <Article PubModel="Print-Electronic">
    <ArticleTitle>Dabigatran versus warfarin in patients with <i>atrial</i> fibrillation.</ArticleTitle>
    <Abstract>
     <AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">Warfarin reduces the risk of stroke.</AbstractText>
     <AbstractText Label="METHODS" NlmCategory="METHODS">We randomly assigned 18,113 patients.</AbstractText>
    </Abstract>
   </Article>
  </MedlineCitation>
 </PubmedArticle>
</PubmedArticleSet>"""


def test_pubmed_title_and_structured_abstract():
    paper = parse_pubmed(EFETCH)["19717844"]
    assert paper.title == "Dabigatran versus warfarin in patients with atrial fibrillation."
    assert paper.abstract == "Warfarin reduces the risk of stroke. We randomly assigned 18,113 patients."
    assert paper.source == "pubmed"
    assert paper.text.startswith("Dabigatran versus warfarin in patients with atrial fibrillation. Warfarin")


def test_pubmed_entity_expansion_is_refused():
    bomb = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>&b;</ArticleTitle>
</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"""
    with pytest.raises(ServiceUnavailable):
        parse_pubmed(bomb)
    with pytest.raises(ServiceUnavailable):
        parse_pubmed(b"<PubmedArticleSet><PubmedArticle>")


def test_an_unknown_pmid_gives_an_empty_set():
    assert parse_pubmed(b"<PubmedArticleSet></PubmedArticleSet>") == {}


def test_crossref_abstract_loses_its_jats_markup():
    work = {"status": "ok", "message": {
        "title": ["Effects of exercise on falls &amp; fractures"],
        "abstract": "<jats:title>Abstract</jats:title><jats:p>Exercise reduced falls by 23% &amp; "
                    "<jats:italic>fractures</jats:italic> too.</jats:p><script>alert(1)</script>",
    }}
    paper = parse_crossref(work)
    assert paper.abstract == "Exercise reduced falls by 23% & fractures too."
    assert paper.source == "crossref"
    with pytest.raises(PaperNotFound):
        parse_crossref({"message": {"title": [], "abstract": None}})
    with pytest.raises(ServiceUnavailable):
        parse_crossref({"message": "Resource not found."})


@pytest.mark.parametrize("ref, key", [
    ("DOI:10.1056/NEJMoa0905561", "doi:10.1056/nejmoa0905561"),
    ("https://doi.org/10.1056/NEJMoa0905561", "doi:10.1056/nejmoa0905561"),
    ("https://pubmed.ncbi.nlm.nih.gov/19717844/", "pmid:19717844"),
    ("pmid:19717844", "pmid:19717844"),
    ("https://www.nice.org.uk/guidance/ng196", "https://www.nice.org.uk/guidance/ng196"),
])
def test_references_are_stored_under_one_key(ref, key):
    assert canonical_ref(ref) == key


def test_paper_text_joins_title_and_abstract_like_an_item():
    assert paper_text("A title", "An  abstract.") == "A title. An abstract."
    assert paper_text("A question?", "Yes.") == "A question? Yes."
    assert paper_text("", "Only an abstract.") == "Only an abstract."


@pytest.mark.parametrize("ref, url", [
    ("doi:10.1056/NEJMoa0905561", "https://doi.org/10.1056/NEJMoa0905561"),
    ("doi:10.1002/(sici)1097-0177(199905)", "https://doi.org/10.1002/(sici)1097-0177(199905)"),
    ("doi:10.1/a\"><script>", "https://doi.org/10.1/a%22%3E%3Cscript%3E"),
    ("pmid:19717844", "https://pubmed.ncbi.nlm.nih.gov/19717844/"),
    ("url:https://www.nice.org.uk/guidance/ng196", "https://www.nice.org.uk/guidance/ng196"),
    ("javascript:alert(1)", "#"),
])
def test_references_link_to_where_a_reader_finds_them(ref, url):
    from services.subscriptions.context import ref_url

    assert ref_url(ref) == url
