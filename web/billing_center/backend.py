"""The Billing Center's typed client of its backend (online_billing.v1)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import grpc

from billing.online_billing.v1 import online_billing_pb2, online_billing_pb2_grpc
from billing_common.money import Money
from web.common.clients import GrpcClient, money, timestamp
from web.common.i18n import gettext as _
from web.common.runtime import backend_as


@dataclass(frozen=True)
class SubscriptionView:
    plan_name: str
    seats: int
    interval: online_billing_pb2.BillingInterval.ValueType
    status: online_billing_pb2.SubscriptionStatus.ValueType
    renewal_amount: Money | None
    current_period_end: datetime | None
    cancel_at_period_end: bool

    @property
    def interval_label(self) -> str:
        return interval_label(self.interval)

    @property
    def status_label(self) -> str:
        return status_label(self.status)


def interval_label(interval: int) -> str:
    labels: dict[int, str] = {
        online_billing_pb2.BILLING_INTERVAL_MONTHLY: _("Monthly"),
        online_billing_pb2.BILLING_INTERVAL_ANNUAL: _("Annual"),
    }
    return labels.get(interval, _("Unknown"))


def status_label(status: int) -> str:
    labels: dict[int, str] = {
        online_billing_pb2.SUBSCRIPTION_STATUS_ACTIVE: _("Active"),
        online_billing_pb2.SUBSCRIPTION_STATUS_PAST_DUE: _("Past due"),
        online_billing_pb2.SUBSCRIPTION_STATUS_CANCELED: _("Canceled"),
        online_billing_pb2.SUBSCRIPTION_STATUS_PENDING_CANCELLATION: _("Pending cancellation"),
    }
    return labels.get(status, _("Unknown"))


# The interval as the web forms name it, both ways.
INTERVALS = {"monthly": online_billing_pb2.BILLING_INTERVAL_MONTHLY,
             "annual": online_billing_pb2.BILLING_INTERVAL_ANNUAL}
INTERVAL_NAMES: dict[int, str] = {value: name for name, value in INTERVALS.items()}


@dataclass(frozen=True)
class SelectionView:
    """A plan, seats and interval, and what one period of it costs."""

    plan_code: str
    plan_name: str
    seats: int
    interval: int
    amount: Money | None

    @property
    def interval_label(self) -> str:
        return interval_label(self.interval)

    @property
    def interval_name(self) -> str:
        return INTERVAL_NAMES.get(self.interval, "")


@dataclass(frozen=True)
class PaymentMethodView:
    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool

    @property
    def brand_label(self) -> str:
        return {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express",
                "discover": "Discover", "jcb": "JCB", "diners": "Diners Club",
                "unionpay": "UnionPay"}.get(self.brand, self.brand.title())

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year}"


@dataclass(frozen=True)
class SubscriptionPageView:
    """Everything the subscription page shows."""

    subscription_id: str
    current: SelectionView
    status: int
    current_period_start: datetime | None
    current_period_end: datetime | None
    next_renewal_at: datetime | None
    next_renewal_amount: Money | None
    ends_at: datetime | None
    scheduled_change: SelectionView | None
    default_payment_method: PaymentMethodView | None
    cancel_reason: str
    currency: str
    # A payment is being confirmed (a lost gateway answer, S20) until the reconciler settles it.
    payment_pending: bool = False

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def is_active(self) -> bool:
        return self.status == online_billing_pb2.SUBSCRIPTION_STATUS_ACTIVE

    @property
    def is_pending_cancellation(self) -> bool:
        return self.status == online_billing_pb2.SUBSCRIPTION_STATUS_PENDING_CANCELLATION

    @property
    def is_canceled(self) -> bool:
        return self.status == online_billing_pb2.SUBSCRIPTION_STATUS_CANCELED

    @property
    def is_past_due(self) -> bool:
        return self.status == online_billing_pb2.SUBSCRIPTION_STATUS_PAST_DUE


@dataclass(frozen=True)
class PlanView:
    code: str
    name: str
    min_seats: int
    max_seats: int
    monthly_price: Money | None
    annual_price: Money | None


@dataclass(frozen=True)
class LineView:
    kind: int
    plan_name: str
    seats: int
    interval: int
    period_start: datetime | None
    period_end: datetime | None
    unit_price: Money | None
    amount: Money | None

    @property
    def kind_label(self) -> str:
        labels: dict[int, str] = {
            online_billing_pb2.LINE_KIND_CREDIT: _("Credit for the unused time of"),
            online_billing_pb2.LINE_KIND_PRORATED_CHARGE: _("Charge for the remaining time of"),
            online_billing_pb2.LINE_KIND_PERIOD: _("Subscription period of"),
        }
        return labels.get(self.kind, "")

    @property
    def interval_label(self) -> str:
        return interval_label(self.interval)


@dataclass(frozen=True)
class PreviewView:
    immediate: bool
    effective_at: datetime | None
    lines: tuple[LineView, ...]
    amount_due: Money | None
    current: SelectionView
    target: SelectionView
    new_recurring_amount: Money | None
    next_renewal_at: datetime | None


INVOICE_STATUS_NAMES: dict[int, str] = {
    online_billing_pb2.INVOICE_STATUS_OPEN: "open",
    online_billing_pb2.INVOICE_STATUS_PAID: "paid",
    online_billing_pb2.INVOICE_STATUS_VOID: "void",
}


@dataclass(frozen=True)
class BillingProfileView:
    company_name: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    tax_id: str = ""
    tax_id_kind: str = ""
    invoice_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class InvoiceView:
    invoice_id: str
    number: str
    kind: int
    status: int
    issued_at: datetime | None
    total: Money | None
    lines: tuple[LineView, ...] = ()
    buyer: BillingProfileView | None = None
    # The vendor, as the PDF prints it (GetInvoice only).
    seller: BillingProfileView | None = None
    # Open, its payment being confirmed (S20).
    payment_pending: bool = False

    @property
    def status_name(self) -> str:
        return INVOICE_STATUS_NAMES.get(self.status, "unknown")

    # Only the label shown is translated: a history page has these twice per row, and building
    # every label of the dict for each was a quarter of its Python time (py-spy).
    @property
    def status_label(self) -> str:
        status = self.status
        if status == online_billing_pb2.INVOICE_STATUS_PAID:
            return _("Paid")
        if status == online_billing_pb2.INVOICE_STATUS_OPEN:
            return _("Open")
        if status == online_billing_pb2.INVOICE_STATUS_VOID:
            return _("Void")
        return _("Unknown")

    @property
    def kind_label(self) -> str:
        kind = self.kind
        if kind == online_billing_pb2.INVOICE_KIND_RENEWAL:
            return _("Renewal")
        if kind == online_billing_pb2.INVOICE_KIND_PRORATION:
            return _("Change of subscription")
        if kind == online_billing_pb2.INVOICE_KIND_REACTIVATION:
            return _("Reactivation")
        return _("Unknown")


@dataclass(frozen=True)
class InvoicePage:
    invoices: tuple[InvoiceView, ...]
    next_page_token: str
    payment_pending: bool = False  # a payment of the account is being confirmed (S20)


@dataclass(frozen=True)
class ChangeResult:
    """What a confirmed change did: applied (with its invoice), scheduled, or waiting for the
    gateway's answer (S20)."""

    outcome: int
    subscription: SubscriptionPageView | None
    invoice: InvoiceView | None = None

    @property
    def applied(self) -> bool:
        return self.outcome == online_billing_pb2.CHANGE_OUTCOME_APPLIED

    @property
    def scheduled(self) -> bool:
        return self.outcome == online_billing_pb2.CHANGE_OUTCOME_SCHEDULED

    @property
    def payment_pending(self) -> bool:
        return self.outcome == online_billing_pb2.CHANGE_OUTCOME_PAYMENT_PENDING


