"""The quote RPCs over a real channel to an in-process server on a real database (PostgreSQL
with TEST_DATABASE_URL): the lifecycle, S13 (another account's quote is NOT_FOUND), drafts
hidden from contacts, mails written to the outbox, and bad input INVALID_ARGUMENT naming the
field with nothing written."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from sqlalchemy import Engine, func, select

from billing.common.v1 import money_pb2
from billing.enterprise_portal.v1 import enterprise_portal_pb2 as pb
from billing.enterprise_portal.v1 import enterprise_portal_pb2_grpc
from billing_common.billing_contacts import AccountContacts, BillingContact, FakeBillingContacts
from billing_common.grpc_client import error_field, make_channel
from services.enterprise_portal.adapters import orm
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.entrypoints.grpc_server import build
from services.enterprise_portal.service_layer import mails
from tests import callers

REP = pb.QUOTE_VIEWER_REP
CONTACT = pb.QUOTE_VIEWER_CONTACT
# identity's people of the account (a fake identity: tests/integration/enterprise_portal/
# test_enterprise_mails.py asks the real one): a contact reading Portuguese, one English, the rep.
PEOPLE = AccountContacts("acct-globex", "en", (
    BillingContact("user-ana", "Ana Souza", "ana@globex.example", "pt-BR"),
    BillingContact("user-bob", "Bob Finance", "bob@globex.example", "en")),
    (BillingContact("user-rep", "Rita Rep", "rep@vendor.example", "en"),))
VALID = (dt.date.today() + dt.timedelta(days=30)).isoformat()


def usd(minor: int) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=minor, currency="USD")


LINES = [
    pb.QuoteLine(kind="plan", plan_code="enterprise", description="Enterprise, 120 seats, annual", quantity=120,
                 unit_price=usd(26_400), discount_bp=1_500),
    pb.QuoteLine(kind="custom", description="Onboarding workshop", quantity=2, unit_price=usd(150_000)),
]


@pytest.fixture
def stub(settings: EnterprisePortalSettings) -> Iterator[enterprise_portal_pb2_grpc.EnterprisePortalServiceStub]:
    # The outbox is read as written (its dispatcher would address the deferred mails meanwhile).
    quiet = settings.model_copy(update={"outbox_poll_interval": 3600})
    server = build(quiet, contacts=FakeBillingContacts({"acct-globex": PEOPLE})).start()
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.ENTERPRISE, default_timeout=10.0)
    try:
        yield enterprise_portal_pb2_grpc.EnterprisePortalServiceStub(channel)
    finally:
        channel.close()
        server.stop()


def _draft(stub, account: str = "acct-globex", **changes) -> pb.Quote:  # type: ignore[no-untyped-def]
    fields = dict(account_id=account, rep_user_id="user-rep", rep_email="rep@vendor.example", rep_name="Rita Rep",
                  currency="USD", lines=LINES, valid_until=VALID, terms="NET 45")
    fields.update(changes)
    return stub.DraftQuote(pb.DraftQuoteRequest(**fields)).quote


def _outbox(engine: Engine) -> list[tuple[str, str]]:
    """The outbox's mails as the dispatcher will address them (written deferred: whom is identity's)."""
    with engine.connect() as conn:
        rows = conn.execute(select(orm.outbox).order_by(orm.outbox.c.id)).all()
    assert all(r.deferred and not r.to_addrs for r in rows)
    return [(", ".join(m.to), m.subject) for r in rows
            for m in mails.compose(mails.EnterpriseMail.from_json(r.deferred), PEOPLE, "http://portal")]


def _code(call) -> tuple[grpc.StatusCode, str | None]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code(), error_field(caught.value)


def test_the_quote_lifecycle_over_grpc(stub, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    draft = _draft(stub)
    assert (draft.number, draft.status, draft.versions[0].label) == ("QT-0001", "draft", "QT-0001-1")
    assert draft.versions[0].total == usd(2_992_800)  # 120 x 264.00 less 15% + 2 x 1,500.00
    # Invisible to contacts while a draft.
    assert stub.ListQuotes(pb.ListQuotesRequest(account_id="acct-globex", viewer=CONTACT)).quotes == []
    assert _code(lambda: stub.GetQuote(pb.GetQuoteRequest(account_id="acct-globex", number="QT-0001",
                                                          viewer=CONTACT)))[0] is grpc.StatusCode.NOT_FOUND

    sent = stub.SendQuote(pb.SendQuoteRequest(account_id="acct-globex", number="QT-0001")).quote
    assert sent.status == "open"
    listed = stub.ListQuotes(pb.ListQuotesRequest(account_id="acct-globex", viewer=CONTACT, status="open")).quotes
    assert [(q.number, q.versions[0].label) for q in listed] == [("QT-0001", "QT-0001-1")]

    commented = stub.CommentOnQuote(pb.CommentOnQuoteRequest(
        account_id="acct-globex", number="QT-0001", author=CONTACT, author_name="Ana", body="10% more, please",
        change_request=True)).quote
    assert [(c.author, c.kind, c.body) for c in commented.comments] == [("contact", "change_request",
                                                                        "10% more, please")]

    revised = _draft(stub, number="QT-0001", terms="NET 60",
                     lines=[pb.QuoteLine(kind="custom", description="Workshop", quantity=1, unit_price=usd(100_000),
                                         discount_bp=1_000)])
    assert [(v.label, v.status) for v in revised.versions] == [("QT-0001-1", "open"), ("QT-0001-2", "draft")]
    stub.SendQuote(pb.SendQuoteRequest(account_id="acct-globex", number="QT-0001"))
    seen = stub.GetQuote(pb.GetQuoteRequest(account_id="acct-globex", number="QT-0001", viewer=CONTACT)).quote
    assert [(v.label, v.status, v.terms) for v in seen.versions] == [
        ("QT-0001-1", "superseded", "NET 45"), ("QT-0001-2", "open", "NET 60")]
    assert list(seen.valid_po_numbers) == []  # no PO storage wired in yet: the contact enters one

    assert _code(lambda: stub.AcceptQuote(pb.AcceptQuoteRequest(
        account_id="acct-globex", number="QT-0001", version=1, po_number="PO-1", new_po=True,
        by_name="Ana")))[0] is grpc.StatusCode.FAILED_PRECONDITION
    accepted = stub.AcceptQuote(pb.AcceptQuoteRequest(
        account_id="acct-globex", number="QT-0001", version=2, po_number="PO-2027-001", new_po=True, by_name="Ana"))
    assert (accepted.quote.status, accepted.quote.versions[-1].po_number) == ("accepted", "PO-2027-001")
    invoice = f"EP-{dt.date.today().year}-000001"
    assert list(accepted.invoice_numbers) == [invoice]
    issued = stub.GetInvoice(pb.GetInvoiceRequest(account_id="acct-globex", invoice_id=stub.ListInvoices(
        pb.ListInvoicesRequest(account_id="acct-globex")).invoices[0].invoice_id))
    assert (issued.number, issued.terms, issued.po_number) == (invoice, "NET 60", "PO-2027-001")
    [po] = stub.ListPurchaseOrders(pb.ListPurchaseOrdersRequest(account_id="acct-globex")).purchase_orders
    assert (po.number, po.notes) == ("PO-2027-001", "Entered when accepting QT-0001-2")

    pdf = stub.GetQuotePdf(pb.GetQuotePdfRequest(account_id="acct-globex", number="QT-0001", version=2,
                                                 viewer=CONTACT, buyer_name="Globex Corporation", language="en"))
    assert pdf.label == "QT-0001-2" and pdf.pdf.startswith(b"%PDF")

    assert _outbox(engine) == [
        ("bob@globex.example", "Quote QT-0001-1 is ready for you"),
        ("ana@globex.example", "A cotação QT-0001-1 está pronta para você"),
        ("rep@vendor.example", "Changes requested on quote QT-0001-1"),
        ("bob@globex.example", "Quote QT-0001-2: a new version for you"),
        ("ana@globex.example", "Cotação QT-0001-2: uma nova versão para você"),
        # The new PO number became a PO of the order's total: the invoice is covered, not flagged.
        ("bob@globex.example, rep@vendor.example", "Quote QT-0001-2 was accepted"),
        ("ana@globex.example", "A cotação QT-0001-2 foi aceita"),
    ]


def test_decline_with_a_reason(stub, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    _draft(stub)
    stub.SendQuote(pb.SendQuoteRequest(account_id="acct-globex", number="QT-0001"))
    declined = stub.DeclineQuote(pb.DeclineQuoteRequest(account_id="acct-globex", number="QT-0001", version=1,
                                                        reason="Budget cut", by_name="Ana")).quote
    assert (declined.status, declined.versions[0].decline_reason) == ("declined", "Budget cut")
    assert _outbox(engine)[-2:] == [("bob@globex.example, rep@vendor.example", "Quote QT-0001-1 was declined"),
                                     ("ana@globex.example", "A cotação QT-0001-1 foi recusada")]


def test_another_accounts_quote_is_not_found_on_every_rpc_s13(stub) -> None:  # type: ignore[no-untyped-def]
    _draft(stub)
    stub.SendQuote(pb.SendQuoteRequest(account_id="acct-globex", number="QT-0001"))
    other = "acct-initech"
    calls = [
        lambda: stub.GetQuote(pb.GetQuoteRequest(account_id=other, number="QT-0001", viewer=CONTACT)),
        lambda: stub.GetQuote(pb.GetQuoteRequest(account_id=other, number="QT-0001", viewer=REP)),
        lambda: stub.GetQuotePdf(pb.GetQuotePdfRequest(account_id=other, number="QT-0001", version=1, viewer=CONTACT,
                                                       buyer_name="Initech")),
        lambda: _draft(stub, account=other, number="QT-0001"),
        lambda: stub.SendQuote(pb.SendQuoteRequest(account_id=other, number="QT-0001")),
        lambda: stub.CommentOnQuote(pb.CommentOnQuoteRequest(account_id=other, number="QT-0001", author=CONTACT,
                                                             author_name="Eve", body="hi")),
        lambda: stub.AcceptQuote(pb.AcceptQuoteRequest(account_id=other, number="QT-0001", version=1,
                                                       po_number="PO-1", new_po=True, by_name="Eve")),
        lambda: stub.DeclineQuote(pb.DeclineQuoteRequest(account_id=other, number="QT-0001", version=1,
                                                         reason="no", by_name="Eve")),
    ]
    for call in calls:
        assert _code(call)[0] is grpc.StatusCode.NOT_FOUND
    assert stub.ListQuotes(pb.ListQuotesRequest(account_id=other, viewer=REP)).quotes == []


@pytest.mark.parametrize(("field", "changes"), [
    ("account_id", {"account_id": ""}),
    ("currency", {"currency": "XYZ"}),
    ("valid_until", {"valid_until": "2027-13-01"}),
    ("valid_until", {"valid_until": "tomorrow"}),
    ("valid_until", {"valid_until": "2000-01-01"}),
    ("terms", {"terms": "NET 7"}),
    ("rep_user_id", {"rep_user_id": ""}),
    ("rep_name", {"rep_name": "\x00"}),
    ("rep_email", {"rep_email": "not-an-address"}),
    ("kind", {"lines": [pb.QuoteLine(kind="gift", description="x", quantity=1, unit_price=usd(1))]}),
    ("quantity", {"lines": [pb.QuoteLine(kind="custom", description="x", quantity=0, unit_price=usd(1))]}),
    ("quantity", {"lines": [pb.QuoteLine(kind="custom", description="x", quantity=2**40, unit_price=usd(1))]}),
    ("unit_price", {"lines": [pb.QuoteLine(kind="custom", description="x", quantity=1, unit_price=usd(-1))]}),
    ("unit_price", {"lines": [pb.QuoteLine(kind="custom", description="x", quantity=1)]}),
    ("discount", {"lines": [pb.QuoteLine(kind="custom", description="x", quantity=1, unit_price=usd(1),
                                         discount_bp=10_001)]}),
    ("description", {"lines": [pb.QuoteLine(kind="custom", description=" ", quantity=1, unit_price=usd(1))]}),
    ("plan_code", {"lines": [pb.QuoteLine(kind="plan", description="x", quantity=1, unit_price=usd(1))]}),
])
def test_a_bad_draft_is_invalid_argument_naming_the_field_and_writes_nothing(  # type: ignore[no-untyped-def]
        stub, engine: Engine, field: str, changes: dict) -> None:  # type: ignore[type-arg]
    assert _code(lambda: _draft(stub, **changes)) == (grpc.StatusCode.INVALID_ARGUMENT, field)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(orm.quotes)).scalar() == 0


@pytest.mark.parametrize(("field", "request_"), [
    ("viewer", pb.ListQuotesRequest(account_id="acct-globex")),
    ("status", pb.ListQuotesRequest(account_id="acct-globex", viewer=CONTACT, status="lost")),
    ("account_id", pb.ListQuotesRequest(account_id="a\x00", viewer=CONTACT)),
    ("page_size", pb.ListQuotesRequest(account_id="acct-globex", viewer=CONTACT, page_size=-1)),
    ("page_size", pb.ListQuotesRequest(account_id="acct-globex", viewer=CONTACT, page_size=201)),
    ("page_token", pb.ListQuotesRequest(account_id="acct-globex", viewer=CONTACT, page_size=2, page_token="Q" * 17)),
])
def test_a_bad_list_request_names_the_field(stub, field: str, request_: pb.ListQuotesRequest) -> None:  # type: ignore[no-untyped-def]
    assert _code(lambda: stub.ListQuotes(request_)) == (grpc.StatusCode.INVALID_ARGUMENT, field)


def test_the_quotes_list_pages_by_keyset_with_its_status_filter(stub) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        number = _draft(stub).number
        stub.SendQuote(pb.SendQuoteRequest(account_id="acct-globex", number=number))
    _draft(stub)  # a draft: not the contact's
    first = stub.ListQuotes(pb.ListQuotesRequest(account_id="acct-globex", viewer=CONTACT, status="open",
                                                 page_size=2))
    assert ([q.number for q in first.quotes], first.next_page_token) == (["QT-0003", "QT-0002"], "QT-0002")
    last = stub.ListQuotes(pb.ListQuotesRequest(account_id="acct-globex", viewer=CONTACT, status="open",
                                                page_size=2, page_token=first.next_page_token))
    assert ([q.number for q in last.quotes], last.next_page_token) == (["QT-0001"], "")
    rep = stub.ListQuotes(pb.ListQuotesRequest(account_id="acct-globex", viewer=REP, page_size=10))
    assert [(q.number, q.status) for q in rep.quotes] == [
        ("QT-0004", "draft"), ("QT-0003", "open"), ("QT-0002", "open"), ("QT-0001", "open")]


def test_bad_decisions_name_the_field_and_change_nothing(stub, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    _draft(stub)
    stub.SendQuote(pb.SendQuoteRequest(account_id="acct-globex", number="QT-0001"))
    accept = dict(account_id="acct-globex", number="QT-0001", version=1, po_number="PO-1", new_po=True, by_name="Ana")
    for field, changes in [("po_number", {"po_number": ""}), ("po_number", {"po_number": " PO"}),
                           ("po_number", {"new_po": False}), ("version", {"version": 7}),
                           ("by_name", {"by_name": ""})]:
        assert _code(lambda: stub.AcceptQuote(pb.AcceptQuoteRequest(**{**accept, **changes}))) == (  # noqa: B023
            grpc.StatusCode.INVALID_ARGUMENT, field)
    assert _code(lambda: stub.DeclineQuote(pb.DeclineQuoteRequest(
        account_id="acct-globex", number="QT-0001", version=1, reason="", by_name="Ana"))) == (
        grpc.StatusCode.INVALID_ARGUMENT, "reason")
    assert _code(lambda: stub.CommentOnQuote(pb.CommentOnQuoteRequest(
        account_id="acct-globex", number="QT-0001", author=CONTACT, author_name="Ana", body="x" * 2001))) == (
        grpc.StatusCode.INVALID_ARGUMENT, "body")
    assert _code(lambda: stub.GetQuotePdf(pb.GetQuotePdfRequest(
        account_id="acct-globex", number="QT-0001", version=1, viewer=CONTACT, buyer_name=""))) == (
        grpc.StatusCode.INVALID_ARGUMENT, "buyer_name")
    seen = stub.GetQuote(pb.GetQuoteRequest(account_id="acct-globex", number="QT-0001", viewer=CONTACT)).quote
    assert (seen.status, list(seen.comments)) == ("open", [])


def test_the_price_list_in_a_currency_and_a_bad_currency_named(stub) -> None:  # type: ignore[no-untyped-def]
    plans = stub.ListQuotePlans(pb.ListQuotePlansRequest(currency="BRL")).plans
    assert [(p.code, p.unit_price.amount_minor, p.unit_price.currency) for p in plans][:2] == [
        ("enterprise-annual", 132_000, "BRL"), ("enterprise-plus-annual", 198_000, "BRL")]
    assert stub.ListQuotePlans(pb.ListQuotePlansRequest(currency="JPY")).plans == []
    assert _code(lambda: stub.ListQuotePlans(pb.ListQuotePlansRequest(currency="?"))) == (
        grpc.StatusCode.INVALID_ARGUMENT, "currency")


def test_twenty_parallel_acceptances_of_one_version_accept_it_once_and_issue_one_invoice(  # type: ignore[no-untyped-def]
        stub, engine: Engine) -> None:
    _draft(stub)
    stub.SendQuote(pb.SendQuoteRequest(account_id="acct-globex", number="QT-0001"))
    request = pb.AcceptQuoteRequest(account_id="acct-globex", number="QT-0001", version=1, po_number="PO-1",
                                    new_po=True, by_name="Ana")

    def accept(_: int) -> grpc.StatusCode:
        try:
            stub.AcceptQuote(request)
            return grpc.StatusCode.OK
        except grpc.RpcError as error:
            return error.code()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(accept, range(20)))
    assert sorted(c.name for c in codes) == ["FAILED_PRECONDITION"] * 19 + ["OK"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(orm.invoices)).scalar() == 1


def test_with_its_database_down_a_quote_rpc_is_unavailable_not_internal(settings: EnterprisePortalSettings) -> None:
    from tests.faults import refusing_url

    down = settings.model_copy(update={"database_url": refusing_url()})
    server = build(down).start()
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.ENTERPRISE, default_timeout=15.0)
    try:
        stub = enterprise_portal_pb2_grpc.EnterprisePortalServiceStub(channel)
        for call in (lambda: stub.ListQuotes(pb.ListQuotesRequest(account_id="acct-globex", viewer=CONTACT)),
                     lambda: _draft(stub)):
            assert _code(call)[0] is grpc.StatusCode.UNAVAILABLE
    finally:
        channel.close()
        server.stop()
