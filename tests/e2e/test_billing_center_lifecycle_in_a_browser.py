"""The Billing Center's subscription lifecycle in Chromium: a plan change previewed and invoiced
to the cent, a declined upgrade that changes nothing, each test card's decline message, a
lapsed subscription reactivated, a renewal that fails, is retried and recovers after a card
update.

Served from the app of tests/integration/web/billing_center_world.py (the REAL online_billing
service with a clock the test moves, the fake identity) on a free port, not from the shared
`make run` stack: these tests move time and renew, which the stack's other tests must not see.
The billing run is the one `python -m services.online_billing renew` and the server's schedule
run (entrypoints.billing_run.run_once), as of the moved clock.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from billing_common.clock import utc
from services.online_billing import bootstrap
from services.online_billing.entrypoints.billing_run import run_once
from tests.integration.web.billing_center_world import BillingWorld, bc_world  # noqa: F401
from tests.pages import text_of

OLIVIA = ("olivia@acme.test", "Online-demo-2026!")
DAY = 86_400


@pytest.fixture
def center(bc_world: BillingWorld) -> Iterator[str]:  # noqa: F811
    server = make_server("127.0.0.1", 0, bc_world.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def sign_in(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/sign-in")
    page.fill("input[name=login]", OLIVIA[0])
    page.fill("input[name=password]", OLIVIA[1])
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()


def add_card(page, base: str, number: str, make_default: bool = False) -> str:  # type: ignore[no-untyped-def]
    """Fills the card form and answers the page's error (form or number field), or "" when added."""
    page.goto(f"{base}/payment-methods/add")
    page.fill("#holder_name", "Olivia Ortega")
    page.fill("#number", number)
    page.fill("#exp_month", "12")
    page.fill("#exp_year", "2031")
    page.fill("#cvc", "123")
    if make_default:
        page.check("#make_default")
    page.click("#add-card-button")
    page.wait_for_load_state()
    html = page.content()
    return text_of(html, "number-error") or text_of(html, "form-error") or ""


def renew(bc_world: BillingWorld):  # type: ignore[no-untyped-def]  # noqa: F811
    deps = bootstrap.build_dependencies(bc_world.online_settings, gateway_settings=bc_world.gateway,
                                        clock=bc_world.clock)
    try:
        return run_once(deps, bc_world.online_settings, utc(bc_world.clock.now()), 1)
    finally:
        deps.close()


def invoice_rows(page, base: str) -> int:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/invoices")
    return len(re.findall(r'href="/invoices/[0-9a-f-]+"', page.content()))


def test_a_plan_upgrade_is_previewed_then_invoiced_to_the_cent(page, center: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, center)
    page.goto(f"{center}/subscription")
    assert (text_of(page.content(), "plan-name"), text_of(page.content(), "seats")) == ("Business", "10")
    page.click("#change-subscription")
    page.check("#plan-enterprise")
    page.click("#preview-button")
    page.wait_for_selector("#preview-lines")
    preview = page.content()
    amount_due = text_of(preview, "amount-due")
    assert amount_due.startswith("$") and len(re.findall(r'class="line"', preview)) == 2
    assert text_of(preview, "preview-timing") == "Now"
    page.click("#confirm-button")
    page.wait_for_selector("#invoice-lines")
    invoice = page.content()
    assert text_of(invoice, "invoice-total") == amount_due and text_of(invoice, "invoice-status") == "Paid"
    page.goto(f"{center}/subscription")
    assert (text_of(page.content(), "plan-name"), text_of(page.content(), "seats")) == ("Enterprise", "10")


