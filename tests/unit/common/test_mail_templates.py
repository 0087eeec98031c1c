"""billing_common.mail_templates: the recipient's language chooses the template (pt-BR, else
English), and a kind without that language falls back to English."""
from billing_common.mail_templates import locale_of, render
from billing_common.outbox import OutgoingMail

TEMPLATES = {
    "hello": {"en": ("Hello {name}", "Hi {name}.\n"), "pt-BR": ("Olá {name}", "Oi, {name}.\n")},
    "english_only": {"en": ("Only {name}", "Just English.\n")},
}


def test_the_recipients_language_chooses_and_english_is_the_fallback() -> None:
    assert render(TEMPLATES, "hello", "pt-BR", {"name": "Ana"}, to="ana@example.test") == OutgoingMail(
        to=("ana@example.test",), subject="Olá Ana", body="Oi, Ana.\n")
    assert render(TEMPLATES, "hello", "fr", {"name": "Zoé"}, to=("z@example.test", "y@example.test"),
                  reply_to="r@example.test", attachment="invoice:en:a:b") == OutgoingMail(
        to=("z@example.test", "y@example.test"), subject="Hello Zoé", body="Hi Zoé.\n", reply_to="r@example.test",
        attachment="invoice:en:a:b")
    assert render(TEMPLATES, "english_only", "pt-BR", {"name": "Ana"}, to="a@example.test").subject == "Only Ana"
    assert [locale_of(x) for x in ("pt-BR", "pt", "en", "")] == ["pt-BR", "en", "en", "en"]
