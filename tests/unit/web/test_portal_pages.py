"""The member page, billing contacts, password pages, help and Customer Care."""
from __future__ import annotations

from tests.pages import attr_of, table_rows, text_of, texts_of_class
from tests.unit.web import fakes
from tests.unit.web.helpers import csrf_from, field_error, form_error, post_form, sign_in, text

RESET_SENT = ("If this user ID belongs to a billing contact, we have sent a link to the email address "
              "on file. It expires in 30 minutes.")


def test_a_member_sees_the_billing_administrators_names_and_emails(bc):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!")
    page = bc.get("/")
    assert text_of(page, "contact-admin-message") == (
        "Contact your billing administrator (Olivia Ortega, olivia@acme.test) to make changes to "
        "your account's product or license")
    assert text_of(page, "contact-admin-submit") == "Send email to billing administrator"
    assert attr_of(page, "note", "name") == "note"


def test_the_member_message_lists_every_billing_contact_by_name(bc):
    # A member of an enterprise account belongs to the Billing Center too (README "Decisions").
    sign_in(bc, "erin@globex.test", "Member-demo-2026!")
    page = bc.get("/")
    assert text_of(page, "contact-admin-message") == (
        "Contact your billing administrator (Carlos Silva, carlos@globex.test; Globex Accounts Payable, "
        "ap@globex.test) to make changes to your account's product or license")
    assert texts_of_class(page, "contact-name") == ["Carlos Silva", "Globex Accounts Payable"]


def test_a_member_mails_the_billing_administrator_with_an_optional_note(bc, world):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!")
    response = post_form(bc, "/", {"note": "Please add two seats."}, action="/contact-billing-admin")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert world.identity.admin_mails == [("u-mark", "Please add two seats.")]
    assert text_of(bc.get("/"), "flash-1") == "Your message was sent to your billing administrator."
    post_form(bc, "/", {}, action="/contact-billing-admin")
    assert world.identity.admin_mails[-1] == ("u-mark", "")


def test_a_too_long_note_is_refused_naming_the_field(bc, world):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!")
    response = post_form(bc, "/", {"note": "x" * 501}, action="/contact-billing-admin")
    assert response.status_code == 400
    assert field_error(text(response), "note") == "Note (optional) is too long (at most 500 characters)."
    assert world.identity.admin_mails == []


def test_mailing_the_administrator_too_often_says_when_to_try_again(bc, world):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!")
    world.identity.rate_limited["ContactBillingAdministrator"] = 3600
    response = post_form(bc, "/", {"note": "again"}, action="/contact-billing-admin")
    assert response.status_code == 429
    assert form_error(text(response)) == "Too many attempts. Try again in 60 minutes."


def test_a_sent_message_only_redirects_without_asking_identity_for_the_account(bc, world):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!")
    token = csrf_from(text(bc.get("/")))
    world.identity.calls.clear()
    response = bc.post("/contact-billing-admin", data={"csrf_token": token, "note": "Two seats."})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "ContactBillingAdministrator" in world.identity.calls
    assert "GetAccount" not in world.identity.calls


def test_a_refused_message_shows_the_form_again_with_the_billing_administrators(bc, world):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!")
    refused_here = post_form(bc, "/", {"note": "x" * 501}, action="/contact-billing-admin")
    world.identity.rate_limited["ContactBillingAdministrator"] = 3600
    refused_by_identity = post_form(bc, "/", {"note": "again"}, action="/contact-billing-admin")
    for response, status in ((refused_here, 400), (refused_by_identity, 429)):
        assert response.status_code == status
        assert text_of(response, "contact-admin-message") == (
            "Contact your billing administrator (Olivia Ortega, olivia@acme.test) to make changes to "
            "your account's product or license")
        assert text_of(response, "contact-admin-form") is not None


def test_a_refused_message_whose_account_cannot_be_read_gets_the_error_page_of_that_failure(bc, world):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!")
    token = csrf_from(text(bc.get("/")))
    world.identity.rate_limited["ContactBillingAdministrator"] = 3600
    world.identity.rate_limited["GetAccount"] = 120
    response = bc.post("/contact-billing-admin", data={"csrf_token": token, "note": "again"})
    assert response.status_code == 429
    assert text_of(response, "error-message") == "Too many attempts. Try again in 2 minutes."
    assert text_of(response, "contact-admin-form") is None


def test_a_billing_contact_cannot_use_the_member_form(bc, world):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    response = post_form(bc, "/", {"note": "x"}, action="/contact-billing-admin")
    assert response.status_code == 403 and world.identity.admin_mails == []