REQUEST_STATUS_NAMES: dict[int, str] = {
    online_billing_pb2.CHANGE_REQUEST_STATUS_PENDING: "pending",
    online_billing_pb2.CHANGE_REQUEST_STATUS_APPROVED: "approved",
    online_billing_pb2.CHANGE_REQUEST_STATUS_DECLINED: "declined",
    online_billing_pb2.CHANGE_REQUEST_STATUS_WITHDRAWN: "withdrawn",
}


@dataclass(frozen=True)
class ChangeRequestView:
    """A member's change request."""

    change_request_id: str
    status: int
    requester_name: str
    requester_email: str
    target: SelectionView
    note: str
    created_at: datetime | None
    decided_at: datetime | None
    decline_reason: str
    invoice_id: str
    scheduled: bool
    payment_pending: bool

    @property
    def status_name(self) -> str:
        return REQUEST_STATUS_NAMES.get(self.status, "unknown")

    @property
    def is_pending(self) -> bool:
        return self.status == online_billing_pb2.CHANGE_REQUEST_STATUS_PENDING

    @property
    def status_label(self) -> str:
        if self.is_pending and self.payment_pending:
            return _("Pending: payment being confirmed")
        labels: dict[int, str] = {
            online_billing_pb2.CHANGE_REQUEST_STATUS_PENDING: _("Pending"),
            online_billing_pb2.CHANGE_REQUEST_STATUS_APPROVED: (_("Approved: scheduled for the next renewal")
                                                                if self.scheduled else _("Approved")),
            online_billing_pb2.CHANGE_REQUEST_STATUS_DECLINED: _("Declined"),
            online_billing_pb2.CHANGE_REQUEST_STATUS_WITHDRAWN: _("Withdrawn"),
        }
        return labels.get(self.status, _("Unknown"))


