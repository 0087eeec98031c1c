"""A member's change request in Chromium against the five real processes: Mark (a member of
Acme Online) asks for more seats, Olivia (its billing contact) is mailed and sees the request, approves it with
the preview, the invoice follows to the cent, and Mark's outcome mail reaches the Maildir.

Its own stack: the approval changes Acme's seats, which the other browser tests read."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from billing_common.mail import read_maildir
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.pages import text_of
from tests.stack import Stack

MARK = ("mark@acme.test", "Member-demo-2026!")
OLIVIA = ("olivia@acme.test", "Online-demo-2026!")


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory, database_url, redis_url) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    s = Stack(tmp_path_factory.mktemp("requests-stack"),
              database_url=database_url if TEST_DATABASE_URL else None,
              redis_url=redis_url if TEST_REDIS_URL else None).start()
    yield s
    assert s.stop() == 0, "the stack did not stop cleanly:\n" + s.log()[-5000:]


def sign_in(page, base, login, password):  # type: ignore[no-untyped-def]
    page.goto(f"{base}/sign-in")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()


def mail_to(stack: Stack, address: str, subject: str, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in read_maildir(stack.maildir, 50):
            if address in msg["To"] and msg["Subject"] == subject:
                return msg
        time.sleep(0.3)
    raise AssertionError(f"no mail to {address} with subject {subject!r}")


def test_a_member_asks_for_more_seats_and_the_contact_approves_it_with_the_preview(browser, own_stack):  # type: ignore[no-untyped-def]  # noqa: E501
    base = own_stack.billing_center
    mark = browser.new_context(locale="en-US").new_page()
    sign_in(mark, base, *MARK)
    assert text_of(mark.content(), "member-current-selection") == "Your account has Business, 10 seats, Monthly."
    mark.fill("#request-seats", "12")
    mark.fill("#request-note", "Two new hires start on Monday.")
    mark.click("#change-request-submit")
    mark.wait_for_selector("#my-requests")
    assert mark.locator("#my-requests .request-status").all_inner_texts() == ["Pending"]

    # The billing contact is told (identity's ListBillingContacts gives her address and language).
    arrived = mail_to(own_stack, "olivia@acme.test", "A member asks for a change to your subscription")
    arrived_body = arrived.get_body(preferencelist=("plain",)).get_content()
    assert "    Business, 12 seats, billed monthly\n" in arrived_body
    assert "Two new hires start on Monday." in arrived_body
    assert "mark@acme.test" in arrived["Reply-To"]

    olivia = browser.new_context(locale="en-US").new_page()
    sign_in(olivia, base, *OLIVIA)
    olivia.click("#nav-subscription")
    olivia.click("#pending-requests-link")
    olivia.locator("#pending-requests a").first.click()
    olivia.wait_for_selector("#preview-lines")
    review = olivia.content()
    assert text_of(review, "request-member") == "Mark Lee (mark@acme.test)"
    assert text_of(review, "request-target") == "Business, 12 seats, Monthly"
    assert text_of(review, "request-note") == "Two new hires start on Monday."
    amount_due = text_of(review, "amount-due")
    assert amount_due is not None and amount_due.startswith("$") and text_of(review, "preview-timing") == "Now"
    assert len(re.findall(r'class="line"', review)) == 2  # the credit and the charge
    olivia.click("#approve-button")
    olivia.wait_for_selector("#invoice-lines")
    invoice = olivia.content()
    assert text_of(invoice, "invoice-total") == amount_due
    olivia.click("#nav-subscription")
    assert text_of(olivia.content(), "seats") == "12"
    assert "pending-requests-notice" not in olivia.content()

    msg = mail_to(own_stack, "mark@acme.test", "Your change request was approved")
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "    Business, 12 seats, billed monthly\n" in body
    assert "It is in effect now; the invoice was paid with the account's card." in body
    mark.reload()
    assert mark.locator("#my-requests .request-status").all_inner_texts() == ["Approved"]
    mark.context.close()
    olivia.context.close()
