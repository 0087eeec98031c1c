"""S15 for the areas the Billing Center and Enterprise portal issues added: with the backend
down, every page of the members' change requests (Billing Center), and of the Enterprise
portal's invoices, payments, statement, purchase orders, quotes and billing contacts, answers
the clear 503 page (never a 500, never a page with data), and a form posted then changes
nothing and answers the same page."""
from __future__ import annotations

import re

from tests.integration.web.billing_center_world import BillingWorld, bc_world  # noqa: F401
from tests.integration.web.enterprise_world import GLOBEX, REP, EnterpriseWorld, ep_world  # noqa: F401
from tests.integration.web.test_enterprise_invoicing import CARD
from tests.pages import text_of
from tests.unit.web.helpers import csrf_from, hidden, text

UNAVAILABLE = "The service is temporarily unavailable, try again in a few minutes."
MEMBER = ("mark@acme.test", "Member-demo-2026!")


def _is_the_503_page(response, *absent: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, (response.status_code, response.request.path)
    page = text(response)
    assert text_of(page, "error-message") == UNAVAILABLE, response.request.path
    assert "Traceback" not in page and all(a not in page for a in absent), response.request.path


def test_the_billing_center_requests_pages_answer_503_with_online_billing_down(bc_world: BillingWorld) -> None:  # noqa: F811
    member, contact = bc_world.signed_in(*MEMBER), bc_world.signed_in()
    token = csrf_from(text(member.get("/")))
    assert member.post("/requests", data={"request-csrf_token": token, "request-plan_code": "business",
                                          "request-seats": "12", "request-interval": "monthly",
                                          "request-note": "Two new hires."}).status_code == 302
    [rid] = re.findall(r'id="review-([0-9a-f-]+)"', text(contact.get("/requests")))
    review = text(contact.get(f"/requests/{rid}"))
    approve = {"csrf_token": hidden(review, "csrf_token"), "idempotency_key": hidden(review, "idempotency_key")}
    page_token = csrf_from(text(member.get("/")))
    bc_world.online_server.stop()
    for path in ("/requests", f"/requests/{rid}", "/subscription", "/invoices", "/payment-methods"):
        _is_the_503_page(contact.get(path), "Two new hires.", "Mark Member")
    _is_the_503_page(member.get("/"), "Two new hires.")
    _is_the_503_page(contact.post(f"/requests/{rid}/approve", data=approve))
    _is_the_503_page(contact.post(f"/requests/{rid}/decline", data={"csrf_token": approve["csrf_token"],
                                                                   "reason": "Not now."}))
    _is_the_503_page(member.post(f"/requests/{rid}/withdraw", data={"csrf_token": page_token}))


def test_the_enterprise_billing_pages_answer_503_with_enterprise_portal_down(ep_world: EnterpriseWorld) -> None:  # noqa: F811
    invoice = ep_world.issue(12_345_00, days_ago=40).invoice
    contact, rep = ep_world.signed_in(), ep_world.signed_in(REP)
    pay_page = contact.get(f"/pay?invoice={invoice.id}")
    pay = {"csrf_token": csrf_from(text(pay_page)), "invoice_ids": invoice.id, "amount": "10.00"}
    preview = text(contact.post("/pay", data=pay))
    confirm = {"csrf_token": csrf_from(preview), "invoice_ids": hidden(preview, "invoice_ids"),
               "amount": hidden(preview, "amount"), "idempotency_key": hidden(preview, "idempotency_key"), **CARD}
    ep_world.server.stop()
    for path in ("/invoices", f"/invoices/{invoice.id}", f"/invoices/{invoice.id}.pdf", "/statement",
                 "/statement.pdf", "/purchase-orders", f"/pay?invoice={invoice.id}",
                 "/quotes", "/quotes/QT-0001"):
        _is_the_503_page(contact.get(path), "$12,345.00", invoice.number)
    for path in (f"/accounts/{GLOBEX}/invoices", f"/accounts/{GLOBEX}/statement", f"/accounts/{GLOBEX}/quotes",
                 f"/accounts/{GLOBEX}/payments/new?invoice={invoice.id}"):
        _is_the_503_page(rep.get(path), "$12,345.00", invoice.number)
    _is_the_503_page(contact.post("/pay", data=pay))
    _is_the_503_page(contact.post("/pay/confirm", data=confirm), "4242424242424242")


def test_the_billing_contacts_pages_answer_503_with_identity_down(ep_world: EnterpriseWorld) -> None:  # noqa: F811
    contact, rep = ep_world.signed_in(), ep_world.signed_in(REP)
    token = csrf_from(text(contact.get(f"/accounts/{GLOBEX}/contacts")))
    ep_world.identity_server.stop()
    _is_the_503_page(contact.get("/contacts"), "globex-billing")
    _is_the_503_page(rep.get(f"/accounts/{GLOBEX}/contacts"), "globex-billing")
    _is_the_503_page(contact.post(f"/accounts/{GLOBEX}/contacts/add", data={
        "csrf_token": token, "name": "Dana New", "email": "dana@globex.test", "login": "dana@globex.test"}))
