"""The Enterprise portal's typed client of its backend (enterprise_portal.v1)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from billing.enterprise_portal.v1 import enterprise_portal_pb2 as pb
from billing.enterprise_portal.v1 import enterprise_portal_pb2_grpc
from billing_common.money import Money
from billing_common.money_proto import to_proto
from web.common.clients import GrpcClient, money
from web.common.runtime import backend_as
from web.enterprise_portal.quotes_backend import QUOTE_READS, QuotesClient


@dataclass(frozen=True)
class OpenInvoicesView:
    open_count: int
    total_due: Money | None


def _day(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


class Wrapped:
    """A message read in templates: Money fields as Money, days as dates, the rest as is."""

    _money: tuple[str, ...] = ()
    _days: tuple[str, ...] = ()

    def __init__(self, message: Any) -> None:
        self._message = message

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._message, name)
        if name in self._money:
            return money(value)
        if name in self._days:
            return _day(value)
        return value


class InvoiceView(Wrapped):
    _money = ("total", "amount_paid", "balance")
    _days = ("issued_on", "due_on")

    @property
    def lines(self) -> list[LineView]:
        return [LineView(x) for x in self._message.lines]

    @property
    def payments(self) -> list[PaymentView]:
        return [PaymentView(x) for x in self._message.payments]

    @property
    def payable(self) -> bool:
        return self._message.state in ("open", "partially_paid", "overdue")


class LineView(Wrapped):
    _money = ("unit_price", "discount", "amount")


class PaymentView(Wrapped):
    _money = ("amount",)
    _days = ("received_on",)


class PartView(Wrapped):
    _money = ("balance_before", "amount", "balance_after")


class AllocationView(Wrapped):
    _money = ("amount", "credit")

    @property
    def parts(self) -> list[PartView]:
        return [PartView(p) for p in self._message.parts]


class EntryView(Wrapped):
    _money = ("amount", "change", "balance")
    _days = ("on",)


class AgingView(Wrapped):
    _money = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90", "total")


class StatementView(Wrapped):
    _money = ("opening_balance", "closing_balance", "unapplied_credit")
    _days = ("start", "end")

    @property
    def entries(self) -> list[EntryView]:
        return [EntryView(e) for e in self._message.entries]

    @property
    def aging(self) -> AgingView:
        return AgingView(self._message.aging)


class PoView(Wrapped):
    _money = ("amount", "invoiced", "remaining")
    _days = ("valid_from", "valid_to")


@dataclass(frozen=True)
class InvoicePage:
    invoices: list[InvoiceView]
    next_page_token: str
    total_count: int


def _money_pb(value: Money) -> Any:
    return to_proto(value)


class EnterprisePortal(GrpcClient[enterprise_portal_pb2_grpc.EnterprisePortalServiceStub], QuotesClient):
    service = pb.DESCRIPTOR.services_by_name["EnterprisePortalService"].full_name
    stub_class = enterprise_portal_pb2_grpc.EnterprisePortalServiceStub
    # Reads may be retried on UNAVAILABLE (S22); PayInvoices carries its own idempotency key.
    idempotent = ("GetOpenInvoiceSummary", "ListInvoices", "GetInvoice", "GetInvoicePdf", "PreviewPayment",
                  "GetStatement", "GetStatementPdf", "ListPurchaseOrders", "GetPurchaseOrder", "PayInvoices",
                  *QUOTE_READS)

    def open_invoice_summary(self, account_id: str) -> OpenInvoicesView:
        # An account without invoices is open_count 0, not NOT_FOUND; a failed call (UNAVAILABLE
        # and the rest) goes to the app's one error handler.
        answer = self.stub.GetOpenInvoiceSummary(pb.GetOpenInvoiceSummaryRequest(account_id=account_id))
        return OpenInvoicesView(
            open_count=answer.open_count,
            total_due=money(answer.total_due) if answer.HasField("total_due") else None,
        )

    def invoices(self, account_id: str, page_token: str = "", page_size: int = 0) -> InvoicePage:
        answer = self.stub.ListInvoices(pb.ListInvoicesRequest(account_id=account_id, page_token=page_token,
                                                               page_size=page_size))
        return InvoicePage([InvoiceView(i) for i in answer.invoices], answer.next_page_token, answer.total_count)

    def invoice(self, account_id: str, invoice_id: str) -> InvoiceView:
        return InvoiceView(self.stub.GetInvoice(pb.GetInvoiceRequest(account_id=account_id, invoice_id=invoice_id)))

    def invoice_pdf(self, account_id: str, invoice_id: str, language: str, buyer_name: str) -> pb.PdfDocument:
        return self.stub.GetInvoicePdf(pb.GetInvoicePdfRequest(account_id=account_id, invoice_id=invoice_id,
                                                               language=language, buyer_name=buyer_name))

    def preview_payment(self, account_id: str, invoice_ids: Sequence[str], amount_minor: int,
                        offline: bool = False) -> AllocationView:
        return AllocationView(self.stub.PreviewPayment(pb.PreviewPaymentRequest(
            account_id=account_id, invoice_ids=list(invoice_ids), amount_minor=amount_minor, offline=offline)))

    def pay(self, account_id: str, invoice_ids: Sequence[str], amount_minor: int, token: str, idempotency_key: str,
            payer_email: str, payer_user_id: str) -> pb.PayInvoicesResponse:
        return self.stub.PayInvoices(pb.PayInvoicesRequest(
            account_id=account_id, invoice_ids=list(invoice_ids), amount_minor=amount_minor, token=token,
            idempotency_key=idempotency_key, payer_email=payer_email, payer_user_id=payer_user_id))

    def record_offline_payment(self, account_id: str, invoice_ids: Sequence[str], amount: Money, method: str,
                               reference: str, received_on: str, recorded_by: str) -> AllocationView:
        answer = self.stub.RecordOfflinePayment(pb.RecordOfflinePaymentRequest(
            account_id=account_id, invoice_ids=list(invoice_ids), amount=_money_pb(amount), method=method,
            reference=reference, received_on=received_on, recorded_by=recorded_by))
        return AllocationView(answer.allocation)

    def statement(self, account_id: str, start: str, end: str, page_size: int = 0, before: str = "",
                  after: str = "") -> StatementView:
        return StatementView(self.stub.GetStatement(pb.GetStatementRequest(
            account_id=account_id, start=start, end=end, page_size=page_size, before=before, after=after)))

    def statement_pdf(self, account_id: str, start: str, end: str, language: str, buyer_name: str
                      ) -> pb.PdfDocument:
        return self.stub.GetStatementPdf(pb.GetStatementRequest(account_id=account_id, start=start, end=end,
                                                                language=language, buyer_name=buyer_name))

    def purchase_orders(self, account_id: str) -> list[PoView]:
        answer = self.stub.ListPurchaseOrders(pb.ListPurchaseOrdersRequest(account_id=account_id))
        return [PoView(p) for p in answer.purchase_orders]

    def purchase_order(self, account_id: str, po_id: str) -> PoView:
        return PoView(self.stub.GetPurchaseOrder(pb.GetPurchaseOrderRequest(account_id=account_id, po_id=po_id)))

    def create_purchase_order(self, account_id: str, fields: Mapping[str, Any]) -> PoView:
        return PoView(self.stub.CreatePurchaseOrder(pb.CreatePurchaseOrderRequest(
            account_id=account_id, number=fields["number"], amount=_money_pb(fields["amount"]),
            valid_from=fields["valid_from"], valid_to=fields["valid_to"], notes=fields["notes"])))

    def update_purchase_order(self, account_id: str, po_id: str, fields: Mapping[str, Any]) -> PoView:
        return PoView(self.stub.UpdatePurchaseOrder(pb.UpdatePurchaseOrderRequest(
            account_id=account_id, po_id=po_id, amount=_money_pb(fields["amount"]), valid_from=fields["valid_from"],
            valid_to=fields["valid_to"], notes=fields["notes"])))


def enterprise_portal() -> EnterprisePortal:
    """This app's enterprise_portal client (inside a request)."""
    return backend_as(EnterprisePortal)
