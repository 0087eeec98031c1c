"""The Enterprise portal's Billing contacts page and the rep console's handover approvals, against
the fake identity over real gRPC (CSRF on): what each page shows, each change, S13, S14, S17,
bad input naming the field, both languages."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.pages import table_rows, text_of, texts_of_class
from tests.unit.web.helpers import csrf_from, field_error, post_form, sign_in, text

PAGE = "/accounts/acc-globex/contacts"
GLOBEX = ("globex-billing", "Enterprise-demo-2026!")


def _sign_in_globex(ebp):
    sign_in(ebp, *GLOBEX)


def _age_sessions(world, minutes=16):
    for token in world.identity.session_opened:
        world.identity.session_opened[token] -= timedelta(minutes=minutes)


def _add(ebp, **fields):
    data = {"add-name": "Dana New", "add-email": "dana@globex.test", "add-login": "", "add-locale": "en", **fields}
    return post_form(ebp, PAGE, data, action=PAGE + "/add")


def test_a_contact_sees_the_accounts_contacts(ebp, world):
    _sign_in_globex(ebp)
    assert ebp.get("/contacts").headers["Location"].endswith(PAGE)
    page = ebp.get(PAGE)
    assert page.status_code == 200 and text_of(page, "page-title") == "Billing contacts"
    rows = table_rows(page, "contacts")
    assert [r[:4] for r in rows] == [
        ["Carlos Silva", "carlos@globex.test", "carlos@globex.test", ""],
        ["Globex Accounts Payable", "ap@globex.test", "globex-billing", ""],
    ]
    assert rows[0][4] == "Has not created a password yet" and rows[1][4].endswith("UTC")
    assert text_of(page, "no-handovers") == "No handover is waiting for approval."
    assert text_of(page, "nav-manage-contacts") == "Manage billing contacts"


def test_adding_a_contact_mails_them_a_create_password_link_and_notifies_everyone(ebp, world):
    _sign_in_globex(ebp)
    response = _add(ebp)
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)
    page = ebp.get(PAGE)
    assert text_of(page, "flash-1") == (
        "Dana New is now a billing contact. We mailed them a link to create their password.")
    assert [r[0] for r in table_rows(page, "contacts")] == ["Carlos Silva", "Dana New", "Globex Accounts Payable"]
    assert [(to, portal) for to, portal, _ in world.identity.sent_reset_links] == [("dana@globex.test", 2)]
    assert sorted(world.identity.contact_notices) == [
        ("ap@globex.test", "added"), ("carlos@globex.test", "added"), ("dana@globex.test", "added")]


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"add-name": ""}, "add-name", "Name is required."),
    ({"add-email": "not-an-email"}, "add-email", "Enter a valid email address."),
    ({"add-login": "bad id!"}, "add-login", "Invalid user ID"),
    ({"add-locale": "fr"}, "add-locale", "Choose English or Português (Brasil)."),
    ({"add-name": "x" * 500}, "add-name", "Name is too long (at most 100 characters)."),
    ({"add-name": "Bad\x07"}, "add-name", "Name contains characters that are not allowed."),
])
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(ebp, world, fields, field, message):
    _sign_in_globex(ebp)
    response = _add(ebp, **fields)
    assert response.status_code == 400
    assert field_error(text(response), field) == message
    assert world.identity.contact_notices == []


def test_a_taken_user_id_is_shown_on_the_field(ebp, world):
    _sign_in_globex(ebp)
    response = _add(ebp, **{"add-email": "olivia@acme.test"})
    assert response.status_code == 409
    assert field_error(text(response), "add-login") == "This user ID is already in use."


def test_s17_a_change_after_fifteen_minutes_asks_for_the_password_first(ebp, world):
    _sign_in_globex(ebp)
    token = csrf_from(ebp.get(PAGE).get_data(as_text=True))
    _age_sessions(world)
    response = ebp.post(PAGE + "/add", data={"csrf_token": token, "add-name": "Dana", "add-email": "d@g.test",
                                             "add-locale": "en"})
    assert response.status_code == 302 and "/confirm-password" in response.headers["Location"]
    assert world.identity.contact_notices == []
    page = ebp.get(response.headers["Location"])
    assert text_of(page, "reauth-reason") == (
        "For your security, payments and changes to billing contacts need a sign-in within the last 15 minutes. "
        "Enter your password to continue.")
    wrong = post_form(ebp, response.headers["Location"], {"password": "wrong-password", "next": PAGE},
                      action="/confirm-password")
    assert field_error(text(wrong), "password") == "The password is not correct."
    right = post_form(ebp, response.headers["Location"], {"password": GLOBEX[1], "next": PAGE},
                      action="/confirm-password")
    assert right.status_code == 302 and right.headers["Location"].endswith(PAGE)
    assert _add(ebp).status_code == 302


def test_primary_and_remove(ebp, world):
    _sign_in_globex(ebp)
    page = ebp.get(PAGE).get_data(as_text=True)
    response = ebp.post(PAGE + "/primary", data={"csrf_token": csrf_from(page), "user_id": "u-globex"})
    assert response.status_code == 302
    page = ebp.get(PAGE)
    assert [r[3] for r in table_rows(page, "contacts")] == ["", "Primary"]
    response = ebp.post(PAGE + "/remove", data={"csrf_token": csrf_from(text(page)), "user_id": "u-carlos"})
    assert response.status_code == 302
    assert [r[0] for r in table_rows(ebp.get(PAGE), "contacts")] == ["Globex Accounts Payable"]
    # The last one cannot go.
    response = ebp.post(PAGE + "/remove", data={"csrf_token": csrf_from(text(page)), "user_id": "u-globex"})
    assert response.status_code == 409
    assert text_of(response, "form-error") == "An account keeps at least one billing contact."


def test_removing_someone_who_is_not_a_contact_is_a_404_form_error(ebp, world):
    _sign_in_globex(ebp)
    token = csrf_from(ebp.get(PAGE).get_data(as_text=True))
    for user_id in ("u-erin", "u-olivia", "nobody", "x" * 500):
        response = ebp.post(PAGE + "/remove", data={"csrf_token": token, "user_id": user_id})
        assert response.status_code in (400, 404), user_id
    assert world.identity.contact_notices == []


def test_s13_another_accounts_contacts_page_is_a_404(ebp, world):
    _sign_in_globex(ebp)
    assert ebp.get("/accounts/acc-initech/contacts").status_code == 404
    assert ebp.get("/accounts/acc-acme/contacts").status_code == 404
    token = csrf_from(ebp.get(PAGE).get_data(as_text=True))
    response = ebp.post("/accounts/acc-initech/contacts/add", data={
        "csrf_token": token, "add-name": "Dana", "add-email": "dana@globex.test", "add-locale": "en"})
    assert response.status_code == 404


def test_s14_a_rep_reads_the_contacts_of_accounts_they_serve_but_does_not_change_them(ebp, world):
    sign_in(ebp, "rita.rep", "Rep-demo-2026!")
    page = ebp.get(PAGE)
    assert page.status_code == 200 and len(table_rows(page, "contacts")) == 2
    assert text_of(page, "add-contact") is None
    token = csrf_from(ebp.get("/").get_data(as_text=True))
    assert ebp.post(PAGE + "/add", data={"csrf_token": token, "add-name": "X", "add-email": "x@x.test",
                                         "add-locale": "en"}).status_code == 403
    assert ebp.get("/accounts/acc-acme/contacts").status_code == 404  # not served by Rita


def test_without_csrf_nothing_changes(ebp, world):
    _sign_in_globex(ebp)
    response = ebp.post(PAGE + "/add", data={"add-name": "Dana", "add-email": "dana@globex.test",
                                             "add-locale": "en"})
    assert response.status_code == 400 and world.identity.contact_notices == []


def _propose(ebp, replaced="u-globex"):
    return post_form(ebp, PAGE, {"handover-replaced_user_id": replaced, "handover-name": "Hana Handover",
                                 "handover-email": "hana@globex.test", "handover-login": "",
                                 "handover-locale": "pt-BR"}, action="/accounts/acc-globex/handovers")


def test_a_handover_proposed_by_one_contact_is_approved_by_the_rep_in_the_console(ebp, ebp_app, world):
    _sign_in_globex(ebp)
    assert _propose(ebp).status_code == 302
    page = ebp.get(PAGE)
    assert texts_of_class(page, "handover-text")[0].startswith(
        "Globex Accounts Payable proposes that Hana Handover (hana@globex.test) replace Globex Accounts Payable")
    assert text_of(page, "approve-1") is None and text_of(page, "decline-1") == "Withdraw"

    rep = ebp_app.test_client()
    sign_in(rep, "rita.rep", "Rep-demo-2026!")
    console = rep.get("/")
    assert texts_of_class(console, "handover-text")[0].startswith(
        "Globex Corporation: Globex Accounts Payable proposes that Hana Handover")
    (handover_id,) = world.identity.handovers
    response = rep.post(f"/accounts/acc-globex/handovers/{handover_id}/decide",
                        data={"csrf_token": csrf_from(text(console)), "decision": "approve", "next": "/"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    console = rep.get("/")
    assert text_of(console, "flash-1") == "The handover was approved."
    assert text_of(console, "no-rep-handovers") == "No handover is waiting for your approval."
    assert [r[0] for r in table_rows(rep.get(PAGE), "contacts")] == ["Carlos Silva", "Hana Handover"]
    # Globex AP was replaced: their session ended.
    assert ebp.get(PAGE).status_code == 302


def test_a_bad_decision_is_a_400_and_an_unknown_handover_a_404(ebp, world):
    sign_in(ebp, "rita.rep", "Rep-demo-2026!")
    token = csrf_from(ebp.get("/").get_data(as_text=True))
    assert ebp.post("/accounts/acc-globex/handovers/h-x/decide",
                    data={"csrf_token": token, "decision": "maybe"}).status_code == 400
    assert ebp.post("/accounts/acc-globex/handovers/h-x/decide",
                    data={"csrf_token": token, "decision": "approve"}).status_code == 404


def test_the_page_in_portuguese(ebp, world):
    _sign_in_globex(ebp)
    post_form(ebp, "/", {"lang": "pt_BR", "next": PAGE}, action="/language")
    page = ebp.get(PAGE)
    assert text_of(page, "page-title") == "Contatos de cobrança"
    assert text_of(page, "add-contact-title") == "Adicionar um contato de cobrança"


@pytest.mark.parametrize("account_id", ["x" * 300, "%00", "..%2f..", "acc-globex%0d%0aX: y", "é"])
def test_odd_account_ids_in_the_address_are_never_a_500(ebp, world, account_id):
    _sign_in_globex(ebp)
    token = csrf_from(ebp.get(PAGE).get_data(as_text=True))
    assert ebp.get(f"/accounts/{account_id}/contacts").status_code in (400, 404)
    for action, data in (("contacts/add", {"add-name": "D", "add-email": "d@g.test", "add-locale": "en"}),
                         ("contacts/remove", {"user_id": "u-carlos"}), ("contacts/primary", {"user_id": "u-carlos"}),
                         ("handovers/h-1/decide", {"decision": "approve"})):
        response = ebp.post(f"/accounts/{account_id}/{action}", data={"csrf_token": token, **data})
        assert response.status_code in (400, 404), (action, response.status_code)
    assert world.identity.contact_notices == []


def test_identity_down_is_the_503_page(ebp, world):
    _sign_in_globex(ebp)
    world.identity.busy.add("ListBillingContacts")
    assert ebp.get(PAGE).status_code == 503
