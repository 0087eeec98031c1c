"""The Billing Center's billing pages in Chromium against the five real processes: change seats
with the preview and the invoice that follows (to the cent), its print page and PDF, a declined
card. Padaria's account (Acme's is what the other browser tests read)."""
from __future__ import annotations

import re

from tests.pages import text_of

JOANA = ("joana@padaria.test", "Padaria-demo-2026!")


def sign_in(page, base, login, password):  # type: ignore[no-untyped-def]
    page.goto(f"{base}/sign-in")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()


def test_more_seats_are_previewed_confirmed_once_and_invoiced_exactly_as_previewed(page, stack):
    sign_in(page, stack.billing_center, *JOANA)
    page.click("#nav-subscription")
    html = page.content()
    assert (text_of(html, "plan-name"), text_of(html, "seats")) == ("Starter", "3")
    page.click("#change-subscription")
    page.fill("#seats", "5")
    page.click("#preview-button")
    page.wait_for_selector("#preview-lines")
    preview = page.content()
    amount_due = text_of(preview, "amount-due")
    assert amount_due.startswith("R$") and len(re.findall(r'class="line"', preview)) == 2
    assert text_of(preview, "preview-timing") == "Now"
    page.click("#confirm-button")
    page.wait_for_selector("#invoice-lines")
    invoice = page.content()
    assert text_of(invoice, "invoice-total") == amount_due
    assert len(re.findall(r'class="line"', invoice)) == 2
    # The print page uses its own stylesheet; the PDF downloads as an attachment.
    assert 'media="print"' in invoice
    number = text_of(invoice, "invoice-number")
    with page.expect_download() as download:
        page.click("#download-pdf")
    assert download.value.suggested_filename == f"{number}.pdf"
    page.click("#nav-subscription")
    assert text_of(page.content(), "seats") == "5"


def test_a_declined_card_shows_the_decline_message(page, stack):
    sign_in(page, stack.billing_center, *JOANA)
    page.goto(f"{stack.billing_center}/payment-methods/add")
    page.fill("#holder_name", "Joana Souza")
    page.fill("#number", "4000 0000 0000 0002")
    page.fill("#exp_month", "12")
    page.fill("#exp_year", "2031")
    page.fill("#cvc", "123")
    page.click("#add-card-button")
    page.wait_for_selector("#form-error")
    html = page.content()
    assert "Your card was declined." in text_of(html, "form-error")
    assert page.input_value("#number") == ""  # never sent back (S18)


def test_cancel_at_the_period_end_then_keep_the_subscription(page, stack):
    sign_in(page, stack.billing_center, *JOANA)
    page.goto(f"{stack.billing_center}/subscription")
    page.fill("#reason", "Closing for the holidays")
    page.click("#cancel-button")
    page.wait_for_selector("#pending-cancellation")
    html = page.content()
    assert text_of(html, "status") == "Pending cancellation" and text_of(html, "ends-at")
    page.click("#undo-cancellation")
    page.wait_for_selector("#cancel-form")
    assert text_of(page.content(), "status") == "Active"