@dataclass(frozen=True)
class Asker:
    """The signed-in member, as identity's session names them (passed to online_billing so the
    outcome can be mailed to them in their language)."""

    user_id: str
    name: str
    email: str
    locale: str


@dataclass(frozen=True)
class PdfFile:
    content: bytes
    filename: str



class OnlineBilling(GrpcClient[online_billing_pb2_grpc.OnlineBillingServiceStub]):
    service = online_billing_pb2.DESCRIPTOR.services_by_name["OnlineBillingService"].full_name
    stub_class = online_billing_pb2_grpc.OnlineBillingServiceStub
    idempotent = ("GetSubscriptionSummary", "GetSubscription", "ListPlans", "PreviewChange",
                  "ListPaymentMethods", "ListInvoices", "GetInvoice", "GetInvoicePdf", "GetBillingProfile",
                  "ListChangeRequests", "GetChangeRequest")

    def subscription_summary(self, account_id: str) -> SubscriptionView | None:
        """The account's subscription; None when it has none yet (NOT_FOUND)."""
        try:
            answer = self.stub.GetSubscriptionSummary(
                online_billing_pb2.GetSubscriptionSummaryRequest(account_id=account_id))
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
                return None
            raise  # UNAVAILABLE and the rest: the app's one error handler decides
        s = answer.subscription
        return SubscriptionView(
            plan_name=s.plan_name, seats=s.seats, interval=s.interval, status=s.status,
            renewal_amount=money(s.renewal_amount) if s.HasField("renewal_amount") else None,
            current_period_end=timestamp(s.current_period_end) if s.HasField("current_period_end") else None,
            cancel_at_period_end=s.cancel_at_period_end,
        )


    def subscription(self, account_id: str) -> SubscriptionPageView | None:
        """The account's subscription with everything its page shows; None when it has none."""
        try:
            answer = self.stub.GetSubscription(online_billing_pb2.GetSubscriptionRequest(account_id=account_id))
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
                return None
            raise
        return _subscription(answer.subscription)

    def plans(self, account_id: str) -> list[PlanView]:
        answer = self.stub.ListPlans(online_billing_pb2.ListPlansRequest(account_id=account_id))
        return [PlanView(code=p.code, name=p.name, min_seats=p.min_seats, max_seats=p.max_seats,
                         monthly_price=_money(p, "monthly_price"), annual_price=_money(p, "annual_price"))
                for p in answer.plans]

    def preview_change(self, account_id: str, subscription_id: str, plan_code: str, seats: int,
                       interval: int) -> PreviewView:
        answer = self.stub.PreviewChange(online_billing_pb2.PreviewChangeRequest(
            change=_change_request(account_id, subscription_id, plan_code, seats, interval)))
        return _preview(answer.preview)

    def apply_change(self, account_id: str, subscription_id: str, plan_code: str, seats: int, interval: int,
                     idempotency_key: str) -> ChangeResult:
        answer = self.stub.ApplyChange(online_billing_pb2.ApplyChangeRequest(
            change=_change_request(account_id, subscription_id, plan_code, seats, interval),
            idempotency_key=idempotency_key))
        return _change_result(answer)

    def undo_scheduled_change(self, account_id: str, subscription_id: str) -> None:
        self.stub.UndoScheduledChange(online_billing_pb2.UndoScheduledChangeRequest(
            account_id=account_id, subscription_id=subscription_id))

    def cancel(self, account_id: str, subscription_id: str, reason: str) -> None:
        self.stub.CancelSubscription(online_billing_pb2.CancelSubscriptionRequest(
            account_id=account_id, subscription_id=subscription_id, reason=reason))

    def undo_cancellation(self, account_id: str, subscription_id: str) -> None:
        self.stub.UndoCancellation(online_billing_pb2.UndoCancellationRequest(
            account_id=account_id, subscription_id=subscription_id))

    def reactivate(self, account_id: str, subscription_id: str, idempotency_key: str) -> ChangeResult:
        answer = self.stub.Reactivate(online_billing_pb2.ReactivateRequest(
            account_id=account_id, subscription_id=subscription_id, idempotency_key=idempotency_key))
        return _change_result(answer)

    def payment_methods(self, account_id: str) -> list[PaymentMethodView]:
        answer = self.stub.ListPaymentMethods(online_billing_pb2.ListPaymentMethodsRequest(account_id=account_id))
        return [_payment_method(m) for m in answer.payment_methods]

    def add_payment_method(self, account_id: str, token: str, make_default: bool) -> PaymentMethodView:
        answer = self.stub.AddPaymentMethod(online_billing_pb2.AddPaymentMethodRequest(
            account_id=account_id, token=token, make_default=make_default))
        return _payment_method(answer.payment_method)

    def set_default_payment_method(self, account_id: str, payment_method_id: str) -> None:
        self.stub.SetDefaultPaymentMethod(online_billing_pb2.SetDefaultPaymentMethodRequest(
            account_id=account_id, payment_method_id=payment_method_id))

    def remove_payment_method(self, account_id: str, payment_method_id: str) -> None:
        self.stub.RemovePaymentMethod(online_billing_pb2.RemovePaymentMethodRequest(
            account_id=account_id, payment_method_id=payment_method_id))

    def invoices(self, account_id: str, page_token: str = "", page_size: int = 20) -> InvoicePage:
        answer = self.stub.ListInvoices(online_billing_pb2.ListInvoicesRequest(
            account_id=account_id, page_size=page_size, page_token=page_token))
        return InvoicePage(tuple(_invoice(i) for i in answer.invoices), answer.next_page_token,
                           answer.payment_pending)

    def invoice(self, account_id: str, invoice_id: str) -> InvoiceView:
        """NOT_FOUND (an RpcError) for another account's invoice (S13)."""
        answer = self.stub.GetInvoice(online_billing_pb2.GetInvoiceRequest(account_id=account_id,
                                                                             invoice_id=invoice_id))
        return _invoice(answer.invoice)

    def invoice_pdf(self, account_id: str, invoice_id: str, language: str) -> PdfFile:
        answer = self.stub.GetInvoicePdf(online_billing_pb2.GetInvoicePdfRequest(
            account_id=account_id, invoice_id=invoice_id, language=language))
        return PdfFile(answer.pdf, answer.filename)

    def billing_profile(self, account_id: str) -> BillingProfileView | None:
        answer = self.stub.GetBillingProfile(online_billing_pb2.GetBillingProfileRequest(account_id=account_id))
        return _profile(answer.profile) if answer.HasField("profile") else None

    def update_billing_profile(self, account_id: str, profile: BillingProfileView) -> BillingProfileView:
        answer = self.stub.UpdateBillingProfile(online_billing_pb2.UpdateBillingProfileRequest(
            account_id=account_id, profile=online_billing_pb2.BillingProfile(
                company_name=profile.company_name, address_line1=profile.address_line1,
                address_line2=profile.address_line2, city=profile.city, region=profile.region,
                postal_code=profile.postal_code, country=profile.country, tax_id=profile.tax_id,
                invoice_emails=list(profile.invoice_emails))))
        return _profile(answer.profile)


    # --- members' change requests ------------------------------------------------------------

    def request_change(self, account_id: str, asker: Asker, plan_code: str, seats: int, interval: int,
                       note: str) -> ChangeRequestView:
        answer = self.stub.RequestChange(online_billing_pb2.RequestChangeRequest(
            account_id=account_id, requester=online_billing_pb2.Requester(
                user_id=asker.user_id, name=asker.name, email=asker.email, locale=asker.locale),
            plan_code=plan_code, seats=seats, interval=interval, note=note))  # type: ignore[arg-type]
        return _member_request(answer.change_request)

    def change_requests(self, account_id: str, *, requested_by: str = "", pending_only: bool = False,
                        page_size: int = 50) -> list[ChangeRequestView]:
        answer = self.stub.ListChangeRequests(online_billing_pb2.ListChangeRequestsRequest(
            account_id=account_id, requested_by=requested_by, pending_only=pending_only, page_size=page_size))
        return [_member_request(r) for r in answer.change_requests]

    def change_request(self, account_id: str, change_request_id: str) -> ChangeRequestView:
        """NOT_FOUND (an RpcError) for another account's request (S13)."""
        answer = self.stub.GetChangeRequest(online_billing_pb2.GetChangeRequestRequest(
            account_id=account_id, change_request_id=change_request_id))
        return _member_request(answer.change_request)

    def withdraw_change_request(self, account_id: str, change_request_id: str, user_id: str) -> ChangeRequestView:
        answer = self.stub.WithdrawChangeRequest(online_billing_pb2.WithdrawChangeRequestRequest(
            account_id=account_id, change_request_id=change_request_id, requested_by=user_id))
        return _member_request(answer.change_request)

    def decline_change_request(self, account_id: str, change_request_id: str, user_id: str, reason: str
                               ) -> ChangeRequestView:
        answer = self.stub.DeclineChangeRequest(online_billing_pb2.DeclineChangeRequestRequest(
            account_id=account_id, change_request_id=change_request_id, decided_by=user_id, reason=reason))
        return _member_request(answer.change_request)

    def approve_change_request(self, account_id: str, change_request_id: str, user_id: str, idempotency_key: str
                               ) -> tuple[ChangeRequestView, ChangeResult]:
        answer = self.stub.ApproveChangeRequest(online_billing_pb2.ApproveChangeRequestRequest(
            account_id=account_id, change_request_id=change_request_id, decided_by=user_id,
            idempotency_key=idempotency_key))
        return _member_request(answer.change_request), _change_result(answer)


