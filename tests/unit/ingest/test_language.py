"""An item's language: declared on the entry, else detected from its text, else the feed's."""

from services.ingest.language import detect, item_language

GERMAN = ("Wirksamkeit und Sicherheit von Apixaban bei älteren Patienten mit Vorhofflimmern: "
          "eine randomisierte kontrollierte Studie in deutschen Hausarztpraxen")
CHINESE = "基于深度学习的医学图像分割方法研究：一项系统综述"
ENGLISH = ("Apixaban versus warfarin in older patients with atrial fibrillation: "
           "a randomised controlled trial in general practice")


def test_detects_the_language_of_enough_text():
    assert detect(GERMAN) == "de" and detect(CHINESE) == "zh" and detect(ENGLISH) == "en"
    assert detect("Iechyd meddwl plant a phobl ifanc yng Nghymru: adroddiad blynyddol") == "cy"
    assert detect(ENGLISH.upper()) == "en"  # titles in capitals
    assert detect("Heart failure") is None  # too little text to judge


def test_the_entry_declaration_wins_then_detection_then_the_feed():
    assert item_language("fr", "en", GERMAN) == "fr"
    assert item_language(None, None, GERMAN) == "de"
    assert item_language(None, "en", CHINESE + " " + CHINESE) == "zh"  # a publisher's channel default overridden
    assert item_language(None, "fr", "Heart failure") == "fr"  # too short to override the feed
    assert item_language(None, None, "Heart failure") is None
