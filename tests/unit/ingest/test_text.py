"""Plain text from hostile and ordinary feed HTML."""

from services.ingest.text import clean_title, html_to_text


def test_scripts_styles_and_handlers_vanish_and_words_do_not_run_together():
    html = ('<p>First <b>para</b>.</p><p>Second&nbsp;para &amp; more</p><script>alert(1)</script>'
            '<style>p{}</style><img src=x onerror="alert(2)"><a href="javascript:alert(3)">link</a>')
    assert html_to_text(html) == "First para.\nSecond para & more\nlink"


def test_plain_text_with_angle_brackets_and_entities_survives():
    assert html_to_text("p < 0.05 and a > b") == "p < 0.05 and a > b"
    assert html_to_text("Caf&eacute; &amp;amp; bar") == "Café & bar"
    assert html_to_text(None) == ""


def test_title_is_one_line_without_markup():
    title = "<p><strong><em>Murdannia triquetra</em> var. <em>x</em>,\n  a new variety</strong></p>"
    assert clean_title(title) == "Murdannia triquetra var. x, a new variety"
