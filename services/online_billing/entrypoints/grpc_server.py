"""online_billing's gRPC server: a thin servicer over the service layer, and `serve()`.

The Billing Center's calls: the landing page's summary, plans, the subscription and its
changes, payment methods, invoices and the billing profile. The renewal worker (billing runs,
dunning) comes in a later issue.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from billing.online_billing.v1 import online_billing_pb2 as pb
from billing.online_billing.v1 import online_billing_pb2_grpc
from billing_common.billing_contacts import BillingContacts
from billing_common.clock import Clock
from billing_common.config import settings_or_exit
from billing_common.grpc_server import GrpcServer
from billing_common.invoicing.profile import BillingProfile
from billing_common.money import Money
from billing_common.money_proto import to_proto
from billing_common.payments.gateway import PaymentGateway
from billing_common.payments.settings import GatewaySettings
from billing_common.service import build_service
from billing_common.service_auth import BILLING_CENTER_WEB, allow_list
from services.online_billing import bootstrap
from services.online_billing.adapters import orm
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.domain.billing import (
    ChargeLine,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    LineKind,
    PaymentMethod,
    Preview,
    Timing,
)
from services.online_billing.domain.catalogue import Catalogue
from services.online_billing.domain.model import (
    BillingInterval,
    DisplayStatus,
    Selection,
    Subscription,
    SubscriptionStatus,
    current_subscription,
)
from services.online_billing.domain.requests import ChangeRequest, Requester, RequestStatus
from services.online_billing.entrypoints.billing_run import BillingRunScheduler
from services.online_billing.service_layer import accounts, change_requests, mails, services, subscriptions
from services.online_billing.service_layer.dependencies import Dependencies
from services.online_billing.service_layer.subscriptions import Outcome, Result

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["OnlineBillingService"].full_name

# Who may call what (billing_common.service_auth): its own portal. A method missing here admits nobody.
ALLOWED_CALLERS = allow_list(SERVICE_NAME, {
    name: {BILLING_CENTER_WEB}
    for name in (
        "GetSubscriptionSummary", "ListPlans", "GetSubscription", "PreviewChange", "ApplyChange",
        "UndoScheduledChange", "CancelSubscription", "UndoCancellation", "Reactivate", "ListPaymentMethods",
        "AddPaymentMethod", "SetDefaultPaymentMethod", "RemovePaymentMethod", "ListInvoices", "GetInvoice",
        "GetInvoicePdf", "GetBillingProfile", "UpdateBillingProfile",
        "RequestChange", "ListChangeRequests", "GetChangeRequest", "WithdrawChangeRequest", "DeclineChangeRequest",
        "ApproveChangeRequest",
    )
})

_INTERVALS = {
    BillingInterval.MONTHLY: pb.BILLING_INTERVAL_MONTHLY,
    BillingInterval.ANNUAL: pb.BILLING_INTERVAL_ANNUAL,
}
_FROM_INTERVAL = {v: k for k, v in _INTERVALS.items()}
_STATUSES = {
    SubscriptionStatus.ACTIVE: pb.SUBSCRIPTION_STATUS_ACTIVE,
    SubscriptionStatus.PAST_DUE: pb.SUBSCRIPTION_STATUS_PAST_DUE,
    SubscriptionStatus.CANCELED: pb.SUBSCRIPTION_STATUS_CANCELED,
}
_DISPLAY = {
    DisplayStatus.ACTIVE: pb.SUBSCRIPTION_STATUS_ACTIVE,
    DisplayStatus.PENDING_CANCELLATION: pb.SUBSCRIPTION_STATUS_PENDING_CANCELLATION,
    DisplayStatus.PAST_DUE: pb.SUBSCRIPTION_STATUS_PAST_DUE,
    DisplayStatus.CANCELED: pb.SUBSCRIPTION_STATUS_CANCELED,
}
_TIMINGS = {Timing.IMMEDIATE: pb.CHANGE_TIMING_IMMEDIATE, Timing.SCHEDULED: pb.CHANGE_TIMING_SCHEDULED}
_LINE_KINDS = {LineKind.CREDIT: pb.LINE_KIND_CREDIT, LineKind.PRORATED_CHARGE: pb.LINE_KIND_PRORATED_CHARGE,
               LineKind.PERIOD: pb.LINE_KIND_PERIOD}
_OUTCOMES = {Result.APPLIED: pb.CHANGE_OUTCOME_APPLIED, Result.SCHEDULED: pb.CHANGE_OUTCOME_SCHEDULED,
             Result.PAYMENT_PENDING: pb.CHANGE_OUTCOME_PAYMENT_PENDING, Result.UNCHANGED: pb.CHANGE_OUTCOME_UNCHANGED}
_INVOICE_KINDS = {InvoiceKind.PRORATION: pb.INVOICE_KIND_PRORATION, InvoiceKind.REACTIVATION:
                  pb.INVOICE_KIND_REACTIVATION, InvoiceKind.RENEWAL: pb.INVOICE_KIND_RENEWAL}
_REQUEST_STATUSES = {RequestStatus.PENDING: pb.CHANGE_REQUEST_STATUS_PENDING,
                     RequestStatus.APPROVED: pb.CHANGE_REQUEST_STATUS_APPROVED,
                     RequestStatus.DECLINED: pb.CHANGE_REQUEST_STATUS_DECLINED,
                     RequestStatus.WITHDRAWN: pb.CHANGE_REQUEST_STATUS_WITHDRAWN}
_INVOICE_STATUSES = {InvoiceStatus.OPEN: pb.INVOICE_STATUS_OPEN, InvoiceStatus.PAID: pb.INVOICE_STATUS_PAID,
                     InvoiceStatus.VOID: pb.INVOICE_STATUS_VOID}


class OnlineBillingServicer(online_billing_pb2_grpc.OnlineBillingServiceServicer):
    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    def GetSubscriptionSummary(self, request: pb.GetSubscriptionSummaryRequest, context: grpc.ServicerContext
                               ) -> pb.GetSubscriptionSummaryResponse:
        subscription = services.get_subscription_summary(self.deps, request.account_id)
        return pb.GetSubscriptionSummaryResponse(subscription=summary_message(subscription))

    def ListPlans(self, request: pb.ListPlansRequest, context: grpc.ServicerContext) -> pb.ListPlansResponse:
        currency, catalogue = subscriptions.list_plans(self.deps, request.account_id, request.currency)
        return pb.ListPlansResponse(currency=currency, plans=[
            pb.Plan(code=plan.code, name=plan.name, min_seats=plan.min_seats, max_seats=plan.max_seats,
                    monthly_price=_money(prices.get(BillingInterval.MONTHLY)),
                    annual_price=_money(prices.get(BillingInterval.ANNUAL)))
            for plan, prices in catalogue.in_currency(currency)])

    def GetSubscription(self, request: pb.GetSubscriptionRequest, context: grpc.ServicerContext
                        ) -> pb.GetSubscriptionResponse:
        d = subscriptions.get_subscription(self.deps, request.account_id)
        message = subscription_message(d.subscription, d.catalogue, d.now, d.default_payment_method)
        message.payment_pending = d.payment_pending
        return pb.GetSubscriptionResponse(subscription=message)

    def PreviewChange(self, request: pb.PreviewChangeRequest, context: grpc.ServicerContext
                      ) -> pb.PreviewChangeResponse:
        c = request.change
        preview = subscriptions.preview(self.deps, c.account_id, c.subscription_id, c.plan_code, c.seats,
                                        _FROM_INTERVAL.get(c.interval))
        return pb.PreviewChangeResponse(preview=preview_message(preview, self._catalogue()))

    def ApplyChange(self, request: pb.ApplyChangeRequest, context: grpc.ServicerContext) -> pb.ApplyChangeResponse:
        c = request.change
        outcome = subscriptions.apply_change(self.deps, c.account_id, c.subscription_id, c.plan_code, c.seats,
                                             _FROM_INTERVAL.get(c.interval), request.idempotency_key)
        response = pb.ApplyChangeResponse(**self._outcome(outcome))
        if outcome.preview is not None:
            response.preview.CopyFrom(preview_message(outcome.preview, self._catalogue()))
        return response

    def UndoScheduledChange(self, request: pb.UndoScheduledChangeRequest, context: grpc.ServicerContext
                            ) -> pb.UndoScheduledChangeResponse:
        outcome = subscriptions.undo_scheduled_change(self.deps, request.account_id, request.subscription_id)
        return pb.UndoScheduledChangeResponse(**self._outcome(outcome, invoice=False))

    def CancelSubscription(self, request: pb.CancelSubscriptionRequest, context: grpc.ServicerContext
                           ) -> pb.CancelSubscriptionResponse:
        outcome = subscriptions.cancel(self.deps, request.account_id, request.subscription_id, request.reason)
        return pb.CancelSubscriptionResponse(subscription=self._subscription(outcome.subscription))

    def UndoCancellation(self, request: pb.UndoCancellationRequest, context: grpc.ServicerContext
                         ) -> pb.UndoCancellationResponse:
        outcome = subscriptions.undo_cancellation(self.deps, request.account_id, request.subscription_id)
        return pb.UndoCancellationResponse(**self._outcome(outcome, invoice=False))

    def Reactivate(self, request: pb.ReactivateRequest, context: grpc.ServicerContext) -> pb.ReactivateResponse:
        outcome = subscriptions.reactivate(self.deps, request.account_id, request.subscription_id,
                                           request.idempotency_key, request.plan_code, request.seats,
                                           _FROM_INTERVAL.get(request.interval))
        return pb.ReactivateResponse(**self._outcome(outcome))

    def ListPaymentMethods(self, request: pb.ListPaymentMethodsRequest, context: grpc.ServicerContext
                           ) -> pb.ListPaymentMethodsResponse:
        methods = accounts.list_payment_methods(self.deps, request.account_id)
        return pb.ListPaymentMethodsResponse(payment_methods=[method_message(m) for m in methods])

    def AddPaymentMethod(self, request: pb.AddPaymentMethodRequest, context: grpc.ServicerContext
                         ) -> pb.AddPaymentMethodResponse:
        method = accounts.add_payment_method(self.deps, request.account_id, request.token, request.make_default)
        return pb.AddPaymentMethodResponse(payment_method=method_message(method))

    def SetDefaultPaymentMethod(self, request: pb.SetDefaultPaymentMethodRequest, context: grpc.ServicerContext
                                ) -> pb.SetDefaultPaymentMethodResponse:
        methods = accounts.set_default_payment_method(self.deps, request.account_id, request.payment_method_id)
        return pb.SetDefaultPaymentMethodResponse(payment_methods=[method_message(m) for m in methods])

    def RemovePaymentMethod(self, request: pb.RemovePaymentMethodRequest, context: grpc.ServicerContext
                            ) -> pb.RemovePaymentMethodResponse:
        methods = accounts.remove_payment_method(self.deps, request.account_id, request.payment_method_id)
        return pb.RemovePaymentMethodResponse(payment_methods=[method_message(m) for m in methods])

    def ListInvoices(self, request: pb.ListInvoicesRequest, context: grpc.ServicerContext) -> pb.ListInvoicesResponse:
        page = accounts.list_invoices(self.deps, request.account_id, request.page_size, request.page_token)
        invoices = [invoice_message(i, lines=False) for i in page.invoices]
        for message in invoices:
            message.payment_pending = message.invoice_id in page.pending_invoice_ids
        return pb.ListInvoicesResponse(invoices=invoices, next_page_token=page.next_page_token,
                                       payment_pending=page.payment_pending)

    def GetInvoice(self, request: pb.GetInvoiceRequest, context: grpc.ServicerContext) -> pb.GetInvoiceResponse:
        found, pending = accounts.get_invoice_details(self.deps, request.account_id, request.invoice_id)
        invoice = invoice_message(found)
        invoice.payment_pending = pending
        invoice.seller.CopyFrom(profile_message(self.deps.vendor))  # the print page's seller block, as the PDF's
        return pb.GetInvoiceResponse(invoice=invoice)

    def GetInvoicePdf(self, request: pb.GetInvoicePdfRequest, context: grpc.ServicerContext
                      ) -> pb.GetInvoicePdfResponse:
        invoice, pdf = accounts.invoice_pdf(self.deps, request.account_id, request.invoice_id, request.language)
        return pb.GetInvoicePdfResponse(pdf=pdf, filename=f"{invoice.number}.pdf")

    def GetBillingProfile(self, request: pb.GetBillingProfileRequest, context: grpc.ServicerContext
                          ) -> pb.GetBillingProfileResponse:
        profile = accounts.get_billing_profile(self.deps, request.account_id)
        return pb.GetBillingProfileResponse(profile=profile_message(profile) if profile else None)

    def UpdateBillingProfile(self, request: pb.UpdateBillingProfileRequest, context: grpc.ServicerContext
                             ) -> pb.UpdateBillingProfileResponse:
        p = request.profile
        profile = accounts.update_billing_profile(
            self.deps, request.account_id, company_name=p.company_name, address_line1=p.address_line1,
            address_line2=p.address_line2, city=p.city, region=p.region, postal_code=p.postal_code,
            country=p.country, tax_id=p.tax_id, invoice_emails=list(p.invoice_emails))
        return pb.UpdateBillingProfileResponse(profile=profile_message(profile))

    # --- members' change requests ----------------------------------------------------------

    def RequestChange(self, request: pb.RequestChangeRequest, context: grpc.ServicerContext
                      ) -> pb.RequestChangeResponse:
        r = request.requester
        made = change_requests.request_change(
            self.deps, request.account_id, Requester(r.user_id, r.name, r.email, r.locale), request.plan_code,
            request.seats, _FROM_INTERVAL.get(request.interval), request.note)
        return pb.RequestChangeResponse(change_request=self._request(made))

    def ListChangeRequests(self, request: pb.ListChangeRequestsRequest, context: grpc.ServicerContext
                           ) -> pb.ListChangeRequestsResponse:
        found = change_requests.list_change_requests(self.deps, request.account_id,
                                                     requested_by=request.requested_by,
                                                     pending_only=request.pending_only, limit=request.page_size)
        catalogue, currency = self._catalogue(), self._currency(request.account_id)
        return pb.ListChangeRequestsResponse(change_requests=[self._request(r, catalogue, currency) for r in found])

    def GetChangeRequest(self, request: pb.GetChangeRequestRequest, context: grpc.ServicerContext
                         ) -> pb.GetChangeRequestResponse:
        found = change_requests.get_change_request(self.deps, request.account_id, request.change_request_id)
        return pb.GetChangeRequestResponse(change_request=self._request(found))

    def WithdrawChangeRequest(self, request: pb.WithdrawChangeRequestRequest, context: grpc.ServicerContext
                              ) -> pb.WithdrawChangeRequestResponse:
        done = change_requests.withdraw(self.deps, request.account_id, request.change_request_id,
                                        request.requested_by)
        return pb.WithdrawChangeRequestResponse(change_request=self._request(done))

    def DeclineChangeRequest(self, request: pb.DeclineChangeRequestRequest, context: grpc.ServicerContext
                             ) -> pb.DeclineChangeRequestResponse:
        done = change_requests.decline(self.deps, request.account_id, request.change_request_id, request.decided_by,
                                       request.reason)
        return pb.DeclineChangeRequestResponse(change_request=self._request(done))

    def ApproveChangeRequest(self, request: pb.ApproveChangeRequestRequest, context: grpc.ServicerContext
                             ) -> pb.ApproveChangeRequestResponse:
        done, outcome = change_requests.approve(self.deps, request.account_id, request.change_request_id,
                                                request.decided_by, request.idempotency_key)
        return pb.ApproveChangeRequestResponse(change_request=self._request(done), **self._outcome(outcome))

    # --- helpers: domain -> messages ------------------------------------------------------

    def _request(self, r: ChangeRequest, catalogue: Catalogue | None = None, currency: str = ""
                 ) -> pb.MemberChangeRequest:
        catalogue = catalogue or self._catalogue()
        currency = currency or self._currency(r.account_id)
        message = pb.MemberChangeRequest(
            change_request_id=r.id, status=_REQUEST_STATUSES[r.status],
            requester=pb.Requester(user_id=r.requester.user_id, name=r.requester.name, email=r.requester.email,
                                   locale=r.requester.locale),
            target=selection_message(r.target, catalogue, currency), note=r.note, created_at=_ts(r.created_at),
            decline_reason=r.decline_reason, invoice_id=r.invoice_id or "", scheduled=r.scheduled,
            payment_pending=r.is_pending and r.approval_key is not None)
        if r.decided_at is not None:
            message.decided_at.CopyFrom(_ts(r.decided_at))
        return message

    def _currency(self, account_id: str) -> str:
        with self.deps.uow() as uow:
            subscription = current_subscription(uow.subscriptions.for_account(account_id))
        return subscription.currency if subscription is not None else "USD"

    def _catalogue(self) -> Catalogue:
        with self.deps.uow() as uow:
            return uow.plans.catalogue()

    def _subscription(self, s: Subscription) -> pb.Subscription:
        d = subscriptions.get_subscription(self.deps, s.account_id)
        default = d.default_payment_method
        return subscription_message(s, d.catalogue, d.now, default)

    def _outcome(self, outcome: Outcome, *, invoice: bool = True) -> dict[str, Any]:
        fields: dict[str, Any] = {"outcome": _OUTCOMES[outcome.result],
                                     "subscription": self._subscription(outcome.subscription)}
        if invoice and outcome.invoice is not None:
            fields["invoice"] = invoice_message(outcome.invoice)
        return fields


def _ts(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _money(amount: Money | None) -> Any:
    return to_proto(amount) if amount is not None else None


def selection_message(s: Selection, catalogue: Catalogue, currency: str) -> pb.Selection:
    plan = catalogue.plan(s.plan_code)
    return pb.Selection(plan_code=plan.code, plan_name=plan.name, seats=s.seats, interval=_INTERVALS[s.interval],
                        amount=to_proto(catalogue.amount(s, currency)))


def method_message(m: PaymentMethod) -> pb.PaymentMethod:
    return pb.PaymentMethod(payment_method_id=m.id, brand=m.brand, last4=m.last4, exp_month=m.exp_month,
                            exp_year=m.exp_year, is_default=m.is_default)


def subscription_message(s: Subscription, catalogue: Catalogue, now: dt.datetime,
                         default: PaymentMethod | None) -> pb.Subscription:
    status = s.display_status(now)
    message = pb.Subscription(
        subscription_id=s.id, current=selection_message(s.selection, catalogue, s.currency), status=_DISPLAY[status],
        current_period_start=_ts(s.current_period_start), current_period_end=_ts(s.current_period_end),
        cancel_reason=s.cancel_reason, currency=s.currency)
    if status in (DisplayStatus.PENDING_CANCELLATION, DisplayStatus.CANCELED):
        message.ends_at.CopyFrom(_ts(s.canceled_at or s.current_period_end))
    else:
        renewing = s.scheduled_change or s.selection
        message.next_renewal_at.CopyFrom(_ts(s.current_period_end))
        message.next_renewal_amount.CopyFrom(to_proto(catalogue.amount(renewing, s.currency)))
    if s.scheduled_change is not None:
        message.scheduled_change.CopyFrom(selection_message(s.scheduled_change, catalogue, s.currency))
    if default is not None:
        message.default_payment_method.CopyFrom(method_message(default))
    if status is DisplayStatus.PAST_DUE and s.dunning is not None:
        if s.dunning.next_retry_at is not None:
            message.payment_retry_at.CopyFrom(_ts(s.dunning.next_retry_at))
        message.payment_decline_code = s.dunning.decline_code
    return message


def line_message(line: ChargeLine) -> pb.Line:
    return pb.Line(kind=_LINE_KINDS[line.kind], plan_code=line.plan_code, plan_name=line.plan_name, seats=line.seats,
                   interval=_INTERVALS[line.interval], period_start=_ts(line.period_start),
                   period_end=_ts(line.period_end), unit_price=to_proto(line.unit_price),
                   amount=to_proto(line.amount), description=line.describe("en"))


def preview_message(p: Preview, catalogue: Catalogue) -> pb.ChangePreview:
    return pb.ChangePreview(
        timing=_TIMINGS[p.timing], effective_at=_ts(p.effective_at), lines=[line_message(x) for x in p.lines],
        amount_due=to_proto(p.amount_due), current=selection_message(p.current, catalogue, p.currency),
        target=selection_message(p.target, catalogue, p.currency),
        new_recurring_amount=to_proto(p.new_recurring_amount),
        next_renewal_at=_ts(p.next_renewal_at), at=_ts(p.at))


def profile_message(p: BillingProfile) -> pb.BillingProfile:
    return pb.BillingProfile(
        company_name=p.company_name, address_line1=p.address_line1, address_line2=p.address_line2, city=p.city,
        region=p.region, postal_code=p.postal_code, country=p.country,
        tax_id=p.tax_id.formatted() if p.tax_id else "", tax_id_kind=p.tax_id.kind if p.tax_id else "",
        invoice_emails=list(p.invoice_emails))


def invoice_message(i: Invoice, *, lines: bool = True) -> pb.Invoice:
    message = pb.Invoice(invoice_id=i.id, number=i.number, kind=_INVOICE_KINDS[i.kind],
                         status=_INVOICE_STATUSES[i.status], issued_at=_ts(i.issued_at), total=to_proto(i.total),
                         subscription_id=i.subscription_id)
    if lines:
        message.lines.extend(line_message(x) for x in i.lines)
        if i.buyer is not None:
            message.buyer.CopyFrom(profile_message(i.buyer))
    return message


def summary_message(s: Subscription) -> pb.SubscriptionSummary:
    period_end = Timestamp()
    period_end.FromDatetime(s.current_period_end)
    renewal = s.renewal_amount()
    return pb.SubscriptionSummary(
        subscription_id=s.id,
        plan_code=s.plan.code,
        plan_name=s.plan.name,
        seats=s.seats,
        interval=_INTERVALS[s.interval],
        status=_STATUSES[s.status],
        renewal_amount=to_proto(renewal),
        current_period_end=period_end,
        cancel_at_period_end=s.cancel_at_period_end,
    )


def build(settings: OnlineBillingSettings, *, gateway_settings: GatewaySettings | None = None,
          gateway: PaymentGateway | None = None, clock: Clock | None = None,
          contacts: BillingContacts | None = None) -> GrpcServer:
    """The server, not started yet (bind "127.0.0.1:0" for a free port), with the outbox
    dispatcher already polling; `server.stop()` stops the dispatcher and closes the engine.
    The payment gateway is `gateway`, else built from `gateway_settings`, else from the
    environment (PAYMENT_GATEWAY, SANDBOX_GATEWAY_*: refusing to start, naming the variable,
    when they cannot charge in prod)."""
    if gateway is None and gateway_settings is None:
        gateway_settings = settings_or_exit("online_billing", GatewaySettings)
    deps = bootstrap.build_dependencies(settings, gateway=gateway, gateway_settings=gateway_settings, clock=clock,
                                        contacts=contacts)
    servicer = OnlineBillingServicer(deps)
    server = build_service(
        settings,
        service_name=SERVICE_NAME,
        register=lambda s: online_billing_pb2_grpc.add_OnlineBillingServiceServicer_to_server(servicer, s),
        engine=deps.sql_engine,
        outbox=orm.outbox,
        on_stop=deps.close,
        allowed_callers=ALLOWED_CALLERS,
        # Every signed-in billing contact's landing page reads it: failures are still logged.
        quiet_methods=[f"/{SERVICE_NAME}/GetSubscriptionSummary"],
        # Receipts carry the invoice's PDF, rendered when sent; mails written while identity
        # was down are addressed when sent (service_layer.mails).
        attachments=mails.attachments(deps),
        expand=mails.expander(deps),
    )
    # The billing run on a schedule (ONLINE_BILLING_RENEWAL_INTERVAL), stopped first on stop.
    scheduler = BillingRunScheduler(deps, settings).start()
    server.on_stop.insert(0, lambda: scheduler.stop(settings.shutdown_grace))
    return server


def serve(settings: OnlineBillingSettings) -> None:
    """Run until SIGTERM/SIGINT (health goes NOT_SERVING, in-flight calls finish)."""
    build(settings).start().serve_forever()