def test_a_declined_upgrade_shows_the_decline_and_changes_nothing(page, center: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, center)
    assert add_card(page, center, "4000 0000 0000 0341", make_default=True) == ""  # accepted when added
    invoices = invoice_rows(page, center)
    page.goto(f"{center}/subscription")
    page.click("#change-subscription")
    page.fill("#seats", "14")
    page.click("#preview-button")
    page.wait_for_selector("#preview-lines")
    page.click("#confirm-button")
    page.wait_for_selector("#form-error")
    assert text_of(page.content(), "form-error") == "Your card was declined."
    page.goto(f"{center}/subscription")
    html = page.content()
    assert (text_of(html, "plan-name"), text_of(html, "seats"), text_of(html, "status")) == (
        "Business", "10", "Active")
    assert invoice_rows(page, center) == invoices  # no invoice for a change that did not happen


@pytest.mark.parametrize(("number", "message"), [
    ("4000 0000 0000 0002", "Your card was declined."),
    ("4000 0000 0000 9995", "Your card has insufficient funds."),
    ("4000 0000 0000 0069", "Your card has expired."),
    ("4000 0000 0000 0127", "Your card's security code is incorrect."),
    ("4000 0000 0000 0119", "An error occurred while processing your card. Try again in a little bit."),
    ("4242 4242 4242 4241", "Your card number is invalid."),  # fails the Luhn check: no gateway call
    ("4111 1111 1111 1111", "This is a test system, so real cards are refused. Use one of the test card numbers."),
])
def test_each_test_card_shows_its_decline_message_and_adds_nothing(page, center: str, number: str,  # type: ignore[no-untyped-def]
                                                                    message: str) -> None:
    sign_in(page, center)
    assert add_card(page, center, number) == message
    assert page.input_value("#number") == ""  # never sent back (S18)
    page.goto(f"{center}/payment-methods")
    assert len(re.findall(r'id="card-', page.content())) == 1  # only the demo's card


def test_cancel_then_reactivate_after_it_lapsed_is_a_new_period_charged_now(page, center: str,  # type: ignore[no-untyped-def]
                                                                          bc_world: BillingWorld) -> None:  # noqa: F811
    sign_in(page, center)
    page.goto(f"{center}/subscription")
    page.fill("#reason", "Budget review")
    page.click("#cancel-button")
    page.wait_for_selector("#pending-cancellation")
    invoices = invoice_rows(page, center)
    bc_world.clock.advance(40 * DAY)  # past the end of the period: it lapsed
    renew(bc_world)  # the billing run renews nothing that was canceled
    page.goto(f"{center}/subscription")
    assert text_of(page.content(), "status") == "Canceled"
    assert invoice_rows(page, center) == invoices
    page.goto(f"{center}/subscription")
    page.click("#reactivate-button")
    page.wait_for_load_state()
    page.goto(f"{center}/subscription")
    assert text_of(page.content(), "status") == "Active"
    assert invoice_rows(page, center) == invoices + 1
    page.goto(f"{center}/invoices")
    assert page.content().count(">Reactivation<") == 1


def test_a_renewal_that_fails_is_retried_then_recovers_after_a_card_update(page, center: str,  # type: ignore[no-untyped-def]
                                                                         bc_world: BillingWorld) -> None:  # noqa: F811
    sign_in(page, center)
    assert add_card(page, center, "4000 0000 0000 0341", make_default=True) == ""
    bc_world.clock.advance(40 * DAY)
    first = renew(bc_world)
    assert first.failed == 1
    page.goto(f"{center}/subscription")
    assert text_of(page.content(), "status") == "Past due" and text_of(page.content(), "past-due")
    bc_world.clock.advance(DAY)  # the first retry of the dunning schedule: declined again
    assert renew(bc_world).retried == 1
    page.goto(f"{center}/subscription")
    assert text_of(page.content(), "status") == "Past due"
    # A new default card while past due is charged at once: the renewal recovers.
    assert add_card(page, center, "5555 5555 5555 4444", make_default=True) == ""
    page.goto(f"{center}/subscription")
    assert text_of(page.content(), "status") == "Active" and text_of(page.content(), "past-due") is None
    page.goto(f"{center}/invoices")
    assert ">Renewal<" in page.content()