def _member_request(r: online_billing_pb2.MemberChangeRequest) -> ChangeRequestView:
    return ChangeRequestView(
        change_request_id=r.change_request_id, status=r.status, requester_name=r.requester.name,
        requester_email=r.requester.email, target=_selection(r.target), note=r.note,
        created_at=_time(r, "created_at"), decided_at=_time(r, "decided_at"), decline_reason=r.decline_reason,
        invoice_id=r.invoice_id, scheduled=r.scheduled, payment_pending=r.payment_pending)


def _money(message: object, name: str) -> Money | None:
    return money(getattr(message, name)) if message.HasField(name) else None  # type: ignore[attr-defined]


def _time(message: object, name: str) -> datetime | None:
    return timestamp(getattr(message, name)) if message.HasField(name) else None  # type: ignore[attr-defined]


def _selection(s: online_billing_pb2.Selection) -> SelectionView:
    return SelectionView(plan_code=s.plan_code, plan_name=s.plan_name, seats=s.seats, interval=s.interval,
                         amount=_money(s, "amount"))


def _payment_method(m: online_billing_pb2.PaymentMethod) -> PaymentMethodView:
    return PaymentMethodView(payment_method_id=m.payment_method_id, brand=m.brand, last4=m.last4,
                             exp_month=m.exp_month, exp_year=m.exp_year, is_default=m.is_default)


