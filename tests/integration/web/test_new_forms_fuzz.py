"""S24 for the forms the Billing Center and Enterprise portal issues added: fuzzed values in
every field of each form (plan change and its confirmation, cancel, reactivate, cards, billing
profile, members' requests and their decisions; pay and confirm, purchase orders, offline
payments, billing contacts and handovers, the statement's dates) against the real services
never answer a 500 (nor a 503: the backends are up). Refusals are the forms' own (400 naming
the field, 404, 409); the pages' exact messages are the other tests'."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.web.billing_center_world import BillingWorld, bc_world  # noqa: F401
from tests.integration.web.enterprise_world import GLOBEX, REP, EnterpriseWorld, ep_world  # noqa: F401
from tests.unit.web.helpers import csrf_from, text

ODD = ["", " ", "0", "-1", "1", "12", "1e9", "99999999999999999999", "1.005", "12,50", "2026-02-30", "2026-12-04",
       "9999-12-31", "monthly", "annual", "starter", "business", "enterprise", "12", "2031", "123",
       "BR", "US", "XX", "USD", "BRL", "a@b.test", "pt-BR", "zz",
       "approve", "decline", "bank_transfer", "x" * 3000, "\u202e", "\x00", "a\r\nb", "<script>", "' OR 1=1 --"]
VALUE = st.one_of(st.sampled_from(ODD), st.text(st.characters(blacklist_categories=("Cs",)), max_size=60))
# Card numbers only in the card fields: one typed into a free-text field (a reason, a note) is
# the user's text and travels as such, which the S18 scan of the worlds would rightly report.
CARD_VALUE = st.one_of(VALUE, st.sampled_from(["4242 4242 4242 4242", "4000000000000341", "4000000000000408",
                                               "4242424242424241", "4111111111111111"]))
FUZZ = settings(max_examples=120, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
OK = {200, 302, 303, 400, 403, 404, 409, 413, 422}


def _form(fields: list[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional={f: CARD_VALUE if f in CARD else VALUE for f in fields})


CARD = ["holder_name", "number", "exp_month", "exp_year", "cvc"]
BC_FORMS: list[tuple[str, str, list[str]]] = [
    ("/subscription/change", "/subscription/change/preview", ["plan_code", "seats", "interval"]),
    ("/subscription/change", "/subscription/change/confirm", ["plan_code", "seats", "interval", "idempotency_key"]),
    ("/subscription", "/subscription/cancel", ["reason"]),
    ("/subscription", "/subscription/reactivate", ["idempotency_key"]),
    ("/subscription", "/subscription/undo-change", []),
    ("/payment-methods/add", "/payment-methods/add", [*CARD, "make_default"]),
    ("/payment-methods", "/payment-methods/default", ["payment_method_id"]),
    ("/payment-methods", "/payment-methods/remove", ["payment_method_id"]),
    ("/billing-profile", "/billing-profile", ["company_name", "address_line1", "address_line2", "city", "region",
                                              "postal_code", "country", "tax_id", "invoice_emails"]),
    ("/requests", "/requests/{rid}/approve", ["idempotency_key"]),
    ("/requests", "/requests/{rid}/decline", ["reason"]),
    ("/requests", "/requests/{junk}/decline", ["reason"]),
]
MEMBER_FORMS: list[tuple[str, str, list[str]]] = [
    ("/", "/requests", ["request-plan_code", "request-seats", "request-interval", "request-note"]),
    ("/", "/requests/{rid}/withdraw", []),
]
EP_CONTACT_FORMS: list[tuple[str, str, list[str]]] = [
    ("/invoices", "/pay", ["invoice_ids", "amount"]),
    ("/invoices", "/pay/confirm", [*CARD, "invoice_ids", "amount", "idempotency_key"]),
    ("/purchase-orders/new", "/purchase-orders/new", ["number", "amount", "currency", "valid_from", "valid_to",
                                                      "notes"]),
    (f"/accounts/{GLOBEX}/contacts", f"/accounts/{GLOBEX}/contacts/add", ["name", "email", "login", "locale"]),
    (f"/accounts/{GLOBEX}/contacts", f"/accounts/{GLOBEX}/contacts/primary", ["user_id"]),
    (f"/accounts/{GLOBEX}/contacts", f"/accounts/{GLOBEX}/handovers", ["name", "email", "login", "locale",
                                                                       "replaced_user_id"]),
    (f"/accounts/{GLOBEX}/contacts", f"/accounts/{GLOBEX}/handovers/{{junk}}/decide", ["decision", "next"]),
]
EP_REP_FORMS: list[tuple[str, str, list[str]]] = [
    (f"/accounts/{GLOBEX}/invoices", f"/accounts/{GLOBEX}/payments/new", ["invoice_ids", "method", "reference",
                                                                         "amount", "received_on"]),
    (f"/accounts/{GLOBEX}/invoices", f"/accounts/{GLOBEX}/purchase-orders/new", ["number", "amount", "currency",
                                                                                "valid_from", "valid_to"]),
]


def _segment(junk: str) -> str:
    """Any text as one path segment (an empty one would be another URL)."""
    return quote(junk, safe="") or "_"


def _post(client: Any, tokens: dict[str, str], page: str, action: str, values: dict[str, str],
          ids: dict[str, str]) -> None:
    if page not in tokens:
        tokens[page] = csrf_from(text(client.get(page)))
    path = action.format(**ids)
    response = client.post(path, data={"csrf_token": tokens[page], **values})
    assert response.status_code in OK, (path, values, response.status_code, text(response)[:500])


def _choose(forms: list[tuple[str, str, list[str]]]) -> st.SearchStrategy[tuple[tuple[str, str, list[str]], dict]]:  # type: ignore[type-arg]
    return st.sampled_from(forms).flatmap(lambda f: st.tuples(st.just(f), _form(f[2])))


@FUZZ
@given(contact_form=_choose(BC_FORMS), member_form=_choose(MEMBER_FORMS), junk=VALUE)
def test_fuzzed_billing_center_forms_never_answer_500(bc_world: BillingWorld, contact_form, member_form,  # type: ignore[no-untyped-def]  # noqa: F811
                                                     junk) -> None:
    world = bc_world
    contact = world.__dict__.setdefault("_fuzz_contact", world.signed_in())
    member = world.__dict__.setdefault("_fuzz_member", world.signed_in("mark@acme.test", "Member-demo-2026!"))
    tokens = world.__dict__.setdefault("_fuzz_tokens", {"contact": {}, "member": {}})
    rids = re.findall(r'id="review-([0-9a-f-]+)"', text(contact.get("/requests")))
    ids = {"rid": rids[0] if rids else "00000000-0000-4000-8000-000000000000", "junk": _segment(junk)}
    (page, action, _), values = member_form
    _post(member, tokens["member"], page, action, values, ids)
    (page, action, _), values = contact_form
    _post(contact, tokens["contact"], page, action, values, ids)


@FUZZ
@given(contact_form=_choose(EP_CONTACT_FORMS), rep_form=_choose(EP_REP_FORMS), junk=VALUE,
       start=VALUE, end=VALUE)
def test_fuzzed_enterprise_forms_and_statement_dates_never_answer_500(ep_world: EnterpriseWorld,  # type: ignore[no-untyped-def]  # noqa: F811
                                                                      contact_form, rep_form, junk, start, end) -> None:
    world = ep_world
    if "_fuzz_invoice" not in world.__dict__:
        world.__dict__["_fuzz_invoice"] = world.issue(50_000, days_ago=10).invoice.id
        world.__dict__["_fuzz_contact"] = world.signed_in()
        world.__dict__["_fuzz_rep"] = world.signed_in(REP)
        world.__dict__["_fuzz_tokens"] = {"contact": {}, "rep": {}}
    contact, rep, tokens = world.__dict__["_fuzz_contact"], world.__dict__["_fuzz_rep"], world.__dict__["_fuzz_tokens"]
    ids = {"junk": _segment(junk)}
    (page, action, _), values = contact_form
    if "invoice_ids" in values and values["invoice_ids"] == "0":
        values = {**values, "invoice_ids": world.__dict__["_fuzz_invoice"]}  # now and then a real one
    _post(contact, tokens["contact"], page, action, values, ids)
    (page, action, _), values = rep_form
    _post(rep, tokens["rep"], page, action, values, ids)
    for client, base in ((contact, ""), (rep, f"/accounts/{GLOBEX}")):
        response = client.get(f"{base}/statement", query_string={"start": start, "end": end})
        assert response.status_code in OK, (start, end, response.status_code)
