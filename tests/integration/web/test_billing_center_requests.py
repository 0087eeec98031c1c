"""Members' change requests in the Billing Center against the real online_billing
(billing_center_world): a member asks from their landing page (bad input named on its field,
never a 500), withdraws; the contact sees it on the Requests page and the subscription page,
reviews it with a fresh preview, approves (the invoice follows, once: S19) or declines with a
reason; S13 (another account's request is 404), S14 (a member gets 403 on the contact's URLs and
a contact on the member's), S16 (no CSRF token, no change)."""
from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.integration.web.billing_center_world import BillingWorld
from tests.pages import table_rows, text_of
from tests.unit.web import fakes
from tests.unit.web.helpers import csrf_from, field_error, form_error, hidden, text

MEMBER = ("mark@acme.test", "Member-demo-2026!")
JOANA = ("joana@padaria.test", "Padaria-demo-2026!")


def _ask(member: FlaskClient, plan: str = "business", seats: str = "12", interval: str = "monthly",
         note: str = "Two new hires start Monday."):  # type: ignore[no-untyped-def]
    token = csrf_from(text(member.get("/")))
    return member.post("/requests", data={"request-csrf_token": token, "request-plan_code": plan,
                                          "request-seats": seats, "request-interval": interval, "request-note": note})


def _only_request_id(contact: FlaskClient) -> str:
    [rid] = re.findall(r'id="review-([0-9a-f-]+)"', text(contact.get("/requests")))
    return rid


def test_a_member_sees_the_request_form_with_the_current_subscription_and_the_help_link(
        bc_world: BillingWorld) -> None:
    member = bc_world.signed_in(*MEMBER)
    page = text(member.get("/"))
    assert text_of(page, "member-current-selection") == "Your account has Business, 10 seats, Monthly."
    assert 'id="change-request-form"' in page and 'id="contact-admin-form"' in page
    assert 'id="help-request-billing-contact"' in page and "who-is-my-billing-contact" in page
    assert 'id="nav-requests"' not in page


def test_a_request_is_approved_with_the_fresh_preview_the_invoice_follows_and_the_member_is_mailed(
        bc_world: BillingWorld) -> None:
    member = bc_world.signed_in(*MEMBER)
    asked = _ask(member)
    assert asked.status_code == 302, text(asked)
    mine = text(member.get("/"))
    assert [row[1:3] for row in table_rows(mine, "my-requests")] == [["Business, 12 seats, Monthly", "Pending"]]

    contact = bc_world.signed_in()
    assert text_of(text(contact.get("/subscription")), "pending-requests-notice") == \
        "1 request from a member is waiting for your decision. Review requests"
    rid = _only_request_id(contact)
    review = text(contact.get(f"/requests/{rid}"))
    assert text_of(review, "request-member") == "Mark Member (mark@acme.test)"
    assert text_of(review, "request-note") == "Two new hires start Monday."
    amount_due = text_of(review, "amount-due")
    assert text_of(review, "new-recurring-amount") == "$192.00" and text_of(review, "preview-timing") == "Now"
    data = {"csrf_token": hidden(review, "csrf_token"), "idempotency_key": hidden(review, "idempotency_key")}
    first = contact.post(f"/requests/{rid}/approve", data=data)
    second = contact.post(f"/requests/{rid}/approve", data=data)  # the double submit (S19)
    assert first.status_code == second.status_code == 302, text(first)
    assert first.headers["Location"] == second.headers["Location"]
    invoice = text(contact.get(first.headers["Location"]))
    assert text_of(invoice, "invoice-total") == amount_due
    assert text(contact.get("/invoices")).count("Change of subscription") == 1
    assert text_of(text(contact.get("/subscription")), "seats") == "12"
    assert [row[1:3] for row in table_rows(text(member.get("/")), "my-requests")] == [
        ["Business, 12 seats, Monthly", "Approved"]]
    subject, body = bc_world.mail_to("mark@acme.test")
    assert subject == "Your change request was approved" and "    Business, 12 seats, billed monthly\n" in body


