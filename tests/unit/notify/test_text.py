"""Feed text made safe and short for e-mails."""

from services.notify.text import clean_text, safe_url, sentences


def test_clean_text_removes_scripts_tags_and_encoded_markup() -> None:
    hostile = '<p>Hi <script>alert("x")</script>there &lt;script&gt;steal()&lt;/script&gt; <b>bold</b> <img src=x onerror=alert(1) '
    cleaned = clean_text(hostile)
    assert cleaned == "Hi there bold"
    assert "<" not in cleaned and "alert" not in cleaned


def test_clean_text_keeps_plain_text_and_decodes_entities() -> None:
    assert clean_text("Heart failure &amp; AF:  a review\n of 5 < 7 trials") == "Heart failure & AF: a review of 5 < 7 trials"


def test_sentences_do_not_break_after_abbreviations() -> None:
    text = "Anticoagulants, e.g. apixaban, were compared. Smith et al. found less bleeding. Mortality fell."
    assert sentences(text) == [
        "Anticoagulants, e.g. apixaban, were compared.",
        "Smith et al. found less bleeding.",
        "Mortality fell.",
    ]


def test_sentences_keep_taxonomic_abbreviations_and_initials_but_not_look_alikes() -> None:
    text = ("Two species of Russula subg. Heterophyllidia were described by A. Smith. M. ser. Supertextae is "
            "monophyletic. We used a laser. Results followed.")
    assert sentences(text) == [
        "Two species of Russula subg. Heterophyllidia were described by A. Smith.",
        "M. ser. Supertextae is monophyletic.",
        "We used a laser.",
        "Results followed.",
    ]


def test_safe_url_allows_only_absolute_http_links() -> None:
    assert safe_url("https://www.nice.org.uk/guidance/ng196") == "https://www.nice.org.uk/guidance/ng196"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "/relative", "https://x.org/\"onmouseover=", ""):
        assert safe_url(bad) == ""