def test_every_signed_in_user_sees_who_the_billing_contacts_are(bc, ebp):
    sign_in(bc, "mark@acme.test", "Member-demo-2026!")
    page = bc.get("/billing-contacts")
    assert text_of(page, "page-title") == "Who is my account's billing contact?"
    assert table_rows(page, "billing-contacts") == [["Olivia Ortega", "olivia@acme.test"]]
    sign_in(ebp, "rita.rep", "Rep-demo-2026!")
    assert text_of(ebp.get("/billing-contacts"), "rep-no-account") == (
        "Representatives have no account of their own. The accounts you serve are on the home page.")


def test_the_header_shows_portal_user_and_account_and_a_sign_out_button(ebp):
    sign_in(ebp, "globex-billing", "Enterprise-demo-2026!")
    page = ebp.get("/")
    assert text_of(page, "portal-name") == "Enterprise Billing Portal"
    assert (text_of(page, "user-name"), text_of(page, "user-login"), text_of(page, "account-name")) == (
        "Globex Accounts Payable", "globex-billing", "Globex Corporation")
    assert text_of(page, "sign-out") == "Sign out" and text_of(page, "language-form") is not None


def test_reset_request_answers_the_same_whether_or_not_the_user_exists(bc, world):
    known = post_form(bc, "/reset", {"login": "olivia@acme.test"})
    unknown = post_form(bc, "/reset", {"login": "nobody@nowhere.test"})
    assert known.status_code == unknown.status_code == 200
    assert text_of(known, "reset-sent") == text_of(unknown, "reset-sent") == RESET_SENT
    assert world.identity.reset_requests == [("olivia@acme.test", 1), ("nobody@nowhere.test", 1)]


def test_the_reset_link_sets_a_password_once_and_does_not_sign_in(ebp, world):
    token = world.identity.issue_reset_token("carlos@globex.test")
    page = ebp.get(f"/reset/{token}")
    assert attr_of(page, "new_password", "name") == "new_password"
    assert attr_of(page, "confirm_password", "name") == "confirm_password"
    assert text_of(page, "password-rules") == "At least 8 characters. Common passwords are refused."
    done = post_form(ebp, f"/reset/{token}", {"new_password": "Carlos-new-2026!",
                                              "confirm_password": "Carlos-new-2026!"})
    assert done.status_code == 200
    assert text_of(done, "reset-done") == "Your password is set. You can now sign in."
    assert "ebp_session" not in done.headers.get("Set-Cookie", "")
    used = ebp.get(f"/reset/{token}")
    assert used.status_code == 404
    assert text_of(used, "reset-invalid") == "This link is invalid, expired or already used."
    assert attr_of(used, "request-new-link", "href") == "/reset"
    assert sign_in(ebp, "carlos@globex.test", "Carlos-new-2026!").status_code == 302


def test_a_reset_link_used_between_opening_and_posting_shows_the_invalid_page(ebp, world):
    token = world.identity.issue_reset_token("carlos@globex.test")
    csrf_page = ebp.get(f"/reset/{token}")
    world.identity.reset_tokens.clear()
    from tests.unit.web.helpers import csrf_from

    response = ebp.post(f"/reset/{token}", data={"csrf_token": csrf_from(text(csrf_page)),
                                                 "new_password": "Carlos-new-2026!",
                                                 "confirm_password": "Carlos-new-2026!"})
    assert response.status_code == 404
    assert text_of(response, "reset-invalid") == "This link is invalid, expired or already used."


def test_reset_form_names_the_field_for_short_mismatched_or_common_passwords(ebp, world):
    token = world.identity.issue_reset_token("carlos@globex.test")
    short = post_form(ebp, f"/reset/{token}", {"new_password": "short", "confirm_password": "short"})
    assert short.status_code == 400
    assert field_error(text(short), "new_password") == "The new password must have at least 8 characters."
    mismatch = post_form(ebp, f"/reset/{token}", {"new_password": "Long-enough-1",
                                                  "confirm_password": "Long-enough-2"})
    assert field_error(text(mismatch), "confirm_password") == "The two passwords do not match."
    common = post_form(ebp, f"/reset/{token}", {"new_password": "password123",
                                                "confirm_password": "password123"})
    assert common.status_code == 400
    assert field_error(text(common), "new_password") == (
        "This password is one of the most common ones, so it is easy to guess. Choose another.")
    common_pt = post_form(ebp, f"/reset/{token}", {"new_password": "password123",
                                                   "confirm_password": "password123"},
                          headers={"Accept-Language": "pt-BR"})
    assert field_error(text(common_pt), "new_password") == (
        "Esta senha é uma das mais comuns, por isso é fácil de adivinhar. Escolha outra.")