def _subscription(s: online_billing_pb2.Subscription) -> SubscriptionPageView:
    return SubscriptionPageView(
        subscription_id=s.subscription_id, current=_selection(s.current), status=s.status,
        current_period_start=_time(s, "current_period_start"), current_period_end=_time(s, "current_period_end"),
        next_renewal_at=_time(s, "next_renewal_at"), next_renewal_amount=_money(s, "next_renewal_amount"),
        ends_at=_time(s, "ends_at"),
        scheduled_change=_selection(s.scheduled_change) if s.HasField("scheduled_change") else None,
        default_payment_method=(_payment_method(s.default_payment_method)
                                if s.HasField("default_payment_method") else None),
        cancel_reason=s.cancel_reason, currency=s.currency, payment_pending=s.payment_pending)


def _change_request(account_id: str, subscription_id: str, plan_code: str, seats: int,
                    interval: int) -> online_billing_pb2.ChangeRequest:
    return online_billing_pb2.ChangeRequest(account_id=account_id, subscription_id=subscription_id,
                                            plan_code=plan_code, seats=seats,
                                            interval=interval)  # type: ignore[arg-type]


def _change_result(answer: online_billing_pb2.ApplyChangeResponse | online_billing_pb2.ReactivateResponse
                   | online_billing_pb2.ApproveChangeRequestResponse) -> ChangeResult:
    return ChangeResult(outcome=answer.outcome,
                        subscription=_subscription(answer.subscription) if answer.HasField("subscription") else None,
                        invoice=_invoice(answer.invoice) if answer.HasField("invoice") else None)


