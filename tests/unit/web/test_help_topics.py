"""The help topics (/help/<slug>): one page per related topic of the seed, in both languages,
served by the door whose people ask it and linked from the pages where the question arises."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.pages import attr_of, text_of
from tests.unit.web.conftest import BC_URL, EBP_URL
from tests.unit.web.helpers import sign_in, text
from web.common import help_topics

PT = {"Accept-Language": "pt-BR,pt;q=0.9,en;q=0.5"}

# slug: (English title, Brazilian Portuguese title: the seed's words, less the product's brand)
TITLES = {
    "payment-and-billing-faq": ("Payment and billing FAQ", "Perguntas frequentes sobre pagamento e cobrança"),
    "change-your-subscription-plan": ("Change your subscription plan", "Alterar seu plano de assinatura"),
    "change-your-payment-method": ("Change your payment method", "Alterar seu método de pagamento"),
    "view-your-invoice-history": ("View your invoice history", "Exibir seu histórico de faturas"),
    "reactivate-your-subscription-plan": ("Reactivate your subscription plan",
                                          "Reativar seu plano de assinatura"),
    "who-is-my-billing-contact": ("Who is my account's billing contact?",
                                  "Quem é o contato de cobrança da minha conta?"),
    "online-and-corporate-accounts": ("What is the difference between online and corporate accounts?",
                                      "Qual é a diferença entre contas online e corporativas?"),
    "why-cant-i-change-my-plan-online": (
        "Why can't I change my subscription plan or billing information online?",
        "Por que não posso alterar meu plano de assinatura ou minhas informações de cobrança online?"),
    "make-an-online-payment": ("How do I make an online payment through the Enterprise Billing Portal?",
                               "Como faço um pagamento online por meio do Portal de Cobrança Corporativa?"),
}
BILLING_CENTER_ONLY = {"change-your-subscription-plan", "change-your-payment-method",
                       "view-your-invoice-history", "reactivate-your-subscription-plan"}
ENTERPRISE_ONLY = {"make-an-online-payment"}
SHARED = set(TITLES) - BILLING_CENTER_ONLY - ENTERPRISE_ONLY


def served(door: str) -> list[str]:
    return sorted(SHARED | (BILLING_CENTER_ONLY if door == "bc" else ENTERPRISE_ONLY))


def client_of(door, bc, ebp):  # type: ignore[no-untyped-def]
    return bc if door == "bc" else ebp


def test_the_topics_are_the_seeds_related_topics_each_with_its_door():
    assert [t.slug for t in help_topics.TOPICS] == list(TITLES)
    assert {t.slug for t in help_topics.TOPICS if len(t.doors) == 2} == SHARED
    assert "contact" not in help_topics.BY_SLUG  # /help/contact is Customer Care


@pytest.mark.parametrize("door", ["bc", "ebp"])
def test_every_topic_a_door_serves_answers_with_its_title_in_english_and_portuguese(door, bc, ebp):
    client = client_of(door, bc, ebp)
    for slug in served(door):
        english, portuguese = TITLES[slug]
        page = client.get(f"/help/{slug}")
        assert page.status_code == 200, slug
        assert text_of(page, "page-title") == english
        assert text(page).count("<h1") == 1
        assert f"<title>{english} · " in text(page)
        assert page.headers["Cache-Control"] == "no-store"
        # The pages' security headers, the same as every page's; and no inline script under them.
        assert page.headers["Content-Security-Policy"] == client.get("/help").headers["Content-Security-Policy"]
        assert "<script" not in text(page) and " style=" not in text(page)
        pt_page = client.get(f"/help/{slug}", headers=PT)
        assert pt_page.status_code == 200, slug
        assert text_of(pt_page, "page-title") == portuguese
        assert '<html lang="pt-BR">' in text(pt_page)


@pytest.mark.parametrize("door", ["bc", "ebp"])
def test_a_topic_of_the_other_door_sends_the_reader_there(door, bc, ebp):
    client = client_of(door, bc, ebp)
    elsewhere = sorted(set(TITLES) - set(served(door)))
    target = EBP_URL if door == "bc" else BC_URL
    assert elsewhere
    for slug in elsewhere:
        response = client.get(f"/help/{slug}")
        assert response.status_code == 302, slug
        assert response.headers["Location"] == f"{target}/help/{slug}"


@pytest.mark.parametrize("path", ["/help/no-such-topic", "/help/Payment-and-billing-FAQ", "/help/%00",
                                  "/help/..%2Fhelp", "/help/payment-and-billing-faq/more"])
def test_an_unknown_topic_is_the_templated_404_page(bc, ebp, path):
    for client in (bc, ebp):
        response = client.get(path)
        assert response.status_code == 404, path
        assert text_of(response, "error-title") == "Page not found"


def test_a_topic_page_links_back_to_help_its_related_topics_and_customer_care(bc):
    page = bc.get("/help/change-your-payment-method")
    assert attr_of(page, "help-index-link", "href") == "/help"
    assert attr_of(page, "topic-customer-care-link", "href") == "/help/contact"
    assert attr_of(page, "related-view-your-invoice-history", "href") == "/help/view-your-invoice-history"
    assert attr_of(page, "related-change-your-payment-method", "href") is None  # not itself
    assert attr_of(page, "related-make-an-online-payment", "href") is None  # another door's


def test_every_link_on_every_topic_page_resolves(bc, ebp):
    # Each link is a route of its door (200, or a redirect to sign in), or a topic of the other door.
    for door, client, own, other in (("bc", bc, BC_URL, EBP_URL), ("ebp", ebp, EBP_URL, BC_URL)):
        for slug in served(door):
            for href in _links(client.get(f"/help/{slug}")):
                if href.startswith(other):
                    assert urlsplit(href).path.removeprefix("/help/") in set(TITLES) - set(served(door)), href
                    continue
                assert not href.startswith("http") or href.startswith(own), href
                response = client.get(urlsplit(href).path)
                assert response.status_code in (200, 302), (slug, href)
                if response.status_code == 302:
                    assert urlsplit(response.headers["Location"]).path == "/sign-in", (slug, href)


def _links(page):  # type: ignore[no-untyped-def]
    from tests.pages import parse

    return [a.attrs["href"] for a in parse(page).root.find_all("a")
            if not a.attrs.get("href", "").startswith("mailto:")]


def test_the_help_page_indexes_every_topic_at_the_door_that_serves_it(bc, ebp):
    for door, client, other_url in (("bc", bc, EBP_URL), ("ebp", ebp, BC_URL)):
        page = client.get("/help")
        for slug, (english, _portuguese) in TITLES.items():
            link_id = f"topic-link-{slug}"
            assert text_of(page, link_id) == english, (door, slug)
            expected = f"/help/{slug}" if slug in served(door) else f"{other_url}/help/{slug}"
            assert attr_of(page, link_id, "href") == expected, (door, slug)
    assert text_of(bc.get("/help"), "other-topics-title") == "In the Enterprise Billing Portal"
    assert text_of(bc.get("/help", headers=PT), "topic-link-payment-and-billing-faq") == (
        "Perguntas frequentes sobre pagamento e cobrança")


def test_the_member_page_links_why_they_cannot_change_things_and_who_the_billing_contact_is(bc):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!")
    page = bc.get("/")
    assert (text_of(page, "help-why-not-online"), attr_of(page, "help-why-not-online", "href")) == (
        "Why can't I change my subscription plan or billing information online?",
        "/help/why-cant-i-change-my-plan-online")
    assert (text_of(page, "help-who-is-billing-contact"),
            attr_of(page, "help-who-is-billing-contact", "href")) == (
        "Who is my account's billing contact?", "/help/who-is-my-billing-contact")
    for link_id in ("help-why-not-online", "help-who-is-billing-contact"):
        target = bc.get(attr_of(page, link_id, "href"))
        assert target.status_code == 200 and text_of(target, "page-title") == text_of(page, link_id)
    pt_page = bc.get("/", headers=PT)
    assert text_of(pt_page, "help-why-not-online") == (
        "Por que não posso alterar meu plano de assinatura ou minhas informações de cobrança online?")


def test_the_sign_in_pages_link_the_difference_between_online_and_corporate_accounts(bc, ebp):
    for client in (bc, ebp):
        page = client.get("/sign-in")
        assert text_of(page, "difference-link") == "What is the difference between online and corporate accounts?"
        href = attr_of(page, "difference-link", "href")
        assert href == "/help/online-and-corporate-accounts"
        assert text_of(client.get(href), "page-title") == text_of(page, "difference-link")
        assert text_of(client.get("/sign-in", headers=PT), "difference-link") == (
            "Qual é a diferença entre contas online e corporativas?")


def test_the_sign_in_pages_say_learn_more_about_billing_contacts_as_the_seed_does(bc, ebp):
    bc_page, ebp_page = bc.get("/sign-in", headers=PT), ebp.get("/sign-in", headers=PT)
    assert text_of(bc_page, "learn-more-billing-contacts") == "Saiba mais sobre os contatos de cobrança."
    assert text_of(ebp_page, "learn-more-user-id") == "Saiba mais."
    for client, page, link_id in ((bc, bc_page, "learn-more-billing-contacts"), (ebp, ebp_page, "learn-more-user-id")):
        href = attr_of(page, link_id, "href")
        assert href == "/help/who-is-my-billing-contact"
        assert client.get(href).status_code == 200


def test_the_billing_contacts_landing_page_links_the_subscriptions_topics(bc, world):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    page = bc.get("/")
    for link_id, slug in (("help-change-plan", "change-your-subscription-plan"),
                          ("help-payment-method", "change-your-payment-method"),
                          ("help-invoice-history", "view-your-invoice-history"),
                          ("help-reactivate", "reactivate-your-subscription-plan"),
                          ("help-faq", "payment-and-billing-faq")):
        assert (text_of(page, link_id), attr_of(page, link_id, "href")) == (TITLES[slug][0], f"/help/{slug}")


def test_the_enterprise_landing_page_links_online_payment_and_the_faq(ebp):
    sign_in(ebp, "globex-billing", "Enterprise-demo-2026!")
    page = ebp.get("/")
    assert attr_of(page, "help-online-payment", "href") == "/help/make-an-online-payment"
    assert attr_of(page, "help-faq", "href") == "/help/payment-and-billing-faq"
    assert attr_of(page, "help-why-not-online", "href") == "/help/why-cant-i-change-my-plan-online"


def test_a_signed_in_reader_of_a_topic_keeps_the_signed_in_header(bc):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!")
    page = bc.get("/help/who-is-my-billing-contact")
    assert text_of(page, "user-login") == "mark@acme.test"
    assert attr_of(page, "topic-billing-contacts-link", "href") == "/billing-contacts"


def test_the_topics_keep_the_seeds_sentences_word_for_word_in_portuguese(bc, ebp):
    member = text_of(bc.get("/help/who-is-my-billing-contact", headers=PT), "billing-contact-member-message")
    assert member == (
        "Se você encontrar a mensagem \"Contate seu administrador de cobrança (nome, email) para fazer "
        "alterações no produto ou licença da sua conta\", significa que você não é o contato de cobrança da "
        "sua conta, mas você pode clicar em Enviar email para o administrador de cobrança para contatá-lo "
        "diretamente.")
    difference = text_of(ebp.get("/help/online-and-corporate-accounts", headers=PT), "difference-seed")
    assert difference is not None and difference.startswith(
        "Quando o contato de cobrança de uma conta faz alterações nas informações de pagamento, nas "
        "informações de cobrança ou no plano de assinatura")