def test_change_password_needs_the_current_one(bc, world):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    wrong = post_form(bc, "/account/password", {"current_password": "nope-nope-nope",
                                                "new_password": "Olivia-new-2026!",
                                                "confirm_password": "Olivia-new-2026!"})
    assert field_error(text(wrong), "current_password") == "The current password is not correct."
    assert bc.get("/").status_code == 200  # still signed in
    done = post_form(bc, "/account/password", {"current_password": "Online-demo-2026!",
                                               "new_password": "Olivia-new-2026!",
                                               "confirm_password": "Olivia-new-2026!"})
    assert done.status_code == 302
    assert text_of(bc.get("/"), "flash-1") == "Your password has been changed."
    assert world.identity.users["u-olivia"].password == "Olivia-new-2026!"


def test_a_session_that_ends_while_changing_the_password_signs_in_again(bc, bc_app):
    # The session is checked as the page opens; if identity then refuses it at ChangePassword
    # (it ended in between), that is not a wrong current password.
    import grpc
    import pytest

    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    identity = bc_app.extensions["portal"].identity
    with pytest.raises(grpc.RpcError) as ended:
        identity.validate_session("x" * 43)  # the real refusal of a session that is gone

    def session_gone(*_args):  # type: ignore[no-untyped-def]
        raise ended.value

    identity.change_password = session_gone
    response = post_form(bc, "/account/password", {"current_password": "Online-demo-2026!",
                                                   "new_password": "Olivia-new-2026!",
                                                   "confirm_password": "Olivia-new-2026!"})
    assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")


def test_customer_care_works_signed_out(ebp, world):
    page = ebp.get("/help/contact")
    for name in ("name", "email", "subject", "message"):
        assert attr_of(page, name, "name") == name, name
    response = post_form(ebp, "/help/contact", {"name": "Ana", "email": "ana@example.test",
                                                "subject": "Invoice", "message": "Line one\nLine two"})
    assert response.status_code == 200
    assert text_of(response, "customer-care-sent") == (
        "Thank you. Your message was sent to Customer Care, who will answer by email.")
    assert world.identity.care_mails == [{"name": "Ana", "email": "ana@example.test",
                                          "subject": "Invoice", "message": "Line one\nLine two"}]


def test_customer_care_is_prefilled_for_a_signed_in_user(bc):
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    page = bc.get("/help/contact")
    assert (attr_of(page, "name", "value"), attr_of(page, "email", "value")) == (
        "Olivia Ortega", "olivia@acme.test")
    assert attr_of(page, "subject", "value") in (None, "")


def test_customer_care_rate_limit_and_server_side_field_errors(bc, world):
    # A zero-width space in an address: the form applies identity's own rule (billing_common.limits).
    bad_email = post_form(bc, "/help/contact", {"name": "Ana", "email": "ana\u200b@example.test",
                                                "subject": "S", "message": "M"})
    assert "ContactCustomerCare" not in world.identity.calls and world.identity.care_mails == []
    assert bad_email.status_code == 400
    assert field_error(text(bad_email), "email") == "Enter a valid email address."
    # Whatever identity still refuses (a newer rule mid-deploy) is shown on the field it names.
    from billing_common.errors import InvalidArgument

    world.identity.refusals["ContactCustomerCare"] = InvalidArgument("Enter a valid email address.", field="email")
    refused = post_form(bc, "/help/contact", {"name": "Ana", "email": "ana@example.test",
                                              "subject": "S", "message": "M"})
    assert refused.status_code == 400
    assert field_error(text(refused), "email") == "Enter a valid email address."
    del world.identity.refusals["ContactCustomerCare"]
    world.identity.rate_limited["ContactCustomerCare"] = 60
    limited = post_form(bc, "/help/contact", {"name": "Ana", "email": "ana@example.test",
                                              "subject": "S", "message": "M"})
    assert limited.status_code == 429
    assert form_error(text(limited)) == "Too many attempts. Try again in 1 minute."


def test_sign_in_pages_have_the_seeds_having_trouble_help(bc, ebp):
    for client in (bc, ebp):
        page = client.get("/sign-in")
        assert text_of(page, "having-trouble-title") == "Having trouble?"
        assert (text_of(page, "reset-link"), attr_of(page, "reset-link", "href")) == (
            "Reset/Create your password", "/reset")
        assert (text_of(page, "customer-care-link"), attr_of(page, "customer-care-link", "href")) == (
            "Customer Care", "/help/contact")


