"""Sign-in at the right door, hand-off from the wrong one, generic failures (S3), sign-out."""
from __future__ import annotations

import re

from tests.pages import attr_of, table_rows, text_of
from tests.unit.web.conftest import BC_URL, EBP_URL
from tests.unit.web.helpers import field_error, form_action, form_error, hidden, post_form, set_cookies, sign_in, text


def test_an_online_billing_contact_signs_in_at_the_billing_center_and_sees_the_subscription(bc):
    response = sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "bc_session" in set_cookies(response)
    page = bc.get("/")
    assert text_of(page, "where") == "You are signed in to the Billing Center for the account Acme Online."
    summary = ("plan-name", "seats", "interval", "status", "renewal-amount", "period-end")
    assert {name: text_of(page, name) for name in summary} == {
        "plan-name": "Business", "seats": "12", "interval": "Annual", "status": "Active",
        "renewal-amount": "$12,345.00", "period-end": "March 15, 2027"}


def test_an_enterprise_billing_contact_signs_in_at_the_enterprise_portal_and_sees_open_invoices(ebp):
    response = sign_in(ebp, "globex-billing", "Enterprise-demo-2026!")
    assert response.status_code == 302
    assert "ebp_session" in set_cookies(response)
    page = ebp.get("/")
    assert text_of(page, "where") == (
        "You are signed in to the Enterprise Billing Portal for the account Globex Corporation.")
    assert text_of(page, "open-count") == "3"
    assert text_of(page, "total-due") == "$42,500.75"


def test_the_user_id_can_also_be_the_email_address(ebp):
    assert sign_in(ebp, "ap@globex.test", "Enterprise-demo-2026!").status_code == 302


def test_an_enterprise_contact_at_the_billing_center_is_handed_over_to_the_enterprise_portal(bc, ebp, world):
    response = sign_in(bc, "globex-billing", "Enterprise-demo-2026!")
    assert response.status_code == 200
    page = text(response)
    assert text_of(page, "page-title") == "Your account is managed in the Enterprise Billing Portal"
    # The ticket is posted, never put in a URL; the form targets the other portal's /handoff.
    action = form_action(page, "handoff-form")
    assert action == f"{EBP_URL}/handoff"
    ticket = hidden(page, "ticket")
    assert ticket and ticket not in action
    assert re.search(r'src="/static/handoff\.[0-9a-f]{12}\.js"', page)
    assert text_of(page, "handoff-continue") == "Continue"
    assert "bc_session" not in set_cookies(response)
    # The other portal redeems it (no CSRF token: the single-use ticket is the secret).
    # Posted by the Billing Center's page: the browser names that origin.
    redeemed = ebp.post("/handoff", data={"ticket": ticket}, headers={"Origin": BC_URL})
    assert redeemed.status_code == 302 and redeemed.headers["Location"] == "/"
    assert "ebp_session" in set_cookies(redeemed)
    assert text_of(ebp.get("/"), "account-name") == "Globex Corporation"
    # Single use: the same ticket again only leads to the sign-in page.
    again = ebp.application.test_client().post("/handoff", data={"ticket": ticket},
                                               headers={"Origin": BC_URL})
    assert again.status_code == 302 and again.headers["Location"] == "/sign-in"


def test_an_online_contact_at_the_enterprise_portal_is_handed_over_to_the_billing_center(bc, ebp):
    page = text(sign_in(ebp, "olivia@acme.test", "Online-demo-2026!"))
    assert text_of(page, "page-title") == "Your account is managed in the Billing Center"
    assert form_action(page, "handoff-form") == "http://bc.localtest:8080/handoff"
    redeemed = bc.post("/handoff", data={"ticket": hidden(page, "ticket")}, headers={"Origin": EBP_URL})
    assert redeemed.status_code == 302
    assert text_of(bc.get("/"), "account-name") == "Acme Online"


def test_a_ticket_for_one_portal_cannot_be_redeemed_at_the_other(bc, ebp):
    ticket = hidden(text(sign_in(bc, "globex-billing", "Enterprise-demo-2026!")), "ticket")
    refused = bc.post("/handoff", data={"ticket": ticket}, headers={"Origin": EBP_URL})
    assert refused.status_code == 302 and refused.headers["Location"] == "/sign-in"
    assert "bc_session" not in set_cookies(refused)


