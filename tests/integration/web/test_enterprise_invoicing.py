"""The Enterprise portal's invoicing pages against the real enterprise_portal service: the
invoice list and page, paying two invoices in one payment with the allocation first (S17, S19),
the statement's aging, POs and their flags, the rep console (S13, S14)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.integration.web.enterprise_world import GLOBEX, INITECH, OTHER_REP, REP, EnterpriseWorld
from tests.pages import attr_of, table_rows, text_of
from tests.unit.web.helpers import csrf_from, field_error, hidden, text
from web.enterprise_portal.views import billing as billing_views

CARD = {"holder_name": "Ana Contadora", "number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "2040",
        "cvc": "123"}


def _preview(client: FlaskClient, ids: list[str], amount: str) -> Any:
    page = client.get("/pay?" + "&".join(f"invoice={i}" for i in ids))
    assert page.status_code == 200, text(page)
    return client.post("/pay", data={"csrf_token": csrf_from(text(page)), "invoice_ids": ",".join(ids),
                                     "amount": amount})


def _confirm(client: FlaskClient, preview: Any, **card: str) -> Any:
    page = text(preview)
    return client.post("/pay/confirm", data={
        "csrf_token": csrf_from(page), "invoice_ids": hidden(page, "invoice_ids"), "amount": hidden(page, "amount"),
        "idempotency_key": hidden(page, "idempotency_key"), **CARD, **card})


def test_the_invoice_list_shows_the_newest_20_then_all(ep_world: EnterpriseWorld) -> None:
    for n in range(23):
        ep_world.issue(1_000 + n, days_ago=30 - n)
    client = ep_world.signed_in()
    page = client.get("/invoices")
    assert page.status_code == 200
    assert len(table_rows(page, "invoices")) == 20
    assert text_of(page, "invoice-count") == "20 of 23 invoices"
    everything = client.get("/invoices?all=1")
    assert len(table_rows(everything, "invoices")) == 23


def test_an_invoice_page_shows_terms_po_and_its_flag_and_its_pdf_downloads(ep_world: EnterpriseWorld) -> None:
    ep_world.po("PO-OLD", 100_000, ep_world.today - dt.timedelta(days=400), ep_world.today - dt.timedelta(days=35))
    issued = ep_world.issue(50_000, po="PO-OLD").invoice
    client = ep_world.signed_in()
    page = client.get(f"/invoices/{issued.id}")
    assert text_of(page, "invoice-po") == "PO-OLD"
    assert text_of(page, "invoice-terms") == "NET 30"
    assert text_of(page, "po-flag") == "This invoice was flagged when issued: Purchase order expired."
    assert text_of(page, "invoice-balance") == "$500.00"
    pdf = client.get(f"/invoices/{issued.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_two_invoices_paid_in_one_payment_after_the_allocation_is_shown(ep_world: EnterpriseWorld) -> None:
    a = ep_world.issue(10_000, days_ago=40).invoice
    b = ep_world.issue(25_050).invoice
    client = ep_world.signed_in()
    preview = _preview(client, [a.id, b.id], "200.00")
    assert preview.status_code == 200, text(preview)
    assert table_rows(preview, "allocation") == [
        [a.number, "$100.00", "$100.00", "$0.00"], [b.number, "$250.50", "$100.00", "$150.50"]]
    done = _confirm(client, preview)
    assert done.status_code == 200, text(done)
    assert text_of(done, "page-title") == "Thank you for your payment"
    listing = client.get("/invoices")
    assert text_of(listing, f"state-{a.number}") == "Paid"
    assert text_of(listing, f"state-{b.number}") == "Partially paid"


def test_s19_the_confirm_form_submitted_twice_pays_once(ep_world: EnterpriseWorld) -> None:
    a = ep_world.issue(10_000).invoice
    client = ep_world.signed_in()
    preview = _preview(client, [a.id], "100.00")
    assert _confirm(client, preview).status_code == 200
    assert _confirm(client, preview).status_code == 200
    detail = client.get(f"/invoices/{a.id}")
    assert text_of(detail, "invoice-paid") == "$100.00"


def test_s17_paying_after_15_minutes_asks_for_the_password_first(ep_world: EnterpriseWorld) -> None:
    a = ep_world.issue(10_000).invoice
    client = ep_world.signed_in()
    ep_world.age_sessions(16)
    answer = client.get(f"/pay?invoice={a.id}")
    assert answer.status_code == 302 and "/confirm-password" in answer.headers["Location"]


def test_a_declined_card_says_so_on_the_form_and_pays_nothing(ep_world: EnterpriseWorld) -> None:
    a = ep_world.issue(10_000).invoice
    client = ep_world.signed_in()
    answer = _confirm(client, _preview(client, [a.id], "100.00"), number="4000 0000 0000 0002")
    assert answer.status_code == 409
    assert "declined" in text(answer)
    assert text_of(client.get(f"/invoices/{a.id}"), "invoice-paid") == "$0.00"


def test_bad_amounts_are_form_errors_naming_the_field(ep_world: EnterpriseWorld) -> None:
    a = ep_world.issue(10_000).invoice
    client = ep_world.signed_in()
    for amount, status in (("lots", 400), ("100.001", 400), ("500.00", 400)):
        answer = _preview(client, [a.id], amount)
        assert answer.status_code == status, (amount, text(answer))
        assert field_error(text(answer), "amount")


def test_the_statement_shows_the_aging_buckets(ep_world: EnterpriseWorld) -> None:
    ep_world.issue(10_000, days_ago=100)  # due 70 days ago
    ep_world.issue(20_000, days_ago=45)  # due 15 days ago
    ep_world.issue(30_000)
    client = ep_world.signed_in()
    start = (ep_world.today - dt.timedelta(days=120)).isoformat()
    page = client.get(f"/statement?start={start}&end={ep_world.today.isoformat()}")
    assert page.status_code == 200
    assert table_rows(page, "aging") == [["$300.00", "$200.00", "$0.00", "$100.00", "$0.00", "$600.00"]]
    assert text_of(page, "closing-balance") == "$600.00"
    pdf = client.get(f"/statement.pdf?start={start}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/statement?start=yesterday").status_code == 302


def test_the_statement_page_shows_the_newest_entries_and_pages_to_older_ones(
        ep_world: EnterpriseWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(billing_views, "STATEMENT_PAGE_SIZE", 2)
    numbers = [ep_world.issue(10_000).invoice.number for _ in range(3)]
    client = ep_world.signed_in()
    page = client.get("/statement")
    assert [row[2] for row in table_rows(page, "entries")] == numbers[1:]
    assert text_of(page, "entries-count") == "2 of 3 entries"
    assert text_of(page, "closing-balance") == "$300.00"
    older = client.get(str(attr_of(page, "older-entries", "href")))
    assert [row[2] for row in table_rows(older, "entries")] == numbers[:1]
    assert text_of(older, "entries-count") == "1 of 3 entries"
    newer = client.get(str(attr_of(older, "newer-entries", "href")))
    assert [row[2] for row in table_rows(newer, "entries")] == numbers[1:]
    assert client.get("/statement?before=forged").status_code == 302
    pdf = client.get("/statement.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_a_contact_adds_and_edits_a_po_and_sees_its_remaining_balance(ep_world: EnterpriseWorld) -> None:
    client = ep_world.signed_in()
    page = client.get("/purchase-orders/new")
    answer = client.post("/purchase-orders/new", data={
        "csrf_token": csrf_from(text(page)), "number": "PO-7781", "amount": "1000.00", "currency": "USD",
        "valid_from": ep_world.today.isoformat(), "valid_to": (ep_world.today + dt.timedelta(days=90)).isoformat()})
    assert answer.status_code == 302, text(answer)
    ep_world.issue(40_000, po="PO-7781")
    listing = client.get("/purchase-orders")
    assert text_of(listing, "remaining-PO-7781") == "$600.00"
    assert text_of(listing, "po-status-PO-7781") == "Active"
    again = client.post("/purchase-orders/new", data={
        "csrf_token": csrf_from(text(page)), "number": "PO-7781", "amount": "1.00", "currency": "USD",
        "valid_from": "2026-01-01", "valid_to": "2026-12-31"})
    assert again.status_code == 409 and field_error(text(again), "number")
    bad = client.post("/purchase-orders/new", data={
        "csrf_token": csrf_from(text(page)), "number": "PO-2", "amount": "1.00", "currency": "USD",
        "valid_from": "soon", "valid_to": "2026-12-31"})
    assert bad.status_code == 400 and field_error(text(bad), "valid_from")


def test_s13_a_contact_reaches_no_other_accounts_invoice_or_the_rep_console(ep_world: EnterpriseWorld) -> None:
    theirs = ep_world.issue(10_000, account=INITECH).invoice
    client = ep_world.signed_in()
    assert client.get(f"/invoices/{theirs.id}").status_code == 404
    assert client.get(f"/invoices/{theirs.id}.pdf").status_code == 404
    assert client.get(f"/accounts/{INITECH}/invoices").status_code == 404
    assert client.get(f"/accounts/{GLOBEX}/invoices").status_code == 404


def test_s14_a_rep_sees_their_accounts_and_records_an_offline_overpayment_as_credit(ep_world: EnterpriseWorld) -> None:
    invoice = ep_world.issue(10_000).invoice
    rep = ep_world.signed_in(REP)
    landing = rep.get("/")
    assert f"/accounts/{GLOBEX}/invoices" in text(landing)
    page = rep.get(f"/accounts/{GLOBEX}/payments/new?invoice={invoice.id}")
    assert page.status_code == 200, text(page)
    answer = rep.post(f"/accounts/{GLOBEX}/payments/new", data={
        "csrf_token": csrf_from(text(page)), "invoice_ids": invoice.id, "method": "check", "reference": "CHK-1001",
        "amount": "120.00"})
    assert answer.status_code == 302, text(answer)
    listing = rep.get(f"/accounts/{GLOBEX}/invoices")
    assert text_of(listing, f"state-{invoice.number}") == "Paid"
    statement = rep.get(f"/accounts/{GLOBEX}/statement")
    assert text_of(statement, "unapplied-credit") == "$20.00"
    assert rep.get("/pay?invoice=" + invoice.id).status_code == 403  # paying by card is the customer's


def test_s14_a_rep_gets_404_for_an_account_they_do_not_serve(ep_world: EnterpriseWorld) -> None:
    invoice = ep_world.issue(10_000).invoice
    other = ep_world.signed_in(OTHER_REP)
    assert other.get(f"/accounts/{GLOBEX}/invoices").status_code == 404
    assert other.get(f"/accounts/{GLOBEX}/invoices/{invoice.id}").status_code == 404
    assert other.get(f"/accounts/{INITECH}/invoices").status_code == 200
    assert other.get(f"/accounts/{INITECH}/invoices/{invoice.id}").status_code == 404  # S13 within the console