def test_a_decline_needs_a_reason_and_the_member_sees_it(bc_world: BillingWorld) -> None:
    member = bc_world.signed_in(*MEMBER)
    _ask(member, "enterprise", "10")
    contact = bc_world.signed_in()
    rid = _only_request_id(contact)
    review = text(contact.get(f"/requests/{rid}"))
    empty = contact.post(f"/requests/{rid}/decline", data={"csrf_token": csrf_from(review), "reason": "  "})
    assert empty.status_code == 400 and field_error(text(empty), "reason") == "Reason is required."
    declined = contact.post(f"/requests/{rid}/decline", data={"csrf_token": csrf_from(review),
                                                              "reason": "Not this quarter."})
    assert declined.status_code == 302
    assert table_rows(text(member.get("/")), "my-requests")[0][2] == "Declined: Not this quarter."
    assert 'id="no-pending-requests"' in text(contact.get("/requests"))
    assert text_of(text(contact.get("/subscription")), "plan-name") == "Business"


def test_a_member_withdraws_a_pending_request_and_may_then_ask_again(bc_world: BillingWorld) -> None:
    member = bc_world.signed_in(*MEMBER)
    _ask(member)
    again = _ask(member, seats="13")
    assert again.status_code == 409
    assert form_error(text(again)) == "You already have a pending request. Withdraw it to ask for another change."
    page = text(member.get("/"))
    [rid] = re.findall(r'id="withdraw-([0-9a-f-]+)"', page)
    assert member.post(f"/requests/{rid}/withdraw", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert table_rows(text(member.get("/")), "my-requests")[0][2] == "Withdrawn"
    assert _ask(member, seats="13").status_code == 302


@pytest.mark.parametrize(("data", "field"), [
    ({"request-seats": "0"}, "request-seats"), ({"request-seats": "twelve"}, "request-seats"),
    ({"request-seats": "9" * 40}, "request-seats"), ({"request-plan_code": "<script>"}, "request-plan_code"),
    ({"request-plan_code": "platinum"}, "request-plan_code"), ({"request-interval": "weekly"}, "request-interval"),
    ({"request-note": "x" * 501}, "request-note"), ({"request-note": "a\x00b"}, "request-note"),
    ({"request-seats": "5000"}, "request-seats"),
])
def test_bad_input_is_named_on_its_field_never_a_500_and_nothing_is_asked(
        bc_world: BillingWorld, data: dict[str, str], field: str) -> None:
    member = bc_world.signed_in(*MEMBER)
    token = csrf_from(text(member.get("/")))
    answer = member.post("/requests", data={"request-csrf_token": token, "request-plan_code": "business",
                                            "request-seats": "12", "request-interval": "monthly", **data})
    assert answer.status_code == 400, text(answer)
    assert field_error(text(answer), field)
    assert 'id="my-requests"' not in text(member.get("/"))


def test_a_member_gets_403_on_the_contacts_urls_and_a_contact_on_the_members(bc_world: BillingWorld) -> None:  # S14
    member = bc_world.signed_in(*MEMBER)
    _ask(member)
    contact = bc_world.signed_in()
    rid = _only_request_id(contact)
    token = csrf_from(text(member.get("/")))
    assert member.get("/requests").status_code == 403
    assert member.get(f"/requests/{rid}").status_code == 403
    assert member.post(f"/requests/{rid}/approve", data={
        "csrf_token": token, "idempotency_key": "8c3c0c1e-4a51-4c55-9a8a-1a2b3c4d5e6f"}).status_code == 403
    assert member.post(f"/requests/{rid}/decline", data={"csrf_token": token, "reason": "no"}).status_code == 403
    contact_token = csrf_from(text(contact.get("/requests")))
    assert contact.post("/requests", data={"request-csrf_token": contact_token, "request-plan_code": "business",
                                           "request-seats": "14", "request-interval": "monthly"}).status_code == 403
    assert contact.post(f"/requests/{rid}/withdraw", data={"csrf_token": contact_token}).status_code == 403
    erin = bc_world.signed_in("erin@globex.test", "Member-demo-2026!")  # an enterprise member asks nothing
    assert 'id="change-request-form"' not in text(erin.get("/"))
    assert erin.post(f"/requests/{rid}/withdraw", data={"csrf_token": csrf_from(text(erin.get("/")))}
                     ).status_code == 403
    assert _only_request_id(contact) == rid  # still pending


def test_another_accounts_request_is_404_and_changes_nothing(bc_world: BillingWorld) -> None:  # S13
    member = bc_world.signed_in(*MEMBER)
    _ask(member)
    rid = _only_request_id(bc_world.signed_in())
    joana = bc_world.signed_in(*JOANA)
    token = csrf_from(text(joana.get("/requests")))
    assert joana.get(f"/requests/{rid}").status_code == 404
    assert joana.post(f"/requests/{rid}/decline", data={"csrf_token": token, "reason": "x"}).status_code == 404
    assert joana.post(f"/requests/{rid}/approve", data={
        "csrf_token": token, "idempotency_key": "8c3c0c1e-4a51-4c55-9a8a-1a2b3c4d5e6f"}).status_code == 404
    assert joana.get("/requests/not a valid id").status_code == 404
    assert _only_request_id(bc_world.signed_in()) == rid


def test_without_the_csrf_token_nothing_is_asked_approved_or_declined(bc_world: BillingWorld) -> None:  # S16
    member = bc_world.signed_in(*MEMBER)
    assert member.post("/requests", data={"request-plan_code": "business", "request-seats": "12",
                                          "request-interval": "monthly"}).status_code == 400
    _ask(member)
    contact = bc_world.signed_in()
    rid = _only_request_id(contact)
    assert contact.post(f"/requests/{rid}/approve", data={
        "idempotency_key": "8c3c0c1e-4a51-4c55-9a8a-1a2b3c4d5e6f"}).status_code == 400
    assert contact.post(f"/requests/{rid}/decline", data={"reason": "no"}).status_code == 400
    assert member.post(f"/requests/{rid}/withdraw").status_code == 400
    assert _only_request_id(contact) == rid and text_of(text(contact.get("/subscription")), "seats") == "10"


def test_a_request_made_stale_by_the_contacts_own_change_says_so_and_can_be_declined(
        bc_world: BillingWorld) -> None:
    member = bc_world.signed_in(*MEMBER)
    _ask(member)
    contact = bc_world.signed_in()
    rid = _only_request_id(contact)
    page = text(contact.get("/subscription/change"))
    preview = text(contact.post("/subscription/change/preview", data={
        "csrf_token": csrf_from(page), "plan_code": "business", "seats": "12", "interval": "monthly"}))
    contact.post("/subscription/change/confirm", data={
        name: hidden(preview, name) for name in ("csrf_token", "plan_code", "seats", "interval", "idempotency_key")})
    review = text(contact.get(f"/requests/{rid}"))
    assert text_of(review, "preview-problem") == \
        "The subscription already has this plan, number of seats and billing frequency."
    assert 'id="approve-form"' not in review and 'id="decline-form"' in review


def test_a_pt_br_member_reads_the_form_and_its_refusals_in_portuguese_and_is_mailed_in_it(
        bc_world: BillingWorld) -> None:
    bc_world.identity.add_user(fakes.FakeUser("u-luiza", "luiza@acme.test", "luiza@acme.test", "Luiza Lima",
                                              "Member-demo-2026!", fakes.MEMBER, "acc-acme", "pt-BR"))
    luiza = bc_world.signed_in("luiza@acme.test", "Member-demo-2026!")
    luiza.set_cookie("lang", "pt_BR")
    page = text(luiza.get("/"))
    assert text_of(page, "change-request-title") == "Pedir uma alteração na assinatura"
    assert text_of(page, "member-current-selection") == "Sua conta tem Business, 10 licenças, Mensal."
    assert _ask(luiza).status_code == 302
    again = _ask(luiza, seats="13")
    assert form_error(text(again)) == "Você já tem um pedido pendente. Retire-o para pedir outra alteração."
    contact = bc_world.signed_in()
    rid = _only_request_id(contact)
    review = text(contact.get(f"/requests/{rid}"))
    contact.post(f"/requests/{rid}/decline", data={"csrf_token": csrf_from(review), "reason": "Agora não."})
    assert table_rows(text(luiza.get("/")), "my-requests")[0][2] == "Recusado: Agora não."
    subject, body = bc_world.mail_to("luiza@acme.test")
    assert subject == "Seu pedido de alteração foi recusado" and "Motivo:\nAgora não.\n" in body


def test_the_help_topic_linked_from_the_request_form_says_how_requests_work(bc_world: BillingWorld) -> None:
    member = bc_world.signed_in(*MEMBER)
    assert text_of(text(member.get("/help/who-is-my-billing-contact")), "billing-contact-member-request") == (
        "A member of an online account can also ask for a change of plan, seats or billing frequency on their "
        "Billing Center home page. A billing contact sees the request with exactly what it would cost, approves or "
        "declines it, and the member is emailed the decision.")
