"""Payment methods (tokenized in the web tier, S18; recent sign-in, S17), invoices (list, print
page, PDF; another account's is 404, S13) and the billing profile, against the real
online_billing (billing_center_world)."""
from __future__ import annotations

import logging
import re

import pytest
import structlog

from billing_common.payments.cards import card_numbers_in
from tests.integration.web.billing_center_world import BillingWorld, post
from tests.pages import text_of
from tests.unit.web.helpers import field_error, form_error, hidden, text

CARD = {"holder_name": "Olivia Ortega", "number": "5555 5555 5555 4444", "exp_month": "11", "exp_year": "2031",
        "cvc": "321"}


def _add(client, **changes: str):  # type: ignore[no-untyped-def]
    return post(client, "/payment-methods/add", "/payment-methods/add", {**CARD, **changes})


def test_the_cards_on_file_show_brand_last_4_expiry_and_the_default(bc_world: BillingWorld) -> None:
    page = text(bc_world.signed_in().get("/payment-methods"))
    assert "Visa •••• 4242" in page and 'id="default-card"' in page and re.search(r"\d\d/20\d\d", page)


def test_a_card_added_reaches_the_service_only_as_a_token_and_no_log_line_holds_its_number(
        bc_world: BillingWorld, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    client = bc_world.signed_in()
    with structlog.testing.capture_logs() as structured:
        added = _add(client, make_default="y")
        declined = _add(client, number="4000000000000002")
    assert added.status_code == 302, text(added)
    page = text(client.get("/payment-methods"))
    assert "Mastercard •••• 4444" in page and "5555555555554444" not in page
    assert declined.status_code == 409 and "Your card was declined." in (form_error(text(declined)) or "")
    assert "4000000000000002" not in text(declined) and 'value="321"' not in text(declined)  # not sent back
    logged = "\n".join([caplog.text, *map(str, structured), *capsys.readouterr()])
    assert card_numbers_in(logged) == []
    with client.session_transaction() as flask_session:
        assert card_numbers_in(repr(dict(flask_session))) == []
    stored = bc_world.stored_text()
    assert "4444" in stored and card_numbers_in(stored) == []  # the card is there, its number is not
    # Every gRPC message online_billing received or answered (bc_world scans them all at the
    # end of every test): the card flows' calls are among them, with a token and no number.
    added_calls = [m for m in bc_world.grpc.of("/billing.online_billing.v1.OnlineBillingService/AddPaymentMethod")
                   if m.kind == "request"]
    assert len(added_calls) == 2 and all('token: "' in m.text for m in added_calls)
    assert card_numbers_in("\n".join(m.text for m in bc_world.grpc.messages)) == []


@pytest.mark.parametrize(("changes", "field"), [
    ({"number": "4242424242424241"}, "number"),
    ({"number": ""}, "number"),
    ({"number": "4" * 300}, "number"),
    ({"exp_month": "13"}, "exp_month"),
    ({"exp_month": "ab"}, "exp_month"),
    ({"exp_year": "2001"}, "exp_year"),
    ({"cvc": "12"}, "cvc"),
    ({"holder_name": ""}, "holder_name"),
    ({"number": "4000056655665556"}, "number"),  # a real-looking card: the sandbox refuses it
])
def test_bad_input_on_the_card_form_answers_400_naming_the_field(bc_world: BillingWorld, changes: dict[str, str],
                                                                 field: str) -> None:
    answer = _add(bc_world.signed_in(), **changes)
    assert answer.status_code == 400, text(answer)
    assert field_error(text(answer), field)


def test_adding_or_removing_a_card_after_15_minutes_asks_for_the_password_again_then_continues(
        bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    bc_world.age_sessions(16)
    asked = client.get("/payment-methods/add")
    assert asked.status_code == 302 and "/confirm-password" in asked.headers["Location"]
    page = text(client.get(asked.headers["Location"]))
    next_url = re.search(r'id="next" name="next"[^>]*value="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    wrong = client.post("/confirm-password", data={"csrf_token": hidden(page, "csrf_token"),
                                                   "next": next_url, "password": "wrong-password"})
    assert field_error(text(wrong), "password")
    right = client.post("/confirm-password", data={"csrf_token": hidden(page, "csrf_token"),
                                                   "next": next_url, "password": "Online-demo-2026!"})
    assert right.status_code == 302 and right.headers["Location"].endswith("/payment-methods/add")
    assert _add(client).status_code == 302  # the new sign-in is recent
    bc_world.age_sessions(16)
    cards = text(client.get("/payment-methods"))
    card_id = re.findall(r'name="payment_method_id" value="([^"]+)"', cards)[0]
    removal = client.post("/payment-methods/remove", data={"csrf_token": hidden(cards, "csrf_token"),
                                                            "payment_method_id": card_id})
    assert removal.status_code == 302 and "/confirm-password" in removal.headers["Location"]
    assert text(client.get("/payment-methods")).count("card-row") == 2  # nothing removed


def test_the_last_card_of_an_active_subscription_is_not_removed_and_the_service_says_why(
        bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    cards = text(client.get("/payment-methods"))
    [card_id] = re.findall(r'name="payment_method_id" value="([^"]+)"', cards)
    refused = client.post("/payment-methods/remove", data={"csrf_token": hidden(cards, "csrf_token"),
                                                            "payment_method_id": card_id})
    assert refused.status_code == 409 and "only card" in (form_error(text(refused)) or "")


def test_a_second_card_can_become_the_default_and_the_first_be_removed(bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    assert _add(client).status_code == 302
    cards = text(client.get("/payment-methods"))
    visa, master = (re.search(rf'id="card-([^"]+)" class="card-row">\s*<td class="card-name">{brand}', cards)
                    .group(1) for brand in ("Visa", "Mastercard"))  # type: ignore[union-attr]
    assert client.post("/payment-methods/default", data={"csrf_token": hidden(cards, "csrf_token"),
                                                          "payment_method_id": master}).status_code == 302
    assert client.post("/payment-methods/remove", data={"csrf_token": hidden(cards, "csrf_token"),
                                                         "payment_method_id": visa}).status_code == 302
    page = text(client.get("/payment-methods"))
    assert "Visa" not in page and "Mastercard •••• 4444" in page and 'id="default-card"' in page


def test_an_unknown_card_id_answers_404(bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    cards = text(client.get("/payment-methods"))
    answer = client.post("/payment-methods/default", data={"csrf_token": hidden(cards, "csrf_token"),
                                                            "payment_method_id": "pm-of-someone-else"})
    assert answer.status_code in (404, 400)


def test_the_invoice_history_pages_through_every_invoice_newest_first(bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    first = text(client.get("/invoices"))
    numbers = re.findall(r'class="invoice-link">([^<]+)<', first)
    assert numbers and numbers == sorted(numbers, reverse=True)
    assert "Paid" in first and "$160.00" in first
    if 'id="next-page"' in first:
        more = re.search(r'id="next-page"', first)
        assert more


def test_the_invoice_page_prints_with_its_own_stylesheet_and_the_pdf_downloads_as_an_attachment(
        bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    invoice_id = re.findall(r'href="/invoices/([^"./]+)" class="invoice-link"', text(client.get("/invoices")))[0]
    page = client.get(f"/invoices/{invoice_id}")
    body = text(page)
    assert page.status_code == 200 and 'media="print"' in body and "style=" not in body and "<script" not in body
    assert 'id="invoice-total"' in body and "Acme Online" in body
    number = re.search(r'id="invoice-number">([^<]+)<', body).group(1)  # type: ignore[union-attr]
    pdf = client.get(f"/invoices/{invoice_id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="{number}.pdf"'
    assert pdf.data.startswith(b"%PDF")
    stylesheet = re.search(r'href="(/static/print[^"]+)" media="print"', body).group(1)  # type: ignore[union-attr]
    with client.get(stylesheet) as css:
        assert css.status_code == 200


@pytest.fixture
def vendor_tax_id(monkeypatch: pytest.MonkeyPatch) -> str:
    """The vendor's tax ID in the environment online_billing reads VENDOR_* from (before bc_world)."""
    monkeypatch.setenv("VENDOR_TAX_ID", "12-3456789")
    return "12-3456789"


def test_the_invoice_print_page_names_the_seller_as_the_pdf_does(vendor_tax_id: str, bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    invoice_id = re.findall(r'href="/invoices/([^"./]+)" class="invoice-link"', text(client.get("/invoices")))[0]
    page = client.get(f"/invoices/{invoice_id}")
    assert text_of(page, "seller-title") == "Sold by"
    assert text_of(page, "seller-name") == "Meetings Example, Inc."
    assert text_of(page, "seller-address") == "500 Market Street, 94105 San Francisco, CA, US"
    assert text_of(page, "seller-tax-id") == "Tax ID: 12-3456789"
    portuguese = client.get(f"/invoices/{invoice_id}", headers={"Accept-Language": "pt-BR"})
    assert text_of(portuguese, "seller-title") == "Vendido por"
    assert text_of(portuguese, "seller-tax-id") == "CPF/CNPJ ou identificação fiscal: 12-3456789"


def test_the_grpc_capture_would_find_a_card_number_in_a_message() -> None:
    """The scan bc_world runs on every test's messages finds what it is looking for."""
    from tests.grpc_capture import Captured, GrpcCapture, assert_no_card_numbers

    capture = GrpcCapture()
    capture.record("/billing.online_billing.v1.OnlineBillingService/AddPaymentMethod", "request",
                   'token: "4000 0000 0000 0002"')
    with pytest.raises(AssertionError, match="4000000000000002"):
        assert_no_card_numbers(capture)
    assert capture.messages == [Captured("/billing.online_billing.v1.OnlineBillingService/AddPaymentMethod",
                                         "request", 'token: "4000 0000 0000 0002"')]


def test_another_accounts_invoice_answers_404(bc_world: BillingWorld) -> None:
    joana = bc_world.signed_in("joana@padaria.test", "Padaria-demo-2026!")
    theirs = re.findall(r'href="/invoices/([^"./]+)" class="invoice-link"', text(joana.get("/invoices")))[0]
    olivia = bc_world.signed_in()
    assert olivia.get(f"/invoices/{theirs}").status_code == 404
    assert olivia.get(f"/invoices/{theirs}.pdf").status_code == 404
    assert olivia.get("/invoices/..%2Fetc").status_code == 404
    assert olivia.get("/invoices?page=%3Cscript%3E").status_code in (400, 404)


PROFILE = {"company_name": "Acme Online, Inc.", "address_line1": "1 Main St", "address_line2": "",
           "city": "Springfield", "region": "IL", "postal_code": "62701", "country": "US", "tax_id": "",
           "invoice_emails": "ap@acme.test"}


def test_the_billing_profile_is_shown_edited_and_saved(bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    assert "Acme Online" in text(client.get("/billing-profile"))
    saved = post(client, "/billing-profile", "/billing-profile",
                 {**PROFILE, "company_name": "Acme Online GmbH", "country": "DE", "postal_code": "10115",
                  "tax_id": "DE136695976", "invoice_emails": "ap@acme.test\nfinance@acme.test"})
    assert saved.status_code == 302, text(saved)
    page = text(client.get("/billing-profile"))
    assert 'value="Acme Online GmbH"' in page and "finance@acme.test" in page


@pytest.mark.parametrize(("changes", "field"), [
    ({"company_name": ""}, "company_name"),
    ({"country": "Brazil"}, "country"),
    ({"country": "BR", "postal_code": "01310-100", "tax_id": "123.456.789-00"}, "tax_id"),
    ({"invoice_emails": "a@x.test\nb@x.test\nc@x.test\nd@x.test\ne@x.test\nf@x.test"}, "invoice_emails"),
    ({"invoice_emails": "not an address"}, "invoice_emails"),
    ({"city": "x" * 500}, "city"),
    ({"address_line1": "bad\u202echars"}, "address_line1"),
])
def test_bad_input_on_the_billing_profile_answers_400_on_its_field(bc_world: BillingWorld, changes: dict[str, str],
                                                                     field: str) -> None:
    answer = post(bc_world.signed_in(), "/billing-profile", "/billing-profile", {**PROFILE, **changes})
    assert answer.status_code == 400, text(answer)
    assert field_error(text(answer), field)


def test_the_service_s_tax_id_message_is_shown_in_pt_br_without_a_500(bc_world: BillingWorld) -> None:
    client = bc_world.signed_in()
    client.set_cookie("lang", "pt_BR")
    answer = post(client, "/billing-profile", "/billing-profile",
                  {**PROFILE, "country": "BR", "postal_code": "01310-100", "tax_id": "11.222.333/0001-00"})
    assert answer.status_code == 400 and field_error(text(answer), "tax_id")


@pytest.mark.parametrize(("number", "english", "portuguese"), [
    ("4000000000000002", "Your card was declined.", "Seu cartão foi recusado."),
    ("4000000000009995", "Your card has insufficient funds.", None),
    ("4000000000000069", "Your card has expired.", None),
    ("4000000000000127", "Your card's security code is incorrect.", None),
    ("4000000000000119", "An error occurred while processing your card. Try again in a little bit.", None),
])
def test_each_decline_of_a_card_being_added_shows_its_own_translated_message(
        bc_world: BillingWorld, number: str, english: str, portuguese: str | None) -> None:
    client = bc_world.signed_in()
    answer = _add(client, number=number, cvc="123")
    assert answer.status_code == 409 and english in (form_error(text(answer)) or "")
    client.set_cookie("lang", "pt_BR")
    answer = _add(client, number=number, cvc="123")
    shown = form_error(text(answer)) or ""
    assert answer.status_code == 409 and shown and english not in shown
    assert portuguese is None or portuguese in shown
    assert text(client.get("/payment-methods")).count("card-row") == 1  # nothing added
