"""The help topics as a reader reaches them: from the page where the question arises."""
from __future__ import annotations

from urllib.parse import urlsplit

from tests.pages import attr_of, text_of

MARK = ("mark@acme.test", "Member-demo-2026!")


def sign_in(page, base, login, password):  # type: ignore[no-untyped-def]
    page.goto(f"{base}/sign-in")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()


def test_a_member_opens_why_they_cannot_change_the_plan_from_their_page_in_portuguese(page_pt, stack):
    sign_in(page_pt, stack.billing_center, *MARK)
    question = "Por que não posso alterar meu plano de assinatura ou minhas informações de cobrança online?"
    assert text_of(page_pt.content(), "help-why-not-online") == question
    page_pt.get_by_role("link", name=question).click()
    page_pt.wait_for_url(f"{stack.billing_center}/help/why-cant-i-change-my-plan-online")
    html = page_pt.content()
    assert '<html lang="pt-BR">' in html
    assert text_of(html, "page-title") == question
    assert text_of(html, "why-not-contact") == "Você não é o contato de cobrança da sua conta"
    assert text_of(html, "user-login") == "mark@acme.test"  # still signed in
    # The related topic about corporate accounts is served here too; one for them only is linked
    # at the Enterprise portal, where it opens.
    assert attr_of(html, "related-online-and-corporate-accounts", "href") == (
        "/help/online-and-corporate-accounts")
    page_pt.goto(f"{stack.billing_center}/help")
    payment = attr_of(page_pt.content(), "topic-link-make-an-online-payment", "href")
    assert payment == f"{stack.enterprise}/help/make-an-online-payment"
    payment_question = "Como faço um pagamento online por meio do Portal de Cobrança Corporativa?"
    page_pt.get_by_role("link", name=payment_question).click()
    page_pt.wait_for_url(f"{stack.enterprise}/help/make-an-online-payment")
    assert urlsplit(page_pt.url).path == "/help/make-an-online-payment"
    assert text_of(page_pt.content(), "page-title") == payment_question
