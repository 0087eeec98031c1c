"""The Enterprise portal's quote pages, rep console and contact side, against the fake identity
and a REAL enterprise_portal server (SQLite): the lifecycle, S13/S14 (another account's quote
or an account the rep does not serve is 404; members and contacts get 403 at the console),
S16 (no token, no change) and bad input as a form error naming the field, never a 500."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.enterprise_portal import bootstrap
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.entrypoints.grpc_server import build
from tests import callers
from tests.pages import attr_of, table_rows, text_of
from tests.unit.web.conftest import World
from tests.unit.web.helpers import field_error, form_error, post_form, sign_in
from web.enterprise_portal.views import quotes as quote_views

VALID = (dt.date.today() + dt.timedelta(days=30)).isoformat()
CONSOLE = "/accounts/acc-globex/quotes"


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[str]:
    settings = EnterprisePortalSettings(database_url=f"sqlite:///{tmp_path / 'ep.db'}", grpc_bind="127.0.0.1:0",
                                        maildir=tmp_path / "mail", env="test", shutdown_grace=1.0, **callers.ENV)
    bootstrap.migrate(settings)
    server = build(settings).start()
    yield f"127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture
def app(make_app: Any, backend: str, world: World) -> Flask:
    app: Flask = make_app("ebp", ENTERPRISE_PORTAL_TARGET=backend)
    return app


def _client(app: Flask, login: str, password: str) -> Any:
    client = app.test_client()
    assert sign_in(client, login, password).status_code == 302
    return client


@pytest.fixture
def rep(app: Flask) -> Any:
    return _client(app, "rita.rep", "Rep-demo-2026!")


@pytest.fixture
def contact(app: Flask) -> Any:
    return _client(app, "globex-billing", "Enterprise-demo-2026!")


def _draft(rep: Any, path: str = f"{CONSOLE}/new", **rows: str) -> Any:
    data = {"currency": "USD", "valid_until": VALID, "terms": "NET 45",
            "line-0-plan": "enterprise-annual", "line-0-description": "", "line-0-quantity": "120",
            "line-0-price": "", "line-0-discount": "15",
            "line-1-plan": "", "line-1-description": "Onboarding workshop", "line-1-quantity": "2",
            "line-1-price": "1,500.00", "line-1-discount": ""}
    data.update(rows)
    return post_form(rep, path, data)


def _post(client: Any, page: str, action: str, data: dict[str, str]) -> Any:
    return post_form(client, page, data, action=action)


def test_the_quote_lifecycle_through_both_sides(rep: Any, contact: Any) -> None:
    saved = _draft(rep)
    assert (saved.status_code, saved.headers["Location"]) == (302, f"{CONSOLE}/QT-0001")
    page = rep.get(f"{CONSOLE}/QT-0001")
    assert text_of(page, "quote-status") == "Draft"
    # The console's account navigation leads to the account's invoices, statement, POs and quotes.
    assert [text_of(page, f"account-{k}") for k in ("invoices", "statement", "purchase-orders", "quotes")] == [
        "Invoices", "Statement", "Purchase orders", "Quotes"]
    assert table_rows(page, "version-1-lines") == [
        ["Enterprise, annual", "120", "$264.00", "15%", "$26,928.00"],
        ["Onboarding workshop", "2", "$1,500.00", "", "$3,000.00"]]
    assert [text_of(page, f"version-1-{k}") for k in ("subtotal", "discount", "total")] == [
        "$34,680.00", "$4,752.00", "$29,928.00"]
    # The draft is the rep's alone.
    assert text_of(contact.get("/quotes"), "no-quotes") == "There are no quotes here."
    assert contact.get("/quotes/QT-0001").status_code == 404

    sent = _post(rep, f"{CONSOLE}/QT-0001", f"{CONSOLE}/QT-0001/send", {})
    assert sent.status_code == 302
    listed = contact.get("/quotes?status=open")
    assert table_rows(listed, "quotes")[0] == ["QT-0001-1", dt.date.fromisoformat(VALID).strftime("%B %-d, %Y"),
                                               "NET 45", "$29,928.00", "Open"]

    asked = _post(contact, "/quotes/QT-0001", "/quotes/QT-0001/comment",
                  {"body": "Can you do 20% on the seats?", "change_request": "y"})
    assert asked.status_code == 302
    thread = rep.get(f"{CONSOLE}/QT-0001")
    assert text_of(thread, "comment-1") == (
        "Globex Accounts Payable · QT-0001-1 · Change request Can you do 20% on the seats?")

    revised = _draft(rep, f"{CONSOLE}/QT-0001/edit", **{"line-0-discount": "20", "line-1-plan": "",
                                                       "line-1-description": "", "line-1-quantity": "",
                                                       "line-1-price": ""})
    assert revised.status_code == 302
    _post(rep, f"{CONSOLE}/QT-0001", f"{CONSOLE}/QT-0001/send", {})
    page = contact.get("/quotes/QT-0001")
    assert (text_of(page, "version-1-status"), text_of(page, "version-2-status")) == ("Superseded", "Open")
    assert text_of(page, "version-2-total") == "$25,344.00"

    accepted = _post(contact, "/quotes/QT-0001", "/quotes/QT-0001/accept",
                     {"version": "2", "po_choice": "__new__", "new_po_number": "PO-2027-001"})
    assert accepted.status_code == 302
    page = contact.get("/quotes/QT-0001")
    assert (text_of(page, "quote-status"), text_of(page, "version-2-po")) == ("Accepted", "PO-2027-001")
    assert text_of(page, "flash-1") == f"You accepted the quote. Invoice EP-{dt.date.today().year}-000001 was issued."
    pdf = contact.get("/quotes/QT-0001/2.pdf")
    assert (pdf.status_code, pdf.headers["Content-Type"]) == (200, "application/pdf")
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="QT-0001-2.pdf"'
    assert contact.get("/quotes/QT-0001/1.pdf").status_code == 200
    assert rep.get(f"{CONSOLE}/QT-0001/2.pdf").status_code == 200


def test_the_contacts_quotes_list_pages_to_older_quotes_keeping_its_filter(
        rep: Any, contact: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quote_views, "QUOTE_PAGE_SIZE", 2)
    for n in range(1, 4):
        _draft(rep)
        _post(rep, f"{CONSOLE}/QT-000{n}", f"{CONSOLE}/QT-000{n}/send", {})
    first = contact.get("/quotes?status=open")
    assert [row[0] for row in table_rows(first, "quotes")] == ["QT-0003-1", "QT-0002-1"]
    assert text_of(first, "quotes-pager") == "Older quotes"
    older = contact.get(str(attr_of(first, "older-quotes", "href")))
    assert [row[0] for row in table_rows(older, "quotes")] == ["QT-0001-1"]
    assert text_of(older, "quotes-pager") == "Newest quotes"
    assert attr_of(older, "newest-quotes", "href") == "/quotes?status=open"
    assert contact.get("/quotes?page=" + "Q" * 17).status_code == 404


def test_s13_s14_other_accounts_and_other_roles(app: Flask, rep: Any, contact: Any) -> None:
    assert _draft(rep, "/accounts/acc-initech/quotes/new", currency="BRL").status_code == 302
    _post(rep, "/accounts/acc-initech/quotes/QT-0001", "/accounts/acc-initech/quotes/QT-0001/send", {})
    # Globex's contact: Initech's quote does not exist for them.
    assert contact.get("/quotes/QT-0001").status_code == 404
    assert contact.get("/quotes/QT-0001/1.pdf").status_code == 404
    assert _post(contact, "/quotes", "/quotes/QT-0001/comment", {"body": "hi"}).status_code == 404
    # The rep's Globex console does not find Initech's quote; an account they do not serve is 404.
    assert rep.get(f"{CONSOLE}/QT-0001").status_code == 404
    assert rep.get("/accounts/acc-acme/quotes").status_code == 404
    assert rep.get("/accounts/acc-nobody/quotes/new").status_code == 404
    # A contact at the rep console, a rep at the contact's pages: 403 (members never get a
    # session at this door: identity refuses them).
    assert contact.get(CONSOLE).status_code == 403
    assert _post(contact, "/quotes", f"{CONSOLE}/new", {}).status_code == 403
    assert rep.get("/quotes").status_code == 403


def test_no_change_without_the_csrf_token_s16(rep: Any, contact: Any) -> None:
    response = rep.post(f"{CONSOLE}/new", data={"currency": "USD", "valid_until": VALID, "terms": "NET 30",
                                                "line-0-description": "x", "line-0-price": "1"})
    assert response.status_code == 400
    assert text_of(rep.get(CONSOLE), "no-quotes") == "There are no quotes here."


@pytest.mark.parametrize(("rows", "where", "message"), [
    ({"line-0-quantity": "many"}, "form", "Line 1: Quantity must be a whole number."),
    ({"line-0-quantity": "0"}, "form", "Line 1: Quantity must be a whole number from 1 to 1,000,000."),
    ({"line-1-price": "abc"}, "form", "Line 2: Unit price must be an amount such as 1234.50."),
    ({"line-1-price": "-5"}, "form", "Line 2: Unit price must be an amount such as 1234.50."),
    ({"line-1-price": "NaN"}, "form", "Line 2: Unit price must be an amount such as 1234.50."),
    ({"line-0-discount": "101"}, "form", "Line 1: Discount must be a percentage from 0 to 100."),
    ({"line-0-plan": "nope"}, "form", "Line 1: choose a plan from the list."),
    ({"valid_until": "soon"}, "valid_until", "Enter a date as YYYY-MM-DD."),
    ({"valid_until": "2001-01-01"}, "valid_until", "a quote is valid until today or later"),
    ({"terms": "NET 7"}, "terms", "Choose NET 30, NET 45, NET 60 or EOM."),
    ({"currency": "XYZ"}, "currency", "Enter a currency code such as USD."),
    ({"currency": "US"}, "currency", "Enter a currency code such as USD."),
    ({"line-1-description": "bad\x00text"}, "form",
     "Line 2: Description is required (at most 200 characters)."),
])
def test_a_bad_draft_is_a_400_naming_what_to_fix_and_saves_nothing(rep: Any, rows: dict[str, str], where: str,
                                                                     message: str) -> None:
    response = _draft(rep, **rows)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert (form_error(page) if where == "form" else field_error(page, where)) == message
    assert text_of(rep.get(CONSOLE), "no-quotes") == "There are no quotes here."


def test_bad_decisions_are_form_errors_never_500(rep: Any, contact: Any) -> None:
    _draft(rep)
    _post(rep, f"{CONSOLE}/QT-0001", f"{CONSOLE}/QT-0001/send", {})
    page, accept = "/quotes/QT-0001", "/quotes/QT-0001/accept"
    no_po = _post(contact, page, accept, {"version": "1", "po_choice": "__new__", "new_po_number": ""})
    assert (no_po.status_code, field_error(no_po.get_data(as_text=True), "new_po_number")) == (
        400, "Enter the new PO number.")
    unknown = _post(contact, page, accept, {"version": "1", "po_choice": "PO-NOT-OURS"})
    assert (unknown.status_code, field_error(unknown.get_data(as_text=True), "po_choice")) == (
        400, "Purchase order is not valid. Check it and try again.")
    for version in ("x", "0", "99999999999"):
        assert _post(contact, page, accept, {"version": version, "po_choice": "__new__",
                                             "new_po_number": "PO-1"}).status_code == 400
    assert _post(contact, page, accept, {"version": "7", "po_choice": "__new__",
                                         "new_po_number": "PO-1"}).status_code == 400
    no_reason = _post(contact, page, "/quotes/QT-0001/decline", {"version": "1", "reason": "  "})
    assert (no_reason.status_code, field_error(no_reason.get_data(as_text=True), "reason")) == (
        400, "Reason is required.")
    too_long = _post(contact, page, "/quotes/QT-0001/comment", {"body": "x" * 2001})
    assert too_long.status_code == 400
    for path in ("/quotes/..%2Fetc", "/quotes/QT-1", "/quotes/QT-0001/0.pdf", "/quotes?status=lost"):
        assert contact.get(path).status_code == 404, path
    assert text_of(contact.get(page), "quote-status") == "Open"


def test_pages_read_in_portuguese(rep: Any, contact: Any) -> None:
    _draft(rep)
    _post(rep, f"{CONSOLE}/QT-0001", f"{CONSOLE}/QT-0001/send", {})
    contact.set_cookie("lang", "pt_BR")
    page = contact.get("/quotes/QT-0001", headers={"Accept-Language": "pt-BR"})
    assert text_of(page, "page-title") == "Cotação QT-0001"
    assert text_of(page, "quote-status") == "Em aberto"
    assert re.search(r"US\$\s29\.928,00", text_of(page, "version-1-total") or "")


FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ANY_TEXT = st.text(max_size=40)


@FUZZ
@given(plan=ANY_TEXT, description=ANY_TEXT, quantity=ANY_TEXT, price=ANY_TEXT, discount=ANY_TEXT,
       valid_until=ANY_TEXT, terms=ANY_TEXT, currency=st.text(max_size=5))
def test_fuzzed_drafts_never_fail_on_the_server(rep: Any, plan: str, description: str, quantity: str, price: str,
                                                discount: str, valid_until: str, terms: str,
                                                currency: str) -> None:
    response = _draft(rep, **{"line-0-plan": plan, "line-0-description": description, "line-0-quantity": quantity,
                              "line-0-price": price, "line-0-discount": discount, "valid_until": valid_until,
                              "terms": terms, "currency": currency})
    assert response.status_code in (302, 400), response.status_code


@FUZZ
@given(version=ANY_TEXT, po_choice=ANY_TEXT, new_po=ANY_TEXT, reason=ANY_TEXT, body=ANY_TEXT)
def test_fuzzed_decisions_never_fail_on_the_server(sent: Any, contact: Any, version: str, po_choice: str,
                                                   new_po: str, reason: str, body: str) -> None:
    page = "/quotes/QT-0001"
    for action, data in (("accept", {"version": version, "po_choice": po_choice, "new_po_number": new_po}),
                         ("decline", {"version": version, "reason": reason}),
                         ("comment", {"body": body})):
        response = _post(contact, page, f"{page}/{action}", data)
        assert response.status_code in (302, 400, 409), (action, response.status_code)


@pytest.fixture
def sent(rep: Any) -> None:
    _draft(rep)
    _post(rep, f"{CONSOLE}/QT-0001", f"{CONSOLE}/QT-0001/send", {})


def test_with_enterprise_portal_down_the_pages_answer_503_never_500_s15(make_app: Any, world: World) -> None:
    app = make_app("ebp", ENTERPRISE_PORTAL_TARGET="127.0.0.1:1")
    contact = _client(app, "globex-billing", "Enterprise-demo-2026!")
    rep = _client(app, "rita.rep", "Rep-demo-2026!")
    for client, path in ((contact, "/quotes"), (contact, "/quotes/QT-0001"), (contact, "/quotes/QT-0001/1.pdf"),
                         (rep, CONSOLE), (rep, f"{CONSOLE}/new"), (rep, f"{CONSOLE}/QT-0001")):
        response = client.get(path)
        assert response.status_code == 503, path


def test_a_new_po_number_that_is_already_a_po_of_the_account_is_a_field_error_saying_to_choose_it(
        rep: Any, contact: Any) -> None:
    _draft(rep)
    _post(rep, f"{CONSOLE}/QT-0001", f"{CONSOLE}/QT-0001/send", {})
    created = _post(contact, "/purchase-orders/new", "/purchase-orders/new", {
        "number": "PO-OLD-1", "amount": "100.00", "currency": "USD", "valid_from": "2020-01-01",
        "valid_to": "2020-12-31"})
    assert created.status_code == 302
    taken = _post(contact, "/quotes/QT-0001", "/quotes/QT-0001/accept",
                  {"version": "1", "po_choice": "__new__", "new_po_number": "PO-OLD-1"})
    assert (taken.status_code, field_error(taken.get_data(as_text=True), "new_po_number")) == (
        400, "PO-OLD-1 is already one of your purchase orders: choose it in the list instead.")
    assert text_of(contact.get("/quotes/QT-0001"), "quote-status") == "Open"
