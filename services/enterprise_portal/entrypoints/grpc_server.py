"""enterprise_portal's gRPC server: a thin servicer over the service layer, and `serve()`.

Also the jobs the server runs on a schedule (ENTERPRISE_PORTAL_JOBS_INTERVAL): settling card
payments whose answer was lost (S20) and mailing PO expiry notices.
"""
from __future__ import annotations

import datetime as dt

import grpc
import structlog

from billing.enterprise_portal.v1 import enterprise_portal_pb2 as pb
from billing.enterprise_portal.v1 import enterprise_portal_pb2_grpc
from billing_common.billing_contacts import BillingContacts
from billing_common.clock import Clock
from billing_common.config import settings_or_exit
from billing_common.errors import InvalidArgument
from billing_common.grpc_server import GrpcServer
from billing_common.jobs import PeriodicJob
from billing_common.money import Money
from billing_common.money_proto import to_proto
from billing_common.payments.flow import Reconciled
from billing_common.payments.gateway import PaymentGateway
from billing_common.payments.settings import GatewaySettings
from billing_common.service import build_service
from billing_common.service_auth import ENTERPRISE_PORTAL_WEB, allow_list
from services.enterprise_portal import bootstrap
from services.enterprise_portal.adapters import orm
from services.enterprise_portal.adapters.statement_pdf import render_statement_pdf
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.domain.lines import Line, LineKind
from services.enterprise_portal.domain.model import Invoice
from services.enterprise_portal.domain.payments import Allocation
from services.enterprise_portal.domain.statement import EntryPage, Statement
from services.enterprise_portal.entrypoints.quote_rpcs import QUOTE_METHODS, QuoteRpcs
from services.enterprise_portal.service_layer import invoicing, mails, payments, purchase_orders, services
from services.enterprise_portal.service_layer.dependencies import Dependencies
from services.enterprise_portal.service_layer.purchase_orders import PoView

log = structlog.get_logger()

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["EnterprisePortalService"].full_name

_METHODS = ("GetOpenInvoiceSummary", "ListInvoices", "GetInvoice", "GetInvoicePdf", "IssueInvoice", "PreviewPayment",
            "PayInvoices", "RecordOfflinePayment", "GetStatement", "GetStatementPdf", "ListPurchaseOrders",
            "GetPurchaseOrder", "CreatePurchaseOrder", "UpdatePurchaseOrder", *QUOTE_METHODS)
# Who may call what (billing_common.service_auth): its own portal. A method missing here admits nobody.
ALLOWED_CALLERS = allow_list(SERVICE_NAME, {name: {ENTERPRISE_PORTAL_WEB} for name in _METHODS})


