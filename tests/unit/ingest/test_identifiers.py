"""DOI, PMID and canonical URL extraction on shapes real feeds use."""

from services.ingest.identifiers import canonical_url, find_doi, find_pmid


def test_doi_from_resolver_links_publisher_paths_and_text():
    assert find_doi(["https://dx.doi.org/10.4039/tce.2021.38?rft_dat=source%3Ddrss"]) == "10.4039/tce.2021.38"
    assert find_doi(["https://onlinelibrary.wiley.com/doi/10.1002/tax.12603?af=R"]) == "10.1002/tax.12603"
    assert find_doi(["doi:10.1007/s11033-021-06887-9"]) == "10.1007/s11033-021-06887-9"
    assert find_doi(["Mol Biol Rep. 2021 Nov 5. doi: 10.1007/s11033-021-06887-9. Online ahead of print."]) == (
        "10.1007/s11033-021-06887-9")
    assert find_doi(["https://example.org/doi/10.1002%2FTAX.12603"]) == "10.1002/tax.12603"


def test_doi_keeps_brackets_that_belong_to_it_and_is_absent_when_missing():
    assert find_doi(["(see 10.1002/(sici)1097-0177(199905)215:1<1::aid-dvdy1>3.0.co;2-2)"]).startswith(
        "10.1002/(sici)1097-0177(199905)215:1")
    assert find_doi(["no identifier here", None, ""]) is None


def test_pmid_from_pubmed_links_and_prefixed_identifiers():
    assert find_pmid(["https://pubmed.ncbi.nlm.nih.gov/34739692/?utm_source=Rested"]) == "34739692"
    assert find_pmid([], ["pubmed:34739692"]) == "34739692"
    assert find_pmid([], ["Some text. PMID: 123456."]) == "123456"
    assert find_pmid(["https://example.org/1234"], ["nothing"]) is None


def test_canonical_url_strips_tracking_but_keeps_meaningful_query():
    assert canonical_url("https://onlinelibrary.wiley.com/doi/10.1002/tax.12603?af=R") == (
        "https://onlinelibrary.wiley.com/doi/10.1002/tax.12603")
    assert canonical_url("https://pubmed.ncbi.nlm.nih.gov/34739692/?utm_source=Rested&fc=2021&v=2.15.0") == (
        "https://pubmed.ncbi.nlm.nih.gov/34739692/")
    kept = canonical_url("http://www.marinespecies.org/aphia.php?p=taxdetails&id=1548102&from=rss#x")
    assert kept == "http://www.marinespecies.org/aphia.php?id=1548102&p=taxdetails"
    assert canonical_url("HTTPS://Example.ORG/a?utm_medium=rss&q=1") == "https://example.org/a?q=1"
    assert canonical_url("") == ""
