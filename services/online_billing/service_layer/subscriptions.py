"""Subscriptions' use cases: the catalogue, the subscription, changes with their preview and
charge, cancellation and reactivation; and the settling of charges (S19, S20).

Every use case takes the caller's account id and finds objects only within that account, so
another account's id answers NotFound (S13).

How a change that charges is applied, so that nothing is half-applied and nothing is charged
twice (S19, S20):
1. one transaction locks the subscription, computes the preview and stores a PENDING payment
   with the caller's idempotency key, the gateway key, the card and the preview itself;
2. the gateway is called outside any transaction, with the gateway key;
3. one transaction settles the payment: on success it applies the stored preview and
   finalizes the invoice (its gapless number taken there); on a decline it records the decline
   and changes nothing; on a lost answer it records UNKNOWN and changes nothing yet.
A replay with the same key re-sends the same charge (the gateway answers its first result) and
settles whatever is not settled yet; a settled payment answers from the database. `reconcile`
asks the gateway about payments left UNKNOWN (or PENDING by a process that died) and settles them.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from enum import StrEnum

import structlog

from billing_common.clock import utc
from billing_common.errors import FailedPrecondition, InvalidArgument, NotFound
from billing_common.invoicing.numbering import yearly_series
from billing_common.limits import MAX_NOTE, has_disallowed_characters
from billing_common.money import is_currency
from billing_common.payments import messages
from billing_common.payments.cards import scan_clean_uuid
from billing_common.payments.flow import Reconciled, charge_by_key, charge_metadata, reconcile_by_key
from billing_common.payments.gateway import (
    ChargeResult,
    IdempotencyKeyReused,
    PaymentDeclined,
    check_idempotency_key,
)
from billing_common.validation import require_id
from services.online_billing.domain.billing import (
    ChargePurpose,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Preview,
    Timing,
)
from services.online_billing.domain.catalogue import Catalogue
from services.online_billing.domain.changes import (
    changed,
    preview_change,
    preview_reactivation,
    reactivated,
    to_second,
)
from services.online_billing.domain.model import (
    BillingInterval,
    Selection,
    Subscription,
    SubscriptionStatus,
    current_subscription,
)
from services.online_billing.service_layer import mails, request_settling
from services.online_billing.service_layer.dependencies import Dependencies
from services.online_billing.service_layer.mails import BillingMail
from services.online_billing.service_layer.ports import UnitOfWork
from services.online_billing.service_layer.renewals import settle_renewal_in

log = structlog.get_logger()


def now_of(deps: Dependencies) -> dt.datetime:
    return to_second(utc(deps.clock.now()))


# --- reads ------------------------------------------------------------------------------------


def list_plans(deps: Dependencies, account_id: str, currency: str = "") -> tuple[str, Catalogue]:
    """The catalogue in the account's currency (its subscription's), or in `currency` for an
    account without one yet. Raises InvalidArgument(field="currency") when neither is known."""
    require_id(account_id, "account_id")
    with deps.uow() as uow:
        subscription = current_subscription(uow.subscriptions.for_account(account_id))
        catalogue = uow.plans.catalogue()
    if subscription is not None:
        currency = subscription.currency
    if not currency or not is_currency(currency):
        raise InvalidArgument("currency must be an ISO 4217 code (the account has no subscription yet)",
                              field="currency")
    return currency, catalogue


@dataclass(frozen=True, slots=True)
class SubscriptionDetails:
    subscription: Subscription
    catalogue: Catalogue
    now: dt.datetime
    default_payment_method: PaymentMethod | None
    # A payment of the account is being confirmed (PENDING, or UNKNOWN until reconciled: S20).
    payment_pending: bool = False


def get_subscription(deps: Dependencies, account_id: str) -> SubscriptionDetails:
    """The account's current subscription (domain.current_subscription) with what its page
    shows; NotFound when the account has none."""
    require_id(account_id, "account_id")
    with deps.uow() as uow:
        subscription = current_subscription(uow.subscriptions.for_account(account_id))
        if subscription is None:
            raise NotFound("this account has no subscription")
        methods = uow.payment_methods.for_account(account_id)
        catalogue = uow.plans.catalogue()
        pending = bool(uow.payments.in_flight_for_account(account_id))
    default = next((m for m in methods if m.is_default), None)
    return SubscriptionDetails(subscription, catalogue, now_of(deps), default, pending)


def _subscription(uow: UnitOfWork, account_id: str, subscription_id: str, *, for_update: bool = False
                  ) -> Subscription:
    require_id(account_id, "account_id")
    require_id(subscription_id, "subscription_id")
    found = uow.subscriptions.get(account_id, subscription_id, for_update=for_update)
    if found is None:
        raise NotFound("no such subscription")
    return found


def _selection(plan_code: str, seats: int, interval: BillingInterval | None) -> Selection:
    require_id(plan_code, "plan_code", max_length=32)
    if isinstance(seats, bool) or not isinstance(seats, int) or seats < 1:
        raise InvalidArgument("seats must be a whole number of at least 1", field="seats")
    if interval is None:
        raise InvalidArgument("interval must be monthly or annual", field="interval")
    return Selection(plan_code, seats, interval)


selection = _selection  # for the other use cases that take a selection (change_requests)


def preview(deps: Dependencies, account_id: str, subscription_id: str, plan_code: str, seats: int,
            interval: BillingInterval | None) -> Preview:
    """What ApplyChange would do now (domain.changes); writes nothing."""
    target = _selection(plan_code, seats, interval)
    with deps.uow() as uow:
        subscription = _subscription(uow, account_id, subscription_id)
        return preview_change(subscription, target, uow.plans.catalogue(), now_of(deps))


# --- outcomes ---------------------------------------------------------------------------------


class Result(StrEnum):
    APPLIED = "applied"  # charged and in effect
    SCHEDULED = "scheduled"  # takes effect at the next renewal; nothing charged
    PAYMENT_PENDING = "payment_pending"  # the charge's answer was lost: not applied until reconciled
    UNCHANGED = "unchanged"  # nothing to do (an undo of nothing, a cancellation undone)


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    subscription: Subscription
    preview: Preview | None = None
    invoice: Invoice | None = None


def _refuse_in_flight(uow: UnitOfWork, subscription_id: str) -> None:
    if uow.payments.in_flight(subscription_id):
        raise FailedPrecondition("A payment for this subscription is still being confirmed; try again shortly.")


def _fingerprint(purpose: ChargePurpose, subscription_id: str, target: Selection) -> str:
    return f"{purpose.value}:{subscription_id}:{target.plan_code}:{target.seats}:{target.interval.value}"


def apply_change(deps: Dependencies, account_id: str, subscription_id: str, plan_code: str, seats: int,
                 interval: BillingInterval | None, idempotency_key: str) -> Outcome:
    """Applies what `preview` says: scheduled changes are recorded, immediate ones charged to the
    default card and applied only once paid (see the module's docstring).

    Raises PaymentDeclined (the decline's code and message) when the card is declined (nothing
    changed), IdempotencyKeyReused for a key used before with another request, NotFound,
    InvalidArgument and FailedPrecondition as `preview` does."""
    target = _selection(plan_code, seats, interval)
    check_idempotency_key(idempotency_key)
    fingerprint = _fingerprint(ChargePurpose.CHANGE, subscription_id, target)
    with deps.uow() as uow:
        subscription = _subscription(uow, account_id, subscription_id, for_update=True)
        payment = uow.payments.by_key(account_id, idempotency_key)
        if payment is None:
            catalogue = uow.plans.catalogue()
            change = preview_change(subscription, target, catalogue, now_of(deps))
            _refuse_in_flight(uow, subscription.id)
            if change.timing is Timing.SCHEDULED:
                updated = changed(subscription, change, catalogue)
                uow.subscriptions.update(updated)
                uow.commit()
                return Outcome(Result.SCHEDULED, updated, change)
            payment = _new_payment(uow, account_id, idempotency_key, fingerprint, change, now_of(deps))
            uow.payments.add(payment)
            uow.commit()
        elif payment.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
    return _charge_and_settle(deps, payment)


def _new_payment(uow: UnitOfWork, account_id: str, key: str, fingerprint: str, change: Preview,
                 now: dt.datetime) -> Payment:
    card = next((m for m in uow.payment_methods.for_account(account_id) if m.is_default), None)
    if card is None:
        raise FailedPrecondition("Add a card before making a change that is charged now.", field="payment_method_id")
    payment_id = scan_clean_uuid()  # it goes to the gateway in the key and the metadata
    return Payment(id=payment_id, account_id=account_id, idempotency_key=key,
                   gateway_key=f"online-billing-{payment_id}",
                   fingerprint=fingerprint, preview=change, payment_method_id=card.id, token=card.token,
                   status=PaymentStatus.PENDING, created_at=now)


def _charge_and_settle(deps: Dependencies, payment: Payment) -> Outcome:
    if payment.in_flight:
        plan = payment.preview.target
        description = f"{payment.preview.purpose.value}: {plan.plan_code} x {plan.seats} {plan.interval.value}"
        result = charge_by_key(deps.payments, payment_id=payment.id, token=payment.token, amount=payment.amount,
                               gateway_key=payment.gateway_key, description=description,
                               metadata=charge_metadata(payment.id, payment.account_id))
        payment = settle(deps, payment.id, result)
    return _outcome(deps, payment)


def settle(deps: Dependencies, payment_id: str, result: ChargeResult | None) -> Payment:
    """Records the gateway's answer for a payment (None: the gateway never received it) and, on
    success, applies what it paid for and finalizes its invoice, in one transaction. A payment
    settled already (by a parallel request or the reconciler) is left as it is."""
    with deps.uow() as uow:
        payment = uow.payments.get(payment_id, for_update=True)
        if payment is None:
            raise NotFound("no such payment")
        if not payment.in_flight:
            return payment
        now = now_of(deps)
        if payment.preview.purpose is ChargePurpose.RENEWAL:
            payment = settle_renewal_in(deps, uow, payment, result, now)
        elif result is None:
            payment = payment.settled(PaymentStatus.FAILED, now)
        elif result.succeeded:
            invoice = _apply_paid(deps, uow, payment, now)
            payment = payment.settled(PaymentStatus.SUCCEEDED, now, charge_id=result.charge_id, invoice_id=invoice.id)
            # The receipt, with the invoice's PDF: addressed (identity's billing contacts) and
            # rendered when the outbox sends it, so the request waits for neither.
            kind = mails.CHANGE_RECEIPT if invoice.kind is InvoiceKind.PRORATION else mails.REACTIVATION_RECEIPT
            mails.write(deps, uow, [BillingMail(payment.account_id, kind, {
                "number": invoice.number, "amount_minor": invoice.total.amount_minor, "currency": invoice.currency},
                invoice_id=invoice.id)], None, now)
            if payment.preview.purpose is ChargePurpose.CHANGE:  # a member's request approved under this key
                request_settling.finish_paid_approvals(uow, payment.account_id, payment.idempotency_key,
                                                       invoice.id, now)
        elif result.declined:
            payment = payment.settled(PaymentStatus.DECLINED, now,
                                      decline_code=result.decline.code if result.decline else messages.CARD_DECLINED)
        else:
            payment = payment.settled(PaymentStatus.UNKNOWN, now)
        uow.payments.update(payment)
        uow.commit()
    log.info("payment settled", payment_id=payment.id, status=payment.status.value, decline_code=payment.decline_code)
    return payment


def _apply_paid(deps: Dependencies, uow: UnitOfWork, payment: Payment, now: dt.datetime) -> Invoice:
    change = payment.preview
    catalogue = uow.plans.catalogue()
    subscription = uow.subscriptions.get(payment.account_id, change.subscription_id)
    if subscription is None:  # pragma: no cover - subscriptions are never deleted
        raise NotFound("no such subscription")
    if change.purpose is ChargePurpose.CHANGE:
        uow.subscriptions.update(changed(subscription, change, catalogue))
        subscription_id, kind = subscription.id, InvoiceKind.PRORATION
    else:
        uow.subscriptions.update(replace(subscription, status=SubscriptionStatus.CANCELED,
                                         canceled_at=subscription.canceled_at or subscription.current_period_end))
        new = reactivated(subscription, change, catalogue)
        uow.subscriptions.add(new)
        subscription_id, kind = new.id, InvoiceKind.REACTIVATION
    invoice = Invoice(
        id=str(uuid.uuid4()), account_id=payment.account_id, subscription_id=subscription_id,
        number=uow.invoices.next_number(yearly_series(deps.invoice_prefix, now.year)), kind=kind,
        status=InvoiceStatus.PAID, currency=change.currency, issued_at=now, lines=change.lines,
        buyer=uow.billing_profiles.get(payment.account_id), paid_at=now)
    uow.invoices.add(invoice)
    return invoice


def _outcome(deps: Dependencies, payment: Payment) -> Outcome:
    if payment.status in (PaymentStatus.DECLINED, PaymentStatus.FAILED):
        raise PaymentDeclined(payment.decline_code or messages.PROCESSING_ERROR)
    with deps.uow() as uow:
        if payment.status is PaymentStatus.SUCCEEDED:
            invoice = uow.invoices.get(payment.account_id, payment.invoice_id or "")
            subscription_id = invoice.subscription_id if invoice else payment.preview.subscription_id
            subscription = uow.subscriptions.get(payment.account_id, subscription_id)
            assert subscription is not None
            return Outcome(Result.APPLIED, subscription, payment.preview, invoice)
        subscription = uow.subscriptions.get(payment.account_id, payment.preview.subscription_id)
        assert subscription is not None
        return Outcome(Result.PAYMENT_PENDING, subscription, payment.preview)


def reconcile(deps: Dependencies, *, pending_grace: float = 600.0) -> Reconciled:
    """Settles payments whose answer was lost (UNKNOWN), and those left PENDING for longer
    than `pending_grace` seconds (their process died between storing and settling), by asking
    the gateway by key (S20). A gateway that does not answer leaves them for the next run."""
    now = now_of(deps)
    with deps.uow() as uow:
        candidates = [p for p in uow.payments.unsettled(now)
                      if p.status is PaymentStatus.UNKNOWN
                      or (now - p.created_at).total_seconds() >= pending_grace]
    return reconcile_by_key(deps.payments, candidates, lambda payment_id, result: settle(deps, payment_id, result))


# --- scheduled changes, cancellation, reactivation --------------------------------------------


def undo_scheduled_change(deps: Dependencies, account_id: str, subscription_id: str) -> Outcome:
    with deps.uow() as uow:
        subscription = _subscription(uow, account_id, subscription_id, for_update=True)
        if subscription.scheduled_change is None:
            return Outcome(Result.UNCHANGED, subscription)
        updated = replace(subscription, scheduled_change=None)
        uow.subscriptions.update(updated)
        uow.commit()
    return Outcome(Result.APPLIED, updated)


def cancel(deps: Dependencies, account_id: str, subscription_id: str, reason: str = "") -> Outcome:
    """Cancels at the end of the current period (status pending cancellation); nothing is
    refunded. A scheduled change is dropped. Cancelling again only updates the reason."""
    if not isinstance(reason, str) or len(reason.strip()) > MAX_NOTE or has_disallowed_characters(reason):
        raise InvalidArgument(f"reason must be text of at most {MAX_NOTE} characters", field="reason")
    now = now_of(deps)
    with deps.uow() as uow:
        subscription = _subscription(uow, account_id, subscription_id, for_update=True)
        if subscription.has_lapsed(now):
            raise FailedPrecondition("This subscription has already ended.")
        if subscription.status is SubscriptionStatus.PAST_DUE:
            raise FailedPrecondition("This subscription is past due; it is canceled by itself if the renewal "
                                     "cannot be paid.")
        _refuse_in_flight(uow, subscription.id)
        updated = replace(subscription, cancel_at_period_end=True, cancel_reason=reason.strip(),
                          scheduled_change=None)
        uow.subscriptions.update(updated)
        uow.commit()
    return Outcome(Result.APPLIED, updated)


def undo_cancellation(deps: Dependencies, account_id: str, subscription_id: str) -> Outcome:
    """Takes a cancellation back before the period ends: nothing is charged."""
    now = now_of(deps)
    with deps.uow() as uow:
        subscription = _subscription(uow, account_id, subscription_id, for_update=True)
        if subscription.has_lapsed(now):
            raise FailedPrecondition("This subscription has ended; reactivate it instead.")
        if not subscription.cancel_at_period_end:
            return Outcome(Result.UNCHANGED, subscription)
        updated = replace(subscription, cancel_at_period_end=False, cancel_reason="")
        uow.subscriptions.update(updated)
        uow.commit()
    return Outcome(Result.APPLIED, updated)


def reactivate(deps: Dependencies, account_id: str, subscription_id: str, idempotency_key: str,
               plan_code: str = "", seats: int = 0, interval: BillingInterval | None = None) -> Outcome:
    """Before the end of a cancelled period: the cancellation undone, nothing charged. After it
    lapsed: a new subscription from now (on what it had, or the selection given), its first
    period charged at once with an invoice, as idempotent as a change (S19)."""
    check_idempotency_key(idempotency_key)
    target = _selection(plan_code, seats, interval) if plan_code else None
    now = now_of(deps)
    with deps.uow() as uow:
        subscription = _subscription(uow, account_id, subscription_id, for_update=True)
        payment = uow.payments.by_key(account_id, idempotency_key)
        if payment is None:
            if not subscription.has_lapsed(now):
                if not subscription.cancel_at_period_end:
                    raise FailedPrecondition("This subscription is active.")
                # still in its period: an undo of the cancellation (below, its own transaction)
            else:
                live = [s for s in uow.subscriptions.for_account(account_id) if not s.has_lapsed(now)]
                if live:
                    raise FailedPrecondition("This account already has an active subscription.")
                _refuse_in_flight(uow, subscription.id)
                change = preview_reactivation(subscription, target, uow.plans.catalogue(), now)
                fingerprint = _fingerprint(ChargePurpose.REACTIVATION, subscription.id, change.target)
                payment = _new_payment(uow, account_id, idempotency_key, fingerprint, change, now)
                uow.payments.add(payment)
                uow.commit()
        elif target is not None and payment.fingerprint != _fingerprint(
                ChargePurpose.REACTIVATION, subscription.id, target):
            raise IdempotencyKeyReused()
    if payment is None:
        return undo_cancellation(deps, account_id, subscription_id)
    return _charge_and_settle(deps, payment)