def test_a_malformed_ticket_is_refused_without_asking_identity(ebp, world):
    response = ebp.post("/handoff", data={"ticket": "x" * 2000}, headers={"Origin": BC_URL})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert "RedeemHandoffTicket" not in world.identity.calls


def test_every_sign_in_failure_reads_the_same(ebp, bc):
    answers = [
        sign_in(ebp, "nobody@nowhere.test", "Whatever-2026!"),       # unknown user ID
        sign_in(ebp, "globex-billing", "wrong-password"),            # wrong password
        sign_in(ebp, "carlos@globex.test", "No-password-yet-2026"),  # no password set yet
        sign_in(ebp, "mark@acme.test", "Member-demo-2026!"),         # not a billing contact here
        sign_in(ebp, "erin@globex.test", "Member-demo-2026!"),       # a member of this very kind of account
    ]
    bodies = {a.status_code for a in answers}
    assert bodies == {200}
    for answer in answers:
        page = text(answer)
        assert form_error(page) == "Invalid user ID/password"
        assert "ebp_session" not in set_cookies(answer)
    # Nothing but the CSRF token differs between the pages.
    import re

    stripped = {re.sub(r'value="[^"]*"', "", text(a)) for a in answers}
    assert len(stripped) == 1


def test_an_impossible_user_id_is_refused_locally_as_an_invalid_user_id(ebp, world):
    before = list(world.identity.calls)
    response = sign_in(ebp, "no spaces allowed!", "whatever-2026")
    assert response.status_code == 400
    assert field_error(text(response), "login") == "Invalid user ID"
    assert "Invalid user ID/password" not in (form_error(text(response)) or "")
    assert world.identity.calls == before  # identity was never asked


def test_too_many_attempts_tells_how_long_to_wait(bc, world):
    world.identity.rate_limited["Authenticate"] = 600
    response = sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    assert response.status_code == 429
    assert form_error(text(response)) == "Too many attempts. Try again in 10 minutes."


def test_a_busy_identity_gets_the_form_back_asking_to_retry_in_seconds(bc, world):
    world.identity.busy.add("Authenticate")
    response = sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    assert response.status_code == 503
    assert form_error(text(response)) == "Too many people are signing in right now. Try again in a few seconds."
    assert attr_of(response, "password", "name") == "password"
    world.identity.busy.clear()
    assert sign_in(bc, "olivia@acme.test", "Online-demo-2026!").status_code == 302


def test_a_signed_in_user_who_opens_sign_in_goes_home(bc):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    response = bc.get("/sign-in")
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_signed_out_pages_redirect_to_sign_in(bc):
    for path in ("/", "/billing-contacts", "/account/password"):
        response = bc.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/sign-in", path


def test_sign_out_revokes_the_session_and_the_old_cookie_is_refused(bc, world):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    token = bc.get_cookie("bc_session").value
    response = post_form(bc, "/", {}, action="/sign-out")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    cookies = set_cookies(response)
    assert cookies["bc_session"]["value"] == "" and token not in world.identity.sessions
    assert text_of(bc.get("/sign-in"), "flash-1") == "You have been signed out."
    # Replaying the old cookie: back to sign-in, no data.
    bc.set_cookie("bc_session", token)
    replay = bc.get("/")
    assert replay.status_code == 302 and replay.headers["Location"] == "/sign-in"


def test_a_rep_lands_on_the_accounts_they_serve(ebp):
    assert sign_in(ebp, "rita.rep", "Rep-demo-2026!").status_code == 302
    page = ebp.get("/")
    assert text_of(page, "page-title") == "Accounts you serve"
    assert text_of(page, "where") == "You are signed in to the Enterprise Billing Portal as a representative."
    assert table_rows(page, "rep-accounts") == [
        ["Globex Corporation", "Corporate", "USD", "Active", "Billing contacts", "Quotes"],
        ["Initech", "Corporate", "BRL", "Active", "Billing contacts", "Quotes"]]


def test_a_rep_at_the_billing_center_is_handed_to_the_enterprise_portal(bc):
    page = text(sign_in(bc, "rita.rep", "Rep-demo-2026!"))
    assert form_action(page, "handoff-form") == f"{EBP_URL}/handoff"


def test_an_online_account_without_subscription_says_so(bc, world):
    world.online.subscriptions.clear()
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    page = bc.get("/")
    assert text_of(page, "no-subscription") == "This account has no subscription yet."
    assert text_of(page, "subscription-summary") is None
