"""The subscription page and the change of plan, seats or frequency, against the real
online_billing (billing_center_world): preview, confirm once (S19), decline, scheduled change and
its undo, cancel and its undo, reactivate; members and other roles change nothing (S14); CSRF (S16)."""
from __future__ import annotations

import re

import pytest

from services.online_billing import bootstrap
from services.online_billing.service_layer import subscriptions
from tests.integration.web.billing_center_world import BillingWorld, post
from tests.pages import text_of
from tests.unit.web.helpers import csrf_from, field_error, form_error, hidden, text


def test_the_subscription_page_shows_plan_seats_frequency_status_period_and_the_next_renewal(
        bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    page = client.get("/subscription")
    assert page.status_code == 200
    body = text(page)
    assert 'id="plan-name">Business<' in body and 'id="seats">10<' in body
    assert 'id="interval">Monthly<' in body and ">Active<" in body
    assert "$160.00" in body and 'id="current-period"' in body and 'id="next-renewal"' in body
    assert 'id="cancel-form"' in body and 'id="change-subscription"' in body
    assert 'id="nav-subscription"' in body


def _preview(client, plan: str, seats: str, interval: str = "monthly"):  # type: ignore[no-untyped-def]
    return post(client, "/subscription/change", "/subscription/change/preview",
                {"plan_code": plan, "seats": seats, "interval": interval})


def _confirm_data(preview_page: str) -> dict[str, str]:
    return {name: hidden(preview_page, name) for name in ("csrf_token", "plan_code", "seats", "interval",
                                                           "idempotency_key")}


def test_more_seats_preview_the_credit_and_charge_then_a_double_confirm_charges_once_and_the_invoice_equals_it(
        bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    preview = _preview(client, "business", "12")
    assert preview.status_code == 200, text(preview)
    body = text(preview)
    assert len(re.findall(r'class="line"', body)) == 2  # the credit and the charge
    amount_due = re.search(r'id="amount-due">([^<]+)<', body).group(1)  # type: ignore[union-attr]
    assert "$" in amount_due and 'id="new-recurring-amount">$192.00<' in body
    assert "Now" in re.search(r'id="preview-timing">([^<]+)<', body).group(1)  # type: ignore[union-attr]
    data = _confirm_data(body)
    first = client.post("/subscription/change/confirm", data=data)
    second = client.post("/subscription/change/confirm", data=data)  # the double submit (S19)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]  # the same invoice
    invoice = text(client.get(first.headers["Location"]))
    assert re.search(r'id="invoice-total">([^<]+)<', invoice).group(1) == amount_due  # type: ignore[union-attr]
    history = text(client.get("/invoices"))
    assert history.count("Change of subscription") == 1
    assert 'id="seats">12<' in text(client.get("/subscription"))


def test_a_declined_upgrade_shows_the_decline_message_and_changes_nothing(bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    bc_world.age_sessions(0)
    added = post(client, "/payment-methods/add", "/payment-methods/add", {
        "holder_name": "Olivia Ortega", "number": "4000 0000 0000 0341", "exp_month": "12", "exp_year": "2031",
        "cvc": "123", "make_default": "y"})
    assert added.status_code == 302, text(added)
    preview = text(_preview(client, "enterprise", "10"))
    declined = client.post("/subscription/change/confirm", data=_confirm_data(preview))
    assert declined.status_code == 402
    assert "Your card was declined." in (form_error(text(declined)) or "")
    assert hidden(text(declined), "idempotency_key") != hidden(preview, "idempotency_key")  # a new attempt
    page = text(client.get("/subscription"))
    assert 'id="plan-name">Business<' in page and 'id="seats">10<' in page
    assert "Change of subscription" not in text(client.get("/invoices"))


def test_the_decline_message_is_translated_for_a_pt_br_reader(bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    post(client, "/payment-methods/add", "/payment-methods/add", {
        "holder_name": "Olivia Ortega", "number": "4000000000000341", "exp_month": "12", "exp_year": "2031",
        "cvc": "123", "make_default": "y"})
    client.set_cookie("lang", "pt_BR")
    preview = text(_preview(client, "enterprise", "10"))
    declined = client.post("/subscription/change/confirm", data=_confirm_data(preview))
    assert declined.status_code == 402 and "Seu cartão foi recusado." in (form_error(text(declined)) or "")


def test_fewer_seats_are_scheduled_shown_on_the_subscription_and_can_be_undone(bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    preview = text(_preview(client, "business", "8"))
    assert 'id="nothing-charged"' in preview and "At the end of the current period" in preview
    done = client.post("/subscription/change/confirm", data=_confirm_data(preview))
    assert done.status_code == 302 and done.headers["Location"].endswith("/subscription")
    page = text(client.get("/subscription"))
    assert 'id="scheduled-change"' in page and "8 seats" in page and 'id="seats">10<' in page
    undone = post(client, "/subscription", "/subscription/undo-change", {})
    assert undone.status_code == 302
    assert 'id="scheduled-change"' not in text(client.get("/subscription"))


def test_cancel_with_a_reason_reads_pending_cancellation_with_its_end_date_and_can_be_undone(
        bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    cancelled = post(client, "/subscription", "/subscription/cancel", {"reason": "Too expensive for us"})
    assert cancelled.status_code == 302
    page = text(client.get("/subscription"))
    assert "Pending cancellation" in page and 'id="ends-at"' in page and 'id="will-not-renew"' in page
    assert 'id="change-subscription"' not in page and 'id="next-renewal"' not in page
    undone = post(client, "/subscription", "/subscription/undo-cancellation", {})
    assert undone.status_code == 302
    page = text(client.get("/subscription"))
    assert ">Active<" in page and 'id="next-renewal"' in page


@pytest.mark.parametrize(("data", "field"), [
    ({"plan_code": "business", "seats": "ten", "interval": "monthly"}, "seats"),
    ({"plan_code": "business", "seats": "0", "interval": "monthly"}, "seats"),
    ({"plan_code": "business", "seats": "99999999999999999999", "interval": "monthly"}, "seats"),
    ({"plan_code": "business", "seats": "5", "interval": "weekly"}, "interval"),
    ({"plan_code": "<script>", "seats": "5", "interval": "monthly"}, "plan_code"),
    ({"plan_code": "platinum", "seats": "5", "interval": "monthly"}, "plan_code"),
    ({"plan_code": "starter", "seats": "90", "interval": "monthly"}, "seats"),
    ({"seats": "5", "interval": "monthly"}, "plan_code"),
])
def test_bad_input_on_the_change_form_answers_400_naming_the_field(bc_world: BillingWorld, data: dict[str, str],
                                                                     field: str) -> None:
    client = bc_world.signed_in()
    answer = _preview(client, data.get("plan_code", ""), data["seats"], data["interval"]) if "plan_code" in data \
        else post(client, "/subscription/change", "/subscription/change/preview", data)
    assert answer.status_code == 400, text(answer)
    assert field_error(text(answer), field)


def test_a_confirm_with_a_forged_idempotency_key_is_400_and_changes_nothing(bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    data = _confirm_data(text(_preview(client, "business", "12")))
    answer = client.post("/subscription/change/confirm", data={**data, "idempotency_key": "not-a-uuid"})
    assert answer.status_code == 400 and "This form has expired" in (form_error(text(answer)) or "")
    assert 'id="seats">10<' in text(client.get("/subscription"))


def test_a_member_gets_no_change_controls_and_every_change_url_answers_403(bc_world: BillingWorld) -> None:
    member = bc_world.signed_in("mark@acme.test", "Member-demo-2026!")
    landing = text(member.get("/"))
    assert 'id="nav-subscription"' not in landing and 'id="change-subscription"' not in landing
    token = csrf_from(landing)
    for path in ("/subscription", "/subscription/change", "/payment-methods", "/invoices", "/billing-profile"):
        assert member.get(path).status_code == 403, path
    for path, data in [("/subscription/cancel", {}), ("/subscription/change/preview",
                                                      {"plan_code": "business", "seats": "2", "interval": "monthly"}),
                       ("/subscription/change/confirm", {"plan_code": "business", "seats": "2", "interval": "monthly",
                                                         "idempotency_key": "8c3c0c1e-4a51-4c55-9a8a-1a2b3c4d5e6f"}),
                       ("/subscription/undo-cancellation", {}), ("/billing-profile", {"company_name": "Evil"}),
                       ("/payment-methods/remove", {"payment_method_id": "x"})]:
        assert member.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    contact = bc_world.signed_in()
    assert 'id="seats">10<' in text(contact.get("/subscription"))
    assert "Pending cancellation" not in text(contact.get("/subscription"))


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    data = _confirm_data(text(_preview(client, "business", "12")))
    del data["csrf_token"]
    assert client.post("/subscription/change/confirm", data=data).status_code == 400
    assert client.post("/subscription/cancel", data={"reason": "x"}).status_code == 400
    page = text(client.get("/subscription"))
    assert 'id="seats">10<' in page and ">Active<" in page


def test_a_lost_gateway_answer_says_the_payment_is_being_confirmed_and_changes_nothing_yet(
        bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    added = post(client, "/payment-methods/add", "/payment-methods/add", {
        "holder_name": "Olivia Ortega", "number": "4000000000000408", "exp_month": "12", "exp_year": "2031",
        "cvc": "123", "make_default": "y"})
    assert added.status_code == 302, text(added)
    answer = client.post("/subscription/change/confirm", data=_confirm_data(text(_preview(client, "business", "12"))))
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/subscription")
    page = text(client.get("/subscription"))
    assert "We're confirming your payment with your bank" in page and "charged twice" in page
    assert 'id="seats">10<' in page


PENDING_EN = ("A payment is being confirmed with your bank. This page shows the outcome as soon as it is known; "
              "you will not be charged twice.")
PENDING_PT = ("Um pagamento está sendo confirmado com o seu banco. Esta página mostra o resultado assim que ele for "
              "conhecido; você não será cobrado duas vezes.")


def test_a_payment_being_confirmed_shows_on_the_subscription_and_invoice_pages_until_it_is_reconciled(
        bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    assert text_of(client.get("/subscription"), "payment-pending") is None
    added = post(client, "/payment-methods/add", "/payment-methods/add", {
        "holder_name": "Olivia Ortega", "number": "4000000000000408", "exp_month": "12", "exp_year": "2031",
        "cvc": "123", "make_default": "y"})
    assert added.status_code == 302, text(added)
    client.post("/subscription/change/confirm", data=_confirm_data(text(_preview(client, "business", "12"))))
    client.get("/subscription")  # the one-time message right after the action
    # ... and on every later visit, not only once, until the reconciler settles it (S20).
    for _ in range(2):
        assert text_of(client.get("/subscription"), "payment-pending") == PENDING_EN
        assert text_of(client.get("/invoices"), "payment-pending") == PENDING_EN
    assert text_of(client.get("/subscription", headers={"Accept-Language": "pt-BR"}), "payment-pending") == PENDING_PT
    assert text_of(client.get("/invoices", headers={"Accept-Language": "pt-BR"}), "payment-pending") == PENDING_PT
    deps = bootstrap.build_dependencies(bc_world.online_settings, gateway_settings=bc_world.gateway,
                                        clock=bc_world.clock)
    try:
        assert subscriptions.reconcile(deps, pending_grace=0).settled == 1
    finally:
        deps.close()
    page = client.get("/subscription")
    assert text_of(page, "payment-pending") is None and text_of(page, "seats") == "12"
    assert text_of(client.get("/invoices"), "payment-pending") is None


def test_a_lapsed_subscription_is_reactivated_and_charged_once_with_a_reactivation_invoice(
        bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    assert post(client, "/subscription", "/subscription/cancel", {"reason": ""}).status_code == 302
    bc_world.clock.advance(40 * 86_400)  # past the end of the monthly period
    page = text(client.get("/subscription"))
    assert ">Canceled<" in page and 'id="reactivate-form"' in page and 'id="cancel-form"' not in page
    data = {"csrf_token": hidden(page, "csrf_token"), "idempotency_key": hidden(page, "idempotency_key")}
    first = client.post("/subscription/reactivate", data=data)
    second = client.post("/subscription/reactivate", data=data)  # a double submit (S19)
    assert first.status_code == second.status_code == 302
    page = text(client.get("/subscription"))
    assert ">Active<" in page and "Your subscription is active again." in page
    assert text(client.get("/invoices")).count(">Reactivation<") == 1


@pytest.mark.parametrize(("page_path", "action", "data", "field"), [
    ("/subscription", "/subscription/cancel", {"reason": "x" * 501}, "reason"),
    ("/subscription", "/subscription/cancel", {"reason": "stop\u202e"}, "reason"),
    ("/confirm-password", "/confirm-password", {"password": "", "next": "/payment-methods"}, "password"),
])
def test_bad_input_on_the_other_forms_answers_400_naming_the_field(bc_world: BillingWorld, page_path: str,
                                                                  action: str, data: dict[str, str],
                                                                  field: str) -> None:
    answer = post(bc_world.signed_in(), page_path, action, data)
    assert answer.status_code == 400, text(answer)
    assert field_error(text(answer), field)


@pytest.mark.parametrize(("action", "data"), [
    ("/subscription/reactivate", {"idempotency_key": "'; drop table"}),
    ("/payment-methods/default", {"payment_method_id": ""}),
    ("/payment-methods/remove", {"payment_method_id": "x" * 65}),
])
def test_bad_hidden_fields_answer_400_with_a_message_not_a_500(bc_world: BillingWorld, action: str,
                                                               data: dict[str, str]) -> None:
    answer = post(bc_world.signed_in(), "/subscription", action, data)
    assert answer.status_code == 400, text(answer)
    assert form_error(text(answer))


def test_the_password_page_returns_only_to_a_path_of_this_site(bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    for target in ("https://evil.test/", "//evil.test/x", "/\\evil.test"):
        answer = post(client, "/confirm-password", "/confirm-password",
                      {"password": "Online-demo-2026!", "next": target})
        assert answer.status_code == 302 and answer.headers["Location"] == "/subscription", target
