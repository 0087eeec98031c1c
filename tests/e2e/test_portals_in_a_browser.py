"""The portals as a person uses them: Chromium against the five real processes."""
from __future__ import annotations

import re
import time

import pytest

from billing_common.mail import read_maildir
from tests.pages import table_rows, text_of

OLIVIA = ("olivia@acme.test", "Online-demo-2026!")
MARK = ("mark@acme.test", "Member-demo-2026!")
GLOBEX = ("globex-billing", "Enterprise-demo-2026!")
RITA = ("rita.rep", "Rep-demo-2026!")


def sign_in(page, base, login, password):  # type: ignore[no-untyped-def]
    page.goto(f"{base}/sign-in")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()


def mail_to(stack, address, after, timeout=15):  # type: ignore[no-untyped-def]
    """The newest message to `address` written after `after` (the outbox polls each second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in read_maildir(stack.maildir, 50):
            if address in msg["To"] and msg["Date"] and msg["Date"].datetime.timestamp() >= after - 1:
                return msg
        time.sleep(0.3)
    raise AssertionError(f"no mail to {address}")


def body(msg) -> str:  # type: ignore[no-untyped-def]
    return msg.get_body(preferencelist=("plain",)).get_content()


def test_a_billing_contact_signs_in_at_the_billing_center_and_sees_the_subscription(page, stack):
    sign_in(page, stack.billing_center, *OLIVIA)
    assert page.url.rstrip("/") == stack.billing_center
    html = page.content()
    assert (text_of(html, "portal-name"), text_of(html, "account-name")) == ("Billing Center", "Acme Online")
    assert (text_of(html, "plan-name"), text_of(html, "seats"), text_of(html, "renewal-amount")) == (
        "Business", "10", "$160.00")


def test_an_enterprise_contact_at_the_billing_center_is_handed_over_already_signed_in(page, stack):
    sign_in(page, stack.billing_center, *GLOBEX)
    page.wait_for_url(f"{stack.enterprise}/**")
    html = page.content()
    assert (text_of(html, "portal-name"), text_of(html, "account-name")) == (
        "Enterprise Billing Portal", "Globex Corporation")
    assert (text_of(html, "open-count"), text_of(html, "total-due")) == ("2", "$9,150.50")
    assert "ticket" not in page.url


def test_an_online_contact_at_the_enterprise_portal_is_handed_over_to_the_billing_center(page, stack):
    sign_in(page, stack.enterprise, *OLIVIA)
    page.wait_for_url(f"{stack.billing_center}/**")
    assert text_of(page.content(), "account-name") == "Acme Online"


def test_a_rep_lands_on_the_accounts_they_serve(page, stack):
    sign_in(page, stack.enterprise, *RITA)
    assert table_rows(page.content(), "rep-accounts") == [
        ["Globex Corporation", "Corporate", "USD", "Active", "Billing contacts", "Quotes"]]


def test_a_member_is_told_who_the_billing_contact_is_and_can_email_them(page, stack):
    sign_in(page, stack.billing_center, *MARK)
    assert text_of(page.content(), "contact-admin-message") == (
        "Contact your billing administrator (Olivia Martin, olivia@acme.test) to make changes to your "
        "account's product or license")
    started = time.time()
    page.fill("textarea[name=note]", "Please add two seats for the new hires.")
    page.get_by_role("button", name="Send email to billing administrator").click()
    page.wait_for_load_state()
    assert text_of(page.content(), "flash-1") == "Your message was sent to your billing administrator."
    msg = mail_to(stack, "olivia@acme.test", started)
    assert "Mark Lee" in body(msg) and "two seats for the new hires" in body(msg)
    assert "mark@acme.test" in msg["Reply-To"]


def test_every_signed_in_user_can_see_who_the_billing_contacts_are(page, stack):
    sign_in(page, stack.enterprise, *GLOBEX)
    page.goto(f"{stack.enterprise}/billing-contacts")
    assert table_rows(page.content(), "billing-contacts") == [["Carlos Mendes", "carlos@globex.test"],
                                                               ["Globex Accounts Payable", "ap@globex.test"]]


def test_reset_creates_a_first_password_from_the_mailed_link_which_works_once(page, stack):
    started = time.time()
    page.goto(f"{stack.enterprise}/reset")
    page.fill("input[name=login]", "carlos@globex.test")
    page.locator("form:has(input[name=login]) button[type=submit]").click()
    page.wait_for_load_state()
    assert text_of(page.content(), "reset-sent") == (
        "If this user ID belongs to a billing contact, we have sent a link to the email address on file. "
        "It expires in 30 minutes.")
    link = re.search(r"^(http\S+/reset/\S+)$", body(mail_to(stack, "carlos@globex.test", started)), re.M).group(1)
    assert link.startswith(stack.enterprise)

    page.goto(link)
    new_password = "Carlos-first-2026!"
    page.fill("input[name=new_password]", new_password)
    page.fill("input[name=confirm_password]", new_password)
    page.locator("form:has(input[name=new_password]) button[type=submit]").click()
    page.wait_for_load_state()
    assert text_of(page.content(), "reset-done") == "Your password is set. You can now sign in."

    sign_in(page, stack.enterprise, "carlos@globex.test", new_password)
    assert text_of(page.content(), "user-name") == "Carlos Mendes"

    page.goto(link)
    assert text_of(page.content(), "reset-invalid") == "This link is invalid, expired or already used."


def test_after_signing_out_the_back_button_shows_no_account_data(page, stack):
    sign_in(page, stack.billing_center, *OLIVIA)
    assert text_of(page.content(), "account-name") == "Acme Online"
    page.click("#sign-out")
    page.wait_for_load_state()
    assert text_of(page.content(), "flash-1") == "You have been signed out."
    page.go_back()
    page.wait_for_load_state()
    assert "Acme Online" not in page.inner_text("body")
    page.goto(f"{stack.billing_center}/")
    assert "/sign-in" in page.url


def test_the_enterprise_sign_in_speaks_the_seeds_brazilian_portuguese(page_pt, stack):
    page_pt.goto(f"{stack.enterprise}/sign-in")
    html = page_pt.content()
    assert text_of(html, "portal-name") == "Portal de Cobrança Corporativa"
    assert text_of(html, "reset-link") == "Redefinir/Criar sua senha"
    assert text_of(html, "having-trouble-title") == "Está tendo problemas?"
    assert text_of(html, "cause-not-contact") == (
        "Você não é um contato de cobrança da sua conta \"corporativa\".")
    sign_in(page_pt, stack.enterprise, "globex-billing", "wrong-password-123")
    assert text_of(page_pt.content(), "form-error") == "ID/senha de usuário inválido"
    sign_in(page_pt, stack.enterprise, "not a user id!", "whatever-123")
    assert text_of(page_pt.content(), "login-error") == "ID de usuário inválido"


def test_a_member_reads_the_contact_message_word_for_word_in_portuguese(page_pt, stack):
    sign_in(page_pt, stack.billing_center, *MARK)
    html = page_pt.content()
    assert text_of(html, "contact-admin-message") == (
        "Contate seu administrador de cobrança (Olivia Martin, olivia@acme.test) para fazer alterações no "
        "produto ou licença da sua conta")
    assert text_of(html, "contact-admin-submit") == "Enviar email para o administrador de cobrança"


def test_a_post_without_the_csrf_token_is_refused(page, stack):
    reply = page.request.post(f"{stack.billing_center}/sign-in",
                              form={"login": OLIVIA[0], "password": OLIVIA[1]}, max_redirects=0)
    assert reply.status == 400
    assert "bc_session" not in reply.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("login", "password", "expected"),
    [
        ("", "", "User ID is required."),
        ("x" * 5000, "whatever-123", "User ID is too long (at most 254 characters)."),
        ("olivia\x07@acme.test", "Online-demo-2026!", "User ID contains characters that are not allowed."),
    ],
    ids=["empty", "very long", "control character"],
)
def test_bad_sign_in_input_gets_a_clear_message_and_never_a_500(page, stack, login, password, expected):
    page.goto(f"{stack.billing_center}/sign-in")
    # Past the browser's own checks (required, maxlength): the server must judge the input.
    page.evaluate("document.querySelectorAll('input').forEach(i => {i.removeAttribute('required');"
                  " i.removeAttribute('maxlength')})")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        page.locator("form:has(input[name=password]) button[type=submit]").click()
    assert response.value.status < 500
    assert page.locator("#login-error").inner_text().strip() == expected
