"""Every invoicing RPC over a real channel to an in-process server on a real database
(PostgreSQL with TEST_DATABASE_URL), with the sandbox gateway on its own database."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
import pytest
from sqlalchemy import Engine, func, select

from billing.common.v1 import money_pb2
from billing.enterprise_portal.v1 import enterprise_portal_pb2 as pb
from billing.enterprise_portal.v1 import enterprise_portal_pb2_grpc
from billing_common.clock import FakeClock, utc
from billing_common.db import make_engine
from billing_common.grpc_client import error_field, make_channel
from billing_common.payments.gateway import CardDetails
from billing_common.payments.sandbox import SandboxTokenizer
from billing_common.payments.settings import GatewaySettings
from services.enterprise_portal import bootstrap
from services.enterprise_portal.adapters import orm
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.entrypoints.grpc_server import JobsScheduler, build
from tests import callers

ACCOUNT = "acct-globex"
OK, DECLINED, LOST = "4242424242424242", "4000000000000002", "4000000000000408"


def usd(minor: int) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=minor, currency="USD")


@dataclass
class World:
    stub: enterprise_portal_pb2_grpc.EnterprisePortalServiceStub
    gateway_settings: GatewaySettings
    clock: FakeClock
    engine: Engine
    jobs: JobsScheduler

    def token(self, number: str = OK) -> str:
        card = CardDetails(number, 12, 2040, "123", "Olivia")
        return SandboxTokenizer(self.gateway_settings.secret).tokenize(card).token

    def issue(self, minor: int, po_number: str = "", account: str = ACCOUNT) -> pb.Invoice:
        return self.stub.IssueInvoice(pb.IssueInvoiceRequest(
            account_id=account, terms="NET 30", po_number=po_number,
            lines=[pb.NewInvoiceLine(kind="custom", description="Seats", quantity=2, unit_price=usd(minor // 2))]))

    def charges(self) -> int:
        sandbox = make_engine(self.gateway_settings.sandbox_gateway_database_url)
        try:
            with sandbox.connect() as conn:
                return int(conn.exec_driver_sql("SELECT count(*) FROM sandbox_gateway_charges").scalar_one())
        finally:
            sandbox.dispose()

    def mails(self) -> list[str]:
        """The kinds of the mails written (deferred: addressed when sent, service_layer.mails);
        tests/integration/enterprise_portal/test_enterprise_mails.py follows them to the inbox."""
        with self.engine.connect() as conn:
            return [r.subject for r in conn.execute(select(orm.outbox.c.subject).order_by(orm.outbox.c.id))]


@pytest.fixture
def world(settings: EnterprisePortalSettings, gateway_settings: GatewaySettings, engine: Engine) -> Iterator[World]:
    clock = FakeClock()
    server = build(settings.model_copy(update={"jobs_interval": 0.0}), gateway_settings=gateway_settings,
                   clock=clock).start()
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.ENTERPRISE, default_timeout=10.0)
    deps = bootstrap.build_dependencies(settings, engine=engine, gateway_settings=gateway_settings, clock=clock)
    try:
        yield World(enterprise_portal_pb2_grpc.EnterprisePortalServiceStub(channel), gateway_settings, clock, engine,
                    JobsScheduler(deps, 0))
    finally:
        channel.close()
        server.stop()
        deps.close()


def _code(call) -> tuple[grpc.StatusCode, str | None]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code(), error_field(caught.value)


def test_issue_get_and_list_invoices_newest_first_in_pages(world: World) -> None:
    issued = [world.issue(1_000 * (n + 1)) for n in range(25)]
    assert issued[0].number == f"EP-{utc(world.clock.now()).year}-000001"
    assert issued[0].po_problem == "none_given"
    first = world.stub.ListInvoices(pb.ListInvoicesRequest(account_id=ACCOUNT))
    assert (len(first.invoices), first.total_count) == (20, 25)
    assert first.invoices[0].number == issued[-1].number
    rest = world.stub.ListInvoices(pb.ListInvoicesRequest(account_id=ACCOUNT, page_token=first.next_page_token))
    assert (len(rest.invoices), rest.next_page_token) == (5, "")
    got = world.stub.GetInvoice(pb.GetInvoiceRequest(account_id=ACCOUNT, invoice_id=issued[3].invoice_id))
    assert (got.state, got.total.amount_minor, got.lines[0].quantity, got.terms) == ("open", 4_000, 2, "NET 30")


def test_s13_another_accounts_invoice_and_po_are_not_found(world: World) -> None:
    theirs = world.issue(1_000, account="acct-other")
    po = world.stub.CreatePurchaseOrder(pb.CreatePurchaseOrderRequest(
        account_id="acct-other", number="PO-X", amount=usd(10_000), valid_from="2027-01-01", valid_to="2027-12-31"))
    not_found = grpc.StatusCode.NOT_FOUND
    theirs_id = theirs.invoice_id
    assert _code(lambda: world.stub.GetInvoice(pb.GetInvoiceRequest(account_id=ACCOUNT, invoice_id=theirs_id)))[0] \
        is not_found
    assert _code(lambda: world.stub.GetInvoicePdf(
        pb.GetInvoicePdfRequest(account_id=ACCOUNT, invoice_id=theirs_id)))[0] is not_found
    assert _code(lambda: world.stub.GetPurchaseOrder(
        pb.GetPurchaseOrderRequest(account_id=ACCOUNT, po_id=po.po_id)))[0] is not_found
    assert _code(lambda: world.stub.PayInvoices(pb.PayInvoicesRequest(
        account_id=ACCOUNT, invoice_ids=[theirs_id], token=world.token(), idempotency_key="k1")))[0] is not_found


def test_the_invoice_pdf_is_a_pdf_named_after_the_invoice(world: World) -> None:
    invoice = world.issue(1_000)
    pdf = world.stub.GetInvoicePdf(pb.GetInvoicePdfRequest(account_id=ACCOUNT, invoice_id=invoice.invoice_id,
                                                           language="pt-BR", buyer_name="Globex"))
    assert pdf.content.startswith(b"%PDF") and pdf.filename == f"{invoice.number}.pdf"


def test_preview_then_pay_two_invoices_in_one_payment(world: World) -> None:
    a, b = world.issue(10_000), world.issue(20_000)
    preview = world.stub.PreviewPayment(pb.PreviewPaymentRequest(account_id=ACCOUNT,
                                                                 invoice_ids=[a.invoice_id, b.invoice_id]))
    assert preview.amount.amount_minor == 30_000
    assert [p.amount.amount_minor for p in preview.parts] == [10_000, 20_000]
    paid = world.stub.PayInvoices(pb.PayInvoicesRequest(
        account_id=ACCOUNT, invoice_ids=[a.invoice_id, b.invoice_id], token=world.token(), idempotency_key="k1",
        payer_email="ana@globex.example"))
    assert paid.status == pb.PayInvoicesResponse.STATUS_SUCCEEDED
    assert {i.state for i in paid.invoices} == {"paid"}
    assert world.mails()[-1] == "receipt"


def test_a_declined_card_is_failed_precondition_with_its_reason_and_pays_nothing(world: World) -> None:
    invoice = world.issue(10_000)
    with pytest.raises(grpc.RpcError) as caught:
        world.stub.PayInvoices(pb.PayInvoicesRequest(account_id=ACCOUNT, invoice_ids=[invoice.invoice_id],
                                                     token=world.token(DECLINED), idempotency_key="k1"))
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert dict(caught.value.trailing_metadata() or ())["x-error-reason"] == "card_declined"
    got = world.stub.GetInvoice(pb.GetInvoiceRequest(account_id=ACCOUNT, invoice_id=invoice.invoice_id))
    assert got.state == "open"


def test_s19_twenty_identical_requests_in_parallel_charge_once(world: World) -> None:
    invoice = world.issue(10_000)
    request = pb.PayInvoicesRequest(account_id=ACCOUNT, invoice_ids=[invoice.invoice_id], token=world.token(),
                                    idempotency_key=f"k-{uuid.uuid4()}")
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: world.stub.PayInvoices(request), range(20)))
    assert len({a.payment_id for a in answers}) == 1
    assert world.charges() == 1
    with world.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(orm.payments)).scalar_one() == 1


def test_s19_a_double_submit_with_a_second_token_of_the_same_card_charges_once(world: World) -> None:
    invoice = world.issue(10_000)
    for _ in range(2):
        world.stub.PayInvoices(pb.PayInvoicesRequest(account_id=ACCOUNT, invoice_ids=[invoice.invoice_id],
                                                     token=world.token(), idempotency_key="same"))
    assert world.charges() == 1


def test_s20_a_lost_answer_is_pending_until_the_reconciler_settles_it(world: World) -> None:
    invoice = world.issue(10_000)
    answer = world.stub.PayInvoices(pb.PayInvoicesRequest(account_id=ACCOUNT, invoice_ids=[invoice.invoice_id],
                                                          token=world.token(LOST), idempotency_key="k1"))
    assert answer.status == pb.PayInvoicesResponse.STATUS_PENDING
    assert world.stub.GetInvoice(pb.GetInvoiceRequest(account_id=ACCOUNT, invoice_id=invoice.invoice_id)).state \
        == "open"
    reconciled, _ = world.jobs.run_once()
    assert reconciled.settled == 1
    assert world.stub.GetInvoice(pb.GetInvoiceRequest(account_id=ACCOUNT, invoice_id=invoice.invoice_id)).state \
        == "paid"
    assert world.charges() == 1


def test_an_offline_overpayment_is_credit_on_the_next_invoice_and_on_the_statement(world: World) -> None:
    invoice = world.issue(10_000)
    recorded = world.stub.RecordOfflinePayment(pb.RecordOfflinePaymentRequest(
        account_id=ACCOUNT, invoice_ids=[invoice.invoice_id], amount=usd(12_500), method="ach", reference="ACH-1",
        recorded_by="rep-1"))
    assert recorded.allocation.credit.amount_minor == 2_500
    following = world.issue(10_000)
    assert following.amount_paid.amount_minor == 2_500
    statement = world.stub.GetStatement(pb.GetStatementRequest(account_id=ACCOUNT))
    # Within a day invoices come first, then money (domain.statement).
    assert [e.kind for e in statement.entries] == ["invoice", "invoice", "payment", "credit", "credit_applied"]
    assert statement.closing_balance.amount_minor == 7_500 == statement.aging.current.amount_minor
    pdf = world.stub.GetStatementPdf(pb.GetStatementRequest(account_id=ACCOUNT, language="pt-BR"))
    assert pdf.content.startswith(b"%PDF")


def test_a_statement_pages_its_entries_by_keyset_newest_first(world: World) -> None:
    numbers = [world.issue(1_000 * (n + 1)).number for n in range(5)]
    first = world.stub.GetStatement(pb.GetStatementRequest(account_id=ACCOUNT, page_size=2))
    assert [e.reference for e in first.entries] == numbers[3:]
    assert (first.entry_count, first.newer, first.closing_balance.amount_minor) == (5, "", 15_000)
    assert [e.balance.amount_minor for e in first.entries] == [10_000, 15_000]
    older = world.stub.GetStatement(pb.GetStatementRequest(account_id=ACCOUNT, page_size=2, before=first.older))
    assert [e.reference for e in older.entries] == numbers[1:3]
    oldest = world.stub.GetStatement(pb.GetStatementRequest(account_id=ACCOUNT, page_size=2, before=older.older))
    assert ([e.reference for e in oldest.entries], oldest.older) == (numbers[:1], "")
    back = world.stub.GetStatement(pb.GetStatementRequest(account_id=ACCOUNT, page_size=2, after=oldest.newer))
    assert [e.reference for e in back.entries] == numbers[1:3]
    everything = world.stub.GetStatement(pb.GetStatementRequest(account_id=ACCOUNT))
    assert [e.reference for e in everything.entries] == numbers


def test_purchase_orders_are_created_listed_updated_and_flag_invoices(world: World) -> None:
    today = utc(world.clock.now()).date()
    po = world.stub.CreatePurchaseOrder(pb.CreatePurchaseOrderRequest(
        account_id=ACCOUNT, number="PO-7781", amount=usd(100_000), valid_from=today.isoformat(),
        valid_to=(today + dt.timedelta(days=20)).isoformat()))
    assert (po.status, po.remaining.amount_minor) == ("active", 100_000)
    assert world.issue(85_000, "PO-7781").po_problem == ""
    assert world.issue(20_000, "PO-7781").po_problem == "insufficient"
    [listed] = world.stub.ListPurchaseOrders(pb.ListPurchaseOrdersRequest(account_id=ACCOUNT)).purchase_orders
    assert (listed.invoiced.amount_minor, listed.remaining.amount_minor) == (105_000, 0)
    assert listed.status == "exhausted"
    updated = world.stub.UpdatePurchaseOrder(pb.UpdatePurchaseOrderRequest(
        account_id=ACCOUNT, po_id=po.po_id, amount=usd(200_000), valid_from=today.isoformat(),
        valid_to=(today + dt.timedelta(days=20)).isoformat(), notes="raised"))
    assert (updated.status, updated.remaining.amount_minor, updated.notes) == ("active", 95_000, "raised")
    _, notices = world.jobs.run_once()
    assert notices == 1  # expires within 30 days (the 80% one went out with the first invoice)
    assert world.mails().count("po_mostly_used") == 1 and world.mails().count("po_expires_soon") == 1


@pytest.mark.parametrize(("call", "field"), [
    (lambda s: s.ListInvoices(pb.ListInvoicesRequest(account_id=ACCOUNT, page_token="x")), "page_token"),
    (lambda s: s.ListInvoices(pb.ListInvoicesRequest(account_id="")), "account_id"),
    (lambda s: s.IssueInvoice(pb.IssueInvoiceRequest(account_id=ACCOUNT)), "lines"),
    (lambda s: s.PreviewPayment(pb.PreviewPaymentRequest(account_id=ACCOUNT)), "invoice_ids"),
    (lambda s: s.PayInvoices(pb.PayInvoicesRequest(account_id=ACCOUNT, invoice_ids=["x"], token="t",
                                                   idempotency_key="has space")), "idempotency_key"),
    (lambda s: s.RecordOfflinePayment(pb.RecordOfflinePaymentRequest(account_id=ACCOUNT, invoice_ids=["x"],
                                                                     amount=usd(1), method="cash",
                                                                     recorded_by="rep")), "method"),
    (lambda s: s.GetStatement(pb.GetStatementRequest(account_id=ACCOUNT, start="yesterday")), "start"),
    (lambda s: s.GetStatement(pb.GetStatementRequest(account_id=ACCOUNT, page_size=2, before="x")), "before"),
    (lambda s: s.GetStatement(pb.GetStatementRequest(account_id=ACCOUNT, page_size=501)), "page_size"),
    (lambda s: s.CreatePurchaseOrder(pb.CreatePurchaseOrderRequest(account_id=ACCOUNT, number="PO-1",
                                                                   amount=usd(0), valid_from="2027-01-01",
                                                                   valid_to="2027-02-01")), "amount"),
    (lambda s: s.CreatePurchaseOrder(pb.CreatePurchaseOrderRequest(account_id=ACCOUNT, number="PO-1")), "amount"),
], ids=["page_token", "account_id", "lines", "invoice_ids", "idempotency_key", "method", "start", "before",
        "page_size", "po_amount",
        "po_no_amount"])
def test_bad_input_is_invalid_argument_naming_the_field(world: World, call, field: str) -> None:  # type: ignore[no-untyped-def]
    code, named = _code(lambda: call(world.stub))
    assert (code, named) == (grpc.StatusCode.INVALID_ARGUMENT, field)
