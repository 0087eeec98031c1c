"""A quote's whole lifecycle in Chromium, as the rep and the billing contact live it: the rep
drafts from the price list and sends; the contact requests a change; the rep revises with a new
version; the contact accepts it with one of the account's POs; the invoice appears on the
quote's terms with the PO, is paid in part, then in full; the rep is mailed.

Served from the app of tests/integration/web/enterprise_world.py (the REAL enterprise_portal
service, the fake identity) on a free port, like the invoicing browser tests, not from the
shared `make run` stack: accepting a quote issues an invoice, which would change what the
stack's other tests read of Globex.
"""
from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

from tests.e2e.test_enterprise_invoicing_in_a_browser import fill_card
from tests.e2e.test_member_requests_in_a_browser import mail_to as mail_with_subject
from tests.e2e.test_portals_in_a_browser import body, sign_in
from tests.integration.web.enterprise_world import CONTACT, REP, EnterpriseWorld
from tests.pages import table_rows, text_of


def pay(page, amount: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """Pays the chosen invoices by card from the invoice list (all of what is due, or `amount`)."""
    page.click("#pay-selected")
    if amount is not None:
        page.fill("#amount", amount)
    page.click("#preview-button")
    fill_card(page)
    page.click("#confirm-button")
    return text_of(page.content(), "payment-result") or ""


def test_rep_drafts_contact_asks_rep_revises_contact_accepts_with_a_po_and_pays_the_invoice(  # type: ignore[no-untyped-def]
        page, browser, portal: str, ep_world: EnterpriseWorld) -> None:
    ep_world.po("PO-7781", 5_000_000, ep_world.today - dt.timedelta(days=30), ep_world.today + dt.timedelta(days=300))
    rep = page
    contact_context = browser.new_context(locale="en-US")
    contact = contact_context.new_page()
    try:
        sign_in(rep, portal, *REP)
        rep.click("#account-1-quotes")
        rep.click("#new-quote")
        rep.select_option("#line-0-plan", "enterprise-annual")
        rep.fill("#line-0-quantity", "100")
        rep.fill("#line-0-discount", "10")
        rep.fill("#line-1-description", "Onboarding workshop")
        rep.fill("#line-1-price", "2500")
        rep.select_option("#terms", "NET 45")
        rep.click("#save-draft")
        html = rep.content()
        assert (text_of(html, "page-title"), text_of(html, "quote-status")) == ("Quote QT-0001", "Draft")
        assert text_of(html, "version-1-total") == "$26,260.00"  # 100 x 264.00 less 10% + 2,500.00
        quote_url = rep.url
        rep.click("#send-quote")
        assert text_of(rep.content(), "flash-1") == "Quote QT-0001-1 was sent to the account's billing contacts."

        sign_in(contact, portal, *CONTACT)
        contact.click("#nav-quotes")
        contact.click("#quote-QT-0001 a")
        assert text_of(contact.content(), "quote-status") == "Open"
        contact.fill("#body", "Could you make it 15% on the seats?")
        contact.click("#request-changes")
        assert text_of(contact.content(), "flash-1") == "Your change request was sent to your representative."

        rep.goto(quote_url)
        assert text_of(rep.content(), "comment-1") == (
            "Globex Accounts Payable · QT-0001-1 · Change request Could you make it 15% on the seats?")
        rep.click("#revise-quote")
        rep.fill("#line-0-discount", "15")
        rep.click("#save-draft")
        rep.click("#send-quote")

        contact.reload()
        html = contact.content()
        assert (text_of(html, "version-1-status"), text_of(html, "version-2-status")) == ("Superseded", "Open")
        assert text_of(html, "version-2-total") == "$24,940.00"
        assert table_rows(html, "version-2-lines")[0] == ["Enterprise, annual", "100", "$264.00", "15%",
                                                          "$22,440.00"]
        contact.check("#po-1")  # PO-7781, the account's active PO
        contact.click("#accept-quote")
        html = contact.content()
        assert (text_of(html, "quote-status"), text_of(html, "version-2-po")) == ("Accepted", "PO-7781")
        flash = text_of(html, "flash-1") or ""
        found = re.fullmatch(r"You accepted the quote\. Invoice (EP-\d{4}-\d{6}) was issued\.", flash)
        assert found, flash
        invoice = found.group(1)

        # The invoice, on the quote's terms (NET 45) with the PO, paid in part, then in full.
        contact.click("#nav-invoices")
        contact.click(f"#invoice-{invoice} a.invoice-link")
        html = contact.content()
        assert (text_of(html, "invoice-po"), text_of(html, "invoice-terms"), text_of(html, "invoice-total")) == (
            "PO-7781", "NET 45", "$24,940.00")
        assert text_of(html, "invoice-due") == (ep_world.today + dt.timedelta(days=45)).strftime("%B %-d, %Y")
        contact.click("#nav-invoices")
        contact.check(f"#choose-{invoice}")
        assert pay(contact, "10000.00") == (
            "We received your payment of $10,000.00. A receipt is on its way to your email.")
        contact.click("#back-to-invoices")
        assert text_of(contact.content(), f"state-{invoice}") == "Partially paid"
        contact.check(f"#choose-{invoice}")
        assert pay(contact) == "We received your payment of $14,940.00. A receipt is on its way to your email."
        contact.click("#back-to-invoices")
        assert text_of(contact.content(), f"state-{invoice}") == "Paid"

        # By subject: the rep's mails are addressed when the outbox sends them, so the change
        # request's may reach the Maildir after the acceptance has been made.
        mail = mail_with_subject(SimpleNamespace(maildir=ep_world.settings.maildir), "rita@vendor.test",
                                 "Quote QT-0001-2 was accepted")
        assert "PO-7781" in body(mail) and invoice in body(mail)
    finally:
        contact_context.close()