def test_the_enterprise_sign_in_explains_the_user_id_and_both_failure_causes(ebp, bc):
    page = ebp.get("/sign-in")
    assert text_of(page, "user-id-explained") == (
        'Note: a billing contact is given a user ID (in the form of a "user name" or an "email address", '
        "found on an invoice sent by email) that lets them sign in to the Enterprise Billing Portal.")
    assert text_of(page, "cause-not-contact") == 'You are not a billing contact of your "corporate" account.'
    assert text_of(page, "cause-wrong-credentials") == (
        'You are a billing contact of your "corporate" account, but tried to sign in with the wrong user ID '
        "and/or password. If you forgot the password, click Reset/Create your password, enter the user ID of "
        "your billing-contact account (found on an invoice sent by email) and click Submit to receive a link "
        "by email at your billing contact's email address.")
    assert "found on an invoice sent by email" not in text(bc.get("/sign-in"))


def test_the_help_page_answers_the_seeds_questions(bc, ebp):
    for client in (bc, ebp):
        page = text(client.get("/help"))
        for question in ("What is the difference between online and corporate accounts?",
                         "Why can't I change my subscription plan or billing information online?",
                         "Who is my account's billing contact?",
                         "How do I make an online payment through the Enterprise Billing Portal?"):
            assert question in page
    assert "view and print the billing history of every renewal" in text(bc.get("/help"))
    assert "edit Purchase Orders" in text(ebp.get("/help"))


def test_every_page_has_a_title_and_one_h1(bc, world):
    token = world.identity.issue_reset_token("olivia@acme.test")
    pages = ["/sign-in", "/reset", f"/reset/{token}", "/help", "/help/contact", "/nowhere"]
    for path in pages:
        page = text(bc.get(path))
        assert page.count("<h1") == 1, path
        title = page.split("<title>")[1].split("</title>")[0]
        assert len(title) > len(" · Billing Center"), path
    sign_in(bc, "olivia@acme.test", "Online-demo-2026!")
    for path in ("/", "/billing-contacts", "/account/password"):
        assert text(bc.get(path)).count("<h1") == 1, path


def test_unknown_pages_and_methods_get_templated_error_pages(bc):
    missing = bc.get("/no/such/page")
    assert missing.status_code == 404 and text_of(missing, "error-title") == "Page not found"
    wrong = bc.put("/sign-in")
    assert wrong.status_code == 405 and text_of(wrong, "error-title") == "Not allowed"


def test_an_unexpected_error_is_a_templated_500_without_a_stack_trace(bc_app):
    backend = bc_app.extensions["portal"].backend

    def broken(account_id):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internals")

    backend.subscription_summary = broken
    client = bc_app.test_client()
    sign_in(client, "olivia@acme.test", "Online-demo-2026!")
    response = client.get("/")
    assert response.status_code == 500
    page = text(response)
    assert text_of(response, "error-message") == (
        "Something went wrong on our side. Please try again in a few minutes.")
    assert "Traceback" not in page and "secret internals" not in page and "Acme Online" not in page


def test_each_door_explains_itself_on_the_help_and_sign_in_pages(bc, ebp):
    bc_help, ebp_help = text(bc.get("/help")), text(ebp.get("/help"))
    assert "How do I sign in to the Billing Center?" in bc_help
    assert "What does the Enterprise Billing Portal let me do?" not in bc_help
    assert "What does the Enterprise Billing Portal let me do?" in ebp_help
    assert "How do I sign in to the Billing Center?" not in ebp_help
    bc_sign_in, ebp_sign_in = text(bc.get("/sign-in")), text(ebp.get("/sign-in"))
    assert 'id="member-message-explained"' in bc_sign_in and 'id="user-id-explained"' not in bc_sign_in
    assert 'id="user-id-explained"' in ebp_sign_in and 'id="member-message-explained"' not in ebp_sign_in


def test_a_session_of_a_role_a_door_does_not_serve_gets_the_403_page_not_another_doors_page(bc, ebp, world):
    # identity never issues these (reps belong to the Enterprise portal, members to the Billing
    # Center); if one ever arrived, the landing page must not guess.
    fake = world.identity
    rep_at_bc = fake.open_session(fake.users["u-rita"], fakes.BC).token
    member_at_ebp = fake.open_session(fake.users["u-erin"], fakes.EBP).token
    bc.set_cookie("bc_session", rep_at_bc)
    ebp.set_cookie("ebp_session", member_at_ebp)
    for client in (bc, ebp):
        page = client.get("/")
        assert page.status_code == 403
        assert text_of(page, "error-title") == "Not allowed"
        assert text_of(page, "error-message") == "Your user ID cannot use this page."