def _line(line: online_billing_pb2.Line) -> LineView:
    return LineView(kind=line.kind, plan_name=line.plan_name, seats=line.seats, interval=line.interval,
                    period_start=_time(line, "period_start"), period_end=_time(line, "period_end"),
                    unit_price=_money(line, "unit_price"), amount=_money(line, "amount"))


def _preview(p: online_billing_pb2.ChangePreview) -> PreviewView:
    return PreviewView(
        immediate=p.timing == online_billing_pb2.CHANGE_TIMING_IMMEDIATE, effective_at=_time(p, "effective_at"),
        lines=tuple(_line(line) for line in p.lines), amount_due=_money(p, "amount_due"),
        current=_selection(p.current), target=_selection(p.target),
        new_recurring_amount=_money(p, "new_recurring_amount"), next_renewal_at=_time(p, "next_renewal_at"))


def _profile(p: online_billing_pb2.BillingProfile) -> BillingProfileView:
    return BillingProfileView(company_name=p.company_name, address_line1=p.address_line1,
                              address_line2=p.address_line2, city=p.city, region=p.region,
                              postal_code=p.postal_code, country=p.country, tax_id=p.tax_id,
                              tax_id_kind=p.tax_id_kind, invoice_emails=tuple(p.invoice_emails))


def _invoice(i: online_billing_pb2.Invoice) -> InvoiceView:
    return InvoiceView(invoice_id=i.invoice_id, number=i.number, kind=i.kind, status=i.status,
                       issued_at=_time(i, "issued_at"), total=_money(i, "total"),
                       lines=tuple(_line(line) for line in i.lines),
                       buyer=_profile(i.buyer) if i.HasField("buyer") else None,
                       seller=_profile(i.seller) if i.HasField("seller") else None,
                       payment_pending=i.payment_pending)


def online_billing() -> OnlineBilling:
    """This app's online_billing client (inside a request)."""
    return backend_as(OnlineBilling)
