"""The Enterprise portal's invoicing in Chromium: paying two invoices in one payment, the
statement's aging, a PO flagged as expired on a new invoice.

Served from the app of tests/integration/web/enterprise_world.py (the REAL enterprise_portal
service, the fake identity) on a free port, not from the shared `make run` stack: these tests
issue and pay invoices, which would change what the stack's other tests read of Globex.
"""
from __future__ import annotations

import datetime as dt

from tests.e2e.test_portals_in_a_browser import sign_in
from tests.integration.web.enterprise_world import CONTACT, EnterpriseWorld
from tests.pages import table_rows, text_of


def fill_card(page) -> None:  # type: ignore[no-untyped-def]
    """Types the sandbox's always-succeeding test card into the payment's card form."""
    page.fill("#holder_name", "Ana Contadora")
    page.fill("#number", "4242 4242 4242 4242")
    page.fill("#exp_month", "12")
    page.fill("#exp_year", "2040")
    page.fill("#cvc", "123")


def test_two_invoices_paid_in_one_payment(page, portal: str, ep_world: EnterpriseWorld) -> None:  # type: ignore[no-untyped-def]
    a = ep_world.issue(120_000, days_ago=35).invoice
    b = ep_world.issue(30_050, days_ago=3).invoice
    sign_in(page, portal, *CONTACT)
    page.click("#nav-invoices")
    page.check(f"#choose-{a.number}")
    page.check(f"#choose-{b.number}")
    page.click("#pay-selected")
    assert page.input_value("#amount") == "1500.50"
    page.click("#preview-button")
    assert table_rows(page.content(), "allocation") == [
        [a.number, "$1,200.00", "$1,200.00", "$0.00"], [b.number, "$300.50", "$300.50", "$0.00"]]
    fill_card(page)
    page.click("#confirm-button")
    assert text_of(page.content(), "page-title") == "Thank you for your payment"
    assert text_of(page.content(), "payment-result") == (
        "We received your payment of $1,500.50. A receipt is on its way to your email.")
    page.click("#back-to-invoices")
    html = page.content()
    assert (text_of(html, f"state-{a.number}"), text_of(html, f"state-{b.number}")) == ("Paid", "Paid")


def test_the_statement_ages_what_is_owed(page, portal: str, ep_world: EnterpriseWorld) -> None:  # type: ignore[no-untyped-def]
    ep_world.issue(10_000, days_ago=130)  # due 100 days ago: over 90
    ep_world.issue(20_000, days_ago=70)  # due 40 days ago: 31-60
    ep_world.issue(30_000, days_ago=31)  # due yesterday: 1-30
    ep_world.issue(40_000)  # not yet due
    sign_in(page, portal, *CONTACT)
    page.click("#nav-statement")
    page.fill("#start", (ep_world.today - dt.timedelta(days=180)).isoformat())
    page.click("#period-button")
    html = page.content()
    assert table_rows(html, "aging") == [["$400.00", "$300.00", "$200.00", "$0.00", "$100.00", "$1,000.00"]]
    assert text_of(html, "closing-balance") == "$1,000.00"
    assert len(table_rows(html, "entries")) == 4


def test_a_po_flagged_as_expired_on_a_new_invoice(page, portal: str, ep_world: EnterpriseWorld) -> None:  # type: ignore[no-untyped-def]
    ep_world.po("PO-6120", 100_000, ep_world.today - dt.timedelta(days=400), ep_world.today - dt.timedelta(days=10))
    issued = ep_world.issue(25_000, po="PO-6120").invoice
    sign_in(page, portal, *CONTACT)
    page.click("#nav-purchase-orders")
    assert text_of(page.content(), "po-status-PO-6120") == "Expired"
    page.click("#nav-invoices")
    assert text_of(page.content(), f"flag-{issued.number}") == "Purchase order expired"
    page.click(f"#invoice-{issued.number} a.invoice-link")
    assert text_of(page.content(), "po-flag") == "This invoice was flagged when issued: Purchase order expired."