def _day(text: str, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(f"{field} is a day as YYYY-MM-DD", field=field) from None


def _money(message: object, field: str) -> Money:
    amount_minor = getattr(message, "amount_minor", 0)
    currency = getattr(message, "currency", "")
    try:
        return Money(amount_minor, currency)
    except ValueError:
        raise InvalidArgument(f"{field} needs an amount and a known currency", field=field) from None


def invoice_message(invoice: Invoice, as_of: dt.date, po_problem: str | None = None, *, full: bool = True
                    ) -> pb.Invoice:
    message = pb.Invoice(
        invoice_id=invoice.id, number=invoice.number, state=invoice.state(as_of).value,
        issued_on=invoice.issued_on.isoformat(), due_on=invoice.due_on.isoformat(), terms=invoice.terms,
        po_number=invoice.po_number or "", po_problem=po_problem or "", total=to_proto(invoice.total),
        amount_paid=to_proto(invoice.amount_paid()), balance=to_proto(invoice.balance()),
        days_past_due=invoice.days_past_due(as_of) if invoice.balance().amount_minor else 0)
    if full:
        message.lines.extend(
            pb.InvoiceLine(kind=line.kind.value, description=line.description, quantity=line.quantity,
                           unit_price=to_proto(line.unit_price), discount_bp=line.discount_bp,
                           discount=to_proto(line.discount), amount=to_proto(line.amount),
                           plan_code=line.plan_code or "")
            for line in invoice.lines)
        message.payments.extend(
            pb.InvoicePayment(amount=to_proto(p.amount), received_on=p.received_on.isoformat(),
                              source="credit" if p.credit_id else "receipt")
            for p in invoice.payments)
    return message


def allocation_message(allocation: Allocation) -> pb.Allocation:
    return pb.Allocation(
        amount=to_proto(allocation.amount), credit=to_proto(allocation.credit),
        parts=[pb.AllocationPart(invoice_id=p.invoice_id, invoice_number=p.invoice_number,
                                 balance_before=to_proto(p.balance_before), amount=to_proto(p.amount),
                                 balance_after=to_proto(p.balance_after)) for p in allocation.parts])


def statement_message(s: Statement, page: EntryPage | None = None) -> pb.Statement:
    a = s.aging
    entries = page.entries if page is not None else s.entries
    return pb.Statement(
        older=page.older or "" if page is not None else "", newer=page.newer or "" if page is not None else "",
        entry_count=page.total if page is not None else len(s.entries),
        start=s.start.isoformat(), end=s.end.isoformat(), opening_balance=to_proto(s.opening_balance),
        closing_balance=to_proto(s.closing_balance), unapplied_credit=to_proto(s.unapplied_credit),
        aging=pb.Aging(current=to_proto(a.current), days_1_30=to_proto(a.days_1_30),
                       days_31_60=to_proto(a.days_31_60), days_61_90=to_proto(a.days_61_90),
                       over_90=to_proto(a.over_90), total=to_proto(a.total)),
        entries=[pb.StatementEntry(on=e.on.isoformat(), kind=e.kind.value, reference=e.reference,
                                   amount=to_proto(e.amount), change=to_proto(e.change), balance=to_proto(e.balance),
                                   invoice_number=e.invoice_number or "") for e in entries])


def po_message(view: PoView) -> pb.PurchaseOrder:
    po = view.po
    return pb.PurchaseOrder(
        po_id=po.id, number=po.number, amount=to_proto(po.amount), valid_from=po.valid_from.isoformat(),
        valid_to=po.valid_to.isoformat(), notes=po.notes, status=view.status.value, invoiced=to_proto(po.used),
        remaining=to_proto(po.remaining()))


def _lines(request: pb.IssueInvoiceRequest) -> list[Line]:
    lines = []
    for line in request.lines:
        try:
            kind = LineKind(line.kind or "custom")
        except ValueError:
            raise InvalidArgument("a line's kind is plan or custom", field="lines") from None
        lines.append(Line(kind=kind, description=line.description, quantity=line.quantity,
                          unit_price=_money(line.unit_price, "unit_price"), discount_bp=line.discount_bp,
                          plan_code=line.plan_code or None))
    return lines


class EnterprisePortalServicer(QuoteRpcs, enterprise_portal_pb2_grpc.EnterprisePortalServiceServicer):
    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    def GetOpenInvoiceSummary(self, request: pb.GetOpenInvoiceSummaryRequest, context: grpc.ServicerContext
                              ) -> pb.GetOpenInvoiceSummaryResponse:
        summary = services.get_open_invoice_summary(self.deps, request.account_id)
        return pb.GetOpenInvoiceSummaryResponse(open_count=summary.open_count, total_due=to_proto(summary.total_due))

    def ListInvoices(self, request: pb.ListInvoicesRequest, context: grpc.ServicerContext) -> pb.ListInvoicesResponse:
        listing = invoicing.list_invoices(self.deps, request.account_id, request.page_size, request.page_token)
        return pb.ListInvoicesResponse(
            invoices=[invoice_message(i, listing.as_of, listing.flags.get(i.id), full=False)
                      for i in listing.invoices],
            next_page_token=listing.next_page_token, total_count=listing.total_count)

    def GetInvoice(self, request: pb.GetInvoiceRequest, context: grpc.ServicerContext) -> pb.Invoice:
        detail = invoicing.get_invoice(self.deps, request.account_id, request.invoice_id)
        return invoice_message(detail.invoice, detail.as_of, detail.po_problem)

    def GetInvoicePdf(self, request: pb.GetInvoicePdfRequest, context: grpc.ServicerContext) -> pb.PdfDocument:
        content = invoicing.invoice_pdf(self.deps, request.account_id, request.invoice_id, request.language,
                                        request.buyer_name)
        detail = invoicing.get_invoice(self.deps, request.account_id, request.invoice_id)
        return pb.PdfDocument(content=content, filename=f"{detail.invoice.number}.pdf")

    def IssueInvoice(self, request: pb.IssueInvoiceRequest, context: grpc.ServicerContext) -> pb.Invoice:
        issued = invoicing.issue(self.deps, request.account_id, _lines(request), request.terms or "NET 30",
                                 request.po_number or None)
        return invoice_message(issued.invoice, issued.invoice.issued_on,
                               issued.po_problem.value if issued.po_problem else None)

    def PreviewPayment(self, request: pb.PreviewPaymentRequest, context: grpc.ServicerContext) -> pb.Allocation:
        allocation = payments.preview_payment(self.deps, request.account_id, list(request.invoice_ids),
                                              request.amount_minor, dict(request.amounts), offline=request.offline)
        return allocation_message(allocation)

    def PayInvoices(self, request: pb.PayInvoicesRequest, context: grpc.ServicerContext) -> pb.PayInvoicesResponse:
        outcome = payments.pay_by_card(
            self.deps, request.account_id, list(request.invoice_ids), request.token, request.idempotency_key,
            amount_minor=request.amount_minor, amounts=dict(request.amounts), payer_email=request.payer_email,
            payer_user_id=request.payer_user_id)
        as_of = dt.datetime.fromtimestamp(self.deps.clock.now(), dt.UTC).date()
        answer = pb.PayInvoicesResponse
        return answer(
            payment_id=outcome.payment.id,
            status=answer.STATUS_PENDING if outcome.pending else answer.STATUS_SUCCEEDED,
            amount=to_proto(outcome.payment.amount),
            invoices=[invoice_message(i, as_of, full=False) for i in outcome.invoices])

    def RecordOfflinePayment(self, request: pb.RecordOfflinePaymentRequest, context: grpc.ServicerContext
                             ) -> pb.RecordOfflinePaymentResponse:
        amount = _money(request.amount, "amount")
        outcome = payments.record_offline_payment(
            self.deps, request.account_id, list(request.invoice_ids), amount.amount_minor, request.method,
            request.reference, _day(request.received_on, "received_on"), recorded_by=request.recorded_by,
            amounts=dict(request.amounts))
        return pb.RecordOfflinePaymentResponse(receipt_id=outcome.receipt.id,
                                               allocation=allocation_message(outcome.allocation))

    def GetStatement(self, request: pb.GetStatementRequest, context: grpc.ServicerContext) -> pb.Statement:
        return statement_message(*invoicing.statement_page(
            self.deps, request.account_id, _day(request.start, "start"), _day(request.end, "end"),
            request.page_size, before=request.before, after=request.after))

    def GetStatementPdf(self, request: pb.GetStatementRequest, context: grpc.ServicerContext) -> pb.PdfDocument:
        found = invoicing.account_statement(self.deps, request.account_id, _day(request.start, "start"),
                                            _day(request.end, "end"))
        name = (request.buyer_name.strip() or request.account_id)[:200]
        content = render_statement_pdf(found, self.deps.vendor, name, request.language)
        return pb.PdfDocument(content=content, filename=f"statement-{found.start}-{found.end}.pdf")

    def ListPurchaseOrders(self, request: pb.ListPurchaseOrdersRequest, context: grpc.ServicerContext
                           ) -> pb.ListPurchaseOrdersResponse:
        return pb.ListPurchaseOrdersResponse(
            purchase_orders=[po_message(v) for v in purchase_orders.list_pos(self.deps, request.account_id)])

    def GetPurchaseOrder(self, request: pb.GetPurchaseOrderRequest, context: grpc.ServicerContext
                         ) -> pb.PurchaseOrder:
        return po_message(purchase_orders.get_po(self.deps, request.account_id, request.po_id))

    def CreatePurchaseOrder(self, request: pb.CreatePurchaseOrderRequest, context: grpc.ServicerContext
                            ) -> pb.PurchaseOrder:
        amount = _money(request.amount, "amount")
        return po_message(purchase_orders.create_po(
            self.deps, request.account_id, request.number, amount.amount_minor, amount.currency,
            _day(request.valid_from, "valid_from"), _day(request.valid_to, "valid_to"), request.notes))

    def UpdatePurchaseOrder(self, request: pb.UpdatePurchaseOrderRequest, context: grpc.ServicerContext
                            ) -> pb.PurchaseOrder:
        amount = _money(request.amount, "amount")
        return po_message(purchase_orders.edit_po(
            self.deps, request.account_id, request.po_id, amount.amount_minor, amount.currency,
            _day(request.valid_from, "valid_from"), _day(request.valid_to, "valid_to"), request.notes))


class JobsScheduler(PeriodicJob):
    """Every `interval` seconds: settle lost card answers (S20), then mail the PO expiry
    notices that are due. Several replicas may run it: settling locks the payment, a notice is
    marked sent once."""

    def __init__(self, deps: Dependencies, interval: float) -> None:
        super().__init__("enterprise_portal jobs", interval)
        self.deps = deps

    def run_once(self) -> tuple[Reconciled, int]:
        return payments.reconcile(self.deps), purchase_orders.send_po_notices(self.deps)


def build(settings: EnterprisePortalSettings, *, gateway_settings: GatewaySettings | None = None,
          gateway: PaymentGateway | None = None, clock: Clock | None = None,
          contacts: BillingContacts | None = None) -> GrpcServer:
    """The server, not started yet (bind "127.0.0.1:0" for a free port), with the outbox
    dispatcher already polling; `server.stop()` stops the jobs, the dispatcher and closes the
    engine. The gateway is `gateway`, else built from `gateway_settings`, else from the
    environment (PAYMENT_GATEWAY, SANDBOX_GATEWAY_*). Identity (whom the mails go to) is
    `contacts`, else IDENTITY_TARGET's."""
    if gateway is None and gateway_settings is None:
        gateway_settings = settings_or_exit("enterprise_portal", GatewaySettings)
    deps = bootstrap.build_dependencies(settings, gateway=gateway, gateway_settings=gateway_settings, clock=clock,
                                        contacts=contacts)
    servicer = EnterprisePortalServicer(deps)
    server = build_service(
        settings,
        service_name=SERVICE_NAME,
        register=lambda s: enterprise_portal_pb2_grpc.add_EnterprisePortalServiceServicer_to_server(servicer, s),
        engine=deps.sql_engine,
        outbox=orm.outbox,
        on_stop=deps.close,
        allowed_callers=ALLOWED_CALLERS,
        # Every signed-in billing contact's landing page reads it: failures are still logged.
        quiet_methods=[f"/{SERVICE_NAME}/GetOpenInvoiceSummary"],
        # The mails are addressed (identity's contacts and reps) and the PDFs attached when sent.
        expand=mails.expander(deps),
        attachments=mails.attachments(deps),
    )
    jobs = JobsScheduler(deps, settings.jobs_interval).start()
    server.on_stop.insert(0, lambda: jobs.stop(settings.shutdown_grace))
    return server


def serve(settings: EnterprisePortalSettings) -> None:
    """Run until SIGTERM/SIGINT (health goes NOT_SERVING, in-flight calls finish)."""
    build(settings).start().serve_forever()
