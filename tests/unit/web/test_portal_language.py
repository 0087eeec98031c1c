"""pt-BR and English: the browser chooses, the switcher overrides; the seed's words in pt-BR."""
from __future__ import annotations

from tests.pages import text_of
from tests.unit.web.helpers import field_error, form_error, post_form, set_cookies, sign_in, text

PT = {"Accept-Language": "pt-BR,pt;q=0.9,en;q=0.5"}


def test_accept_language_pt_br_gives_the_seeds_messages_word_for_word(bc, ebp):
    bc_page = bc.get("/sign-in", headers=PT)
    assert '<html lang="pt-BR">' in text(bc_page)
    for element_id, words in (
            ("portal-name", "Centro de Cobrança"),
            ("having-trouble-title", "Está tendo problemas?"),
            ("reset-link", "Redefinir/Criar sua senha"),
            ("customer-care-link", "Atendimento ao Cliente"),
            ("member-message-explained",
             ("Se você encontrar a mensagem \"Contate seu administrador de cobrança (nome, email) para "
              "fazer alterações no produto ou licença da sua conta\", significa que você não é o contato "
              "de cobrança da sua conta, mas você pode clicar em Enviar email para o administrador de "
              "cobrança para contatá-lo diretamente."))):
        assert text_of(bc_page, element_id) == words, element_id
    ebp_page = ebp.get("/sign-in", headers=PT)
    for element_id, words in (
            ("portal-name", "Portal de Cobrança Corporativa"),
            ("user-id-explained",
             ("Observação: É fornecido um contato de cobrança com uma ID de usuário (no formato \"nome de "
              "usuário\" ou \"endereço de email\", localizado em uma fatura enviada por email) que permite "
              "fazer login no Portal de Cobrança Corporativa.")),
            ("failure-causes",
             ("Se não puder fazer login no Portal de Cobrança Corporativa e encontrar uma mensagem de "
              "\"ID de usuário inválido\" ou \"ID/senha de usuário inválido\", significa que uma das "
              "opções abaixo é verdadeira:")),
            ("cause-not-contact", "Você não é um contato de cobrança da sua conta \"corporativa\".")):
        assert text_of(ebp_page, element_id) == words, element_id


def test_pt_br_failure_messages(ebp):
    wrong = sign_in(ebp, "globex-billing", "wrong-password", headers=PT)
    assert form_error(text(wrong)) == "ID/senha de usuário inválido"
    impossible = sign_in(ebp, "not a user id!", "x", headers=PT)
    assert field_error(text(impossible), "login") == "ID de usuário inválido"


def test_pt_br_member_page_uses_the_seed_message_with_real_names(bc):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!", headers=PT)
    page = bc.get("/", headers=PT)
    assert text_of(page, "contact-admin-message") == (
        "Contate seu administrador de cobrança (Olivia Ortega, olivia@acme.test) para fazer alterações "
        "no produto ou licença da sua conta")
    assert text_of(page, "contact-admin-submit") == "Enviar email para o administrador de cobrança"


def test_pt_br_help_and_reset_pages(bc):
    help_page = text(bc.get("/help", headers=PT))
    for words in ("Quem é o contato de cobrança da minha conta?",
                  "Qual é a diferença entre contas online e corporativas?",
                  "Por que não posso alterar meu plano de assinatura ou minhas informações de cobrança online?",
                  "Como faço um pagamento online por meio do Portal de Cobrança Corporativa?"):
        assert words in help_page, words
    reset = bc.get("/reset", headers=PT)
    assert text_of(reset, "page-title") == "Redefinir/Criar sua senha"
    assert text_of(reset, "reset-submit") == "Enviar"


def test_pt_br_money_and_dates_are_formatted_for_the_locale(bc, world):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    page = bc.get("/", headers=PT)
    # The amount's space is a no-break space; text_of makes every run of white space one space.
    assert text_of(page, "renewal-amount") == "US$ 12.345,00"
    assert text_of(page, "period-end") == "15 de março de 2027"
    assert (text_of(page, "interval"), text_of(page, "status")) == ("Anual", "Ativa")


def test_portuguese_from_portugal_falls_back_to_brazilian_and_others_to_english(bc):
    assert '<html lang="pt-BR">' in text(bc.get("/sign-in", headers={"Accept-Language": "pt-PT"}))
    assert '<html lang="en">' in text(bc.get("/sign-in", headers={"Accept-Language": "de-DE,fr;q=0.8"}))


def test_the_switcher_sets_the_language_cookie_and_returns_to_the_page(bc):
    response = post_form(bc, "/help", {"lang": "pt_BR", "next": "/help"}, action="/language")
    assert response.status_code == 302 and response.headers["Location"] == "/help"
    cookie = set_cookies(response)["lang"]
    assert cookie["value"] == "pt_BR" and cookie["httponly"] is True
    assert str(cookie["samesite"]).lower() == "lax"
    # The choice beats the browser's English.
    help_page = bc.get("/help", headers={"Accept-Language": "en"})
    assert text_of(help_page, "page-title") == "Ajuda: Centro de Cobrança"
    back = post_form(bc, "/help", {"lang": "en", "next": "/help"}, action="/language")
    assert back.status_code == 302
    assert '<html lang="en">' in text(bc.get("/help", headers=PT))


def test_an_unknown_language_is_refused(bc):
    response = post_form(bc, "/help", {"lang": "xx", "next": "/"}, action="/language")
    assert response.status_code == 400


def test_the_signed_in_users_own_locale_is_not_forced(bc):
    # Joana's profile says pt-BR; her browser asks for English and gets English.
    sign_in(bc, "joana@padaria.test", "Padaria-demo-2026!")
    page = bc.get("/", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in text(page)
    assert text_of(page, "where") == (
        "You are signed in to the Billing Center for the account Padaria Pão Quente.")


def test_every_message_in_the_sources_has_a_pt_br_translation(tmp_path):
    from babel.messages.frontend import CommandLineInterface
    from babel.messages.pofile import read_po

    from web.common.catalogue import CATALOGUE, MAPPING, SOURCES

    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "--no-location", "-F", str(MAPPING), "-k", "_l",
                                "-o", str(pot), *[str(s) for s in SOURCES]])
    with pot.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with (CATALOGUE / "pt_BR" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = {m.id: m.string for m in read_po(handle) if m.id}
    assert wanted - set(catalogue) == set(), "run: python -m web.common.catalogue extract"
    untranslated = [m for m in wanted
                    if not catalogue[m] or (isinstance(catalogue[m], tuple) and not all(catalogue[m]))]
    assert untranslated == []
