"""Paying invoices: the allocation preview, a card payment of one or several invoices (S19,
S20), the reconciler of lost answers, and an offline payment a rep records.

A card payment is made the way online_billing makes its charges (services/online_billing/
service_layer/subscriptions.py), so nothing is charged twice and nothing half-applied:
1. one transaction locks the chosen invoices, computes the allocation and stores a PENDING
   card payment with the caller's idempotency key, the gateway key and the allocation;
2. the gateway is called outside any transaction, with the gateway key;
3. one transaction settles it: on success a receipt and one payment per invoice (a receipt
   mail in the same transaction); on a decline it records the decline; on a lost answer it
   records UNKNOWN and applies nothing until the reconciler (or a retry with the same key,
   which the gateway answers with its first result) settles it.
Twenty identical requests at once: one stores the payment (the unique key (account,
idempotency key) and the invoices' row locks make the others wait and then find it), all
send the same gateway key, the gateway charges once (S19).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import IntegrityError

from billing_common.clock import utc
from billing_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from billing_common.money import Money
from billing_common.payments import messages
from billing_common.payments.cards import card_numbers_in, scan_clean_uuid
from billing_common.payments.flow import Reconciled, charge_by_key, charge_metadata, reconcile_by_key
from billing_common.payments.gateway import (
    MAX_AMOUNT_MINOR,
    ChargeResult,
    IdempotencyKeyReused,
    PaymentDeclined,
    check_idempotency_key,
    check_token,
)
from billing_common.validation import require_id
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus, Payment
from services.enterprise_portal.domain.payments import (
    Allocation,
    Credit,
    PaymentMethod,
    Receipt,
    allocate_payment,
    new_id,
)
from services.enterprise_portal.service_layer import mails
from services.enterprise_portal.service_layer.dependencies import Dependencies
from services.enterprise_portal.service_layer.ports import CardPayment, CardPaymentStatus, UnitOfWork

log = structlog.get_logger()

MAX_INVOICES = 100
MAX_EMAIL = 320


def _now(deps: Dependencies) -> dt.datetime:
    return utc(deps.clock.now())


def _ids(invoice_ids: Sequence[str]) -> list[str]:
    if not invoice_ids:
        raise InvalidArgument("choose at least one invoice to pay", field="invoice_ids")
    if len(invoice_ids) > MAX_INVOICES:
        raise InvalidArgument(f"at most {MAX_INVOICES} invoices in one payment", field="invoice_ids")
    for invoice_id in invoice_ids:
        require_id(invoice_id, "invoice_ids")
    if len(set(invoice_ids)) != len(invoice_ids):
        raise InvalidArgument("an invoice is chosen twice", field="invoice_ids")
    return list(invoice_ids)


def _chosen(uow: UnitOfWork, account_id: str, invoice_ids: Sequence[str], *, lock: bool) -> list[Invoice]:
    found = uow.invoices.get_many(account_id, invoice_ids, for_update=lock)
    if len(found) != len(invoice_ids):
        raise NotFound("no such invoice")  # another account's invoice is not found (S13)
    return found


def _requested(amounts: Mapping[str, int], currency: str) -> dict[str, Money]:
    asked = {}
    for invoice_id, minor in amounts.items():
        if minor <= 0:
            raise InvalidArgument("an amount for an invoice is more than nothing", field="amounts")
        asked[invoice_id] = Money(minor, currency)
    return asked


def _allocate(invoices: list[Invoice], amount_minor: int, amounts: Mapping[str, int], *, offline: bool) -> Allocation:
    currency = invoices[0].currency
    requested = _requested(amounts, currency)
    if amount_minor == 0 and not offline:
        # No amount: the chosen invoices in full, less what is asked for some of them.
        amount_minor = sum(requested[i.id].amount_minor if i.id in requested else i.balance().amount_minor
                           for i in invoices)
    if amount_minor <= 0:
        raise InvalidArgument("a payment is a positive amount", field="amount")
    return allocate_payment(Money(amount_minor, currency), invoices, requested, overpayment_to_credit=offline)


def preview_payment(deps: Dependencies, account_id: str, invoice_ids: Sequence[str], amount_minor: int = 0,
                    amounts: Mapping[str, int] | None = None, *, offline: bool = False) -> Allocation:
    """How a payment of `amount_minor` (0: the chosen invoices' balances) splits over the
    invoices, with the amounts asked per invoice first: what the payer confirms."""
    require_id(account_id, "account_id")
    ids = _ids(invoice_ids)
    with deps.uow() as uow:
        invoices = _chosen(uow, account_id, ids, lock=False)
    return _allocate(invoices, amount_minor, amounts or {}, offline=offline)


@dataclass(frozen=True, slots=True)
class CardOutcome:
    payment: CardPayment
    # The invoices as they are after it (paid or partly paid when it succeeded).
    invoices: tuple[Invoice, ...]

    @property
    def pending(self) -> bool:
        return self.payment.in_flight


def _fingerprint(invoice_ids: Sequence[str], amount_minor: int, amounts: Mapping[str, int]) -> str:
    """The request a key was first used for. Not the token: a form submitted twice may carry
    two tokens of the same card; the first one stored is the one charged."""
    asked = ",".join(f"{k}={v}" for k, v in sorted(amounts.items()))
    return f"{','.join(sorted(invoice_ids))}|{amount_minor}|{asked}"


def pay_by_card(deps: Dependencies, account_id: str, invoice_ids: Sequence[str], token: str, idempotency_key: str,
                *, amount_minor: int = 0, amounts: Mapping[str, int] | None = None, payer_email: str = "",
                payer_user_id: str = "") -> CardOutcome:
    """Charge the card of `token` once for the chosen invoices (see the module's docstring).

    Raises PaymentDeclined (the decline's code) when the card is declined (nothing applied),
    IdempotencyKeyReused for a key used before with another request, NotFound for an invoice
    not of the account, InvalidArgument naming the field, FailedPrecondition when an invoice
    is paid or void, or another card payment of the account is still being confirmed.
    """
    require_id(account_id, "account_id")
    ids = _ids(invoice_ids)
    check_token(token)
    check_idempotency_key(idempotency_key)
    amounts = dict(amounts or {})
    if len(payer_email) > MAX_EMAIL or card_numbers_in(payer_email):
        raise InvalidArgument("payer_email is an email address", field="payer_email")
    fingerprint = _fingerprint(ids, amount_minor, amounts)
    payment = _stored(deps, account_id, ids, token, idempotency_key, fingerprint, amount_minor, amounts,
                      payer_email, payer_user_id)
    if payment.status is CardPaymentStatus.PENDING or payment.status is CardPaymentStatus.UNKNOWN:
        payment = settle(deps, payment.id, _charge(deps, payment))
    if payment.status in (CardPaymentStatus.DECLINED, CardPaymentStatus.FAILED):
        raise PaymentDeclined(payment.decline_code or messages.PROCESSING_ERROR)
    with deps.uow() as uow:
        invoices = uow.invoices.get_many(account_id, [i for i, _ in payment.allocation])
    return CardOutcome(payment, tuple(invoices))


def _stored(deps: Dependencies, account_id: str, ids: list[str], token: str, key: str, fingerprint: str,
            amount_minor: int, amounts: Mapping[str, int], payer_email: str, payer_user_id: str) -> CardPayment:
    for _attempt in range(2):
        try:
            with deps.uow() as uow:
                invoices = _chosen(uow, account_id, ids, lock=True)
                existing = uow.card_payments.by_key(account_id, key)
                if existing is not None:
                    if existing.fingerprint != fingerprint:
                        raise IdempotencyKeyReused()
                    return existing
                in_flight = uow.card_payments.in_flight_for(account_id)
                # On SQLite (no row locks) a parallel twin may have committed since by_key.
                twin = next((p for p in in_flight if p.idempotency_key == key), None)
                if twin is not None:
                    if twin.fingerprint != fingerprint:
                        raise IdempotencyKeyReused()
                    return twin
                if any(set(ids) & {i for i, _ in p.allocation} for p in in_flight):
                    raise FailedPrecondition("A payment of these invoices is still being confirmed; "
                                             "try again shortly.")
                allocation = _allocate(invoices, amount_minor, amounts, offline=False)
                if allocation.amount.amount_minor > MAX_AMOUNT_MINOR:
                    # Refused before anything is stored: the gateway would refuse it, and a
                    # refusal inside the charge call would read as a lost answer.
                    raise InvalidArgument(f"a card payment is at most {MAX_AMOUNT_MINOR} minor units; pay in parts",
                                          field="amount")
                payment_id = scan_clean_uuid()  # it goes to the gateway in the key and the metadata
                payment = CardPayment(
                    id=payment_id, account_id=account_id, idempotency_key=key,
                    gateway_key=f"enterprise-portal-{payment_id}", fingerprint=fingerprint, token=token,
                    amount=allocation.amount,
                    allocation=tuple((p.invoice_id, p.amount.amount_minor) for p in allocation.parts
                                     if p.amount.amount_minor),
                    payer_email=payer_email, payer_user_id=payer_user_id or "-",
                    status=CardPaymentStatus.PENDING, created_at=_now(deps))
                uow.card_payments.add(payment)
                uow.commit()
                return payment
        except IntegrityError:
            # A parallel identical request stored it first (the unique key): read theirs.
            continue
    with deps.uow() as uow:
        existing = uow.card_payments.by_key(account_id, key)
    if existing is None or existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return existing


def _charge(deps: Dependencies, payment: CardPayment) -> ChargeResult:
    return charge_by_key(deps.payments, payment_id=payment.id, token=payment.token, amount=payment.amount,
                         gateway_key=payment.gateway_key, description=f"enterprise invoices: {len(payment.allocation)}",
                         metadata=charge_metadata(payment.id, payment.account_id))


def settle(deps: Dependencies, payment_id: str, result: ChargeResult | None) -> CardPayment:
    """Record the gateway's answer (None: it never received the request) and, on success,
    apply the payment to its invoices with a receipt mailed to the account's billing contacts
    (service_layer.mails), in one transaction. A payment
    settled already (by a parallel request or the reconciler) is left as it is."""
    now = _now(deps)
    with deps.uow() as uow:
        payment = uow.card_payments.get(payment_id, for_update=True)
        if payment is None:
            raise NotFound("no such payment")
        if not payment.in_flight:
            return payment
        if result is None:
            payment = payment.settled(CardPaymentStatus.FAILED, now, decline_code=messages.PROCESSING_ERROR)
        elif result.succeeded:
            receipt = Receipt(id=new_id(), account_id=payment.account_id, amount=payment.amount,
                              method=PaymentMethod.CARD, received_at=now, reference=result.charge_id or payment.id)
            uow.receipts.add(receipt, payment.payer_user_id)
            parts, credit = _apply(uow, receipt, payment.allocation, now)
            payment = payment.settled(CardPaymentStatus.SUCCEEDED, now, charge_id=result.charge_id,
                                      receipt_id=receipt.id)
            mails.write(uow, [mails.receipt(receipt.account_id, receipt.amount, receipt.reference, parts, credit)],
                        now)
        elif result.declined:
            payment = payment.settled(CardPaymentStatus.DECLINED, now,
                                      decline_code=result.decline.code if result.decline else messages.CARD_DECLINED)
        else:
            payment = payment.settled(CardPaymentStatus.UNKNOWN, now)
        uow.card_payments.update(payment)
        uow.commit()
    log.info("card payment settled", payment_id=payment.id, status=payment.status.value)
    return payment


def _apply(uow: UnitOfWork, receipt: Receipt, allocation: Sequence[tuple[str, int]], at: dt.datetime
           ) -> tuple[list[tuple[str, str, Money]], Money]:
    """The receipt's payments on its invoices. What an invoice can no longer take (paid in the
    meantime, e.g. by an offline payment) becomes a credit on the account: the money arrived."""
    invoices = {i.id: i for i in uow.invoices.get_many(receipt.account_id, [i for i, _ in allocation],
                                                       for_update=True)}
    currency = receipt.amount.currency
    parts: list[tuple[str, str, Money]] = []  # (invoice id, its number, paid)
    left = 0
    for invoice_id, minor in allocation:
        invoice = invoices.get(invoice_id)
        can = 0 if invoice is None or invoice.is_void else min(minor, invoice.balance().amount_minor)
        left += minor - can
        if can and invoice is not None:
            payment = Payment(new_id(), invoice.id, Money(can, currency), at, receipt_id=receipt.id)
            paid = invoice.with_payment(payment)
            uow.invoices.add_payments([payment])
            if paid.status is InvoiceStatus.PAID:
                uow.invoices.set_status(invoice.id, InvoiceStatus.PAID)
            parts.append((invoice.id, invoice.number, payment.amount))
    credit = Money(left, currency)
    if left:
        uow.credits.add(Credit(new_id(), receipt.account_id, credit, at, receipt_id=receipt.id))
    return parts, credit


def reconcile(deps: Dependencies, *, pending_grace: float = 600.0) -> Reconciled:
    """Settle card payments whose answer was lost (UNKNOWN), and those left PENDING longer
    than `pending_grace` seconds (their process died), by asking the gateway by key (S20)."""
    now = _now(deps)
    with deps.uow() as uow:
        candidates = [p for p in uow.card_payments.unsettled()
                      if p.status is CardPaymentStatus.UNKNOWN or (now - p.created_at).total_seconds() >= pending_grace]
    return reconcile_by_key(deps.payments, candidates, lambda payment_id, result: settle(deps, payment_id, result))


@dataclass(frozen=True, slots=True)
class OfflineOutcome:
    receipt: Receipt
    allocation: Allocation


def record_offline_payment(deps: Dependencies, account_id: str, invoice_ids: Sequence[str], amount_minor: int,
                           method: str, reference: str, received_on: dt.date | None, *, recorded_by: str,
                           amounts: Mapping[str, int] | None = None) -> OfflineOutcome:
    """A rep records money received by bank transfer, check or ACH with its reference, over
    the invoices it pays; what exceeds their balances becomes a credit on the account. The
    same reference of the same method twice is refused (a double-submitted form)."""
    require_id(account_id, "account_id")
    require_id(recorded_by, "recorded_by")
    ids = _ids(invoice_ids)
    try:
        kind = PaymentMethod(method)
    except ValueError:
        raise InvalidArgument("method is bank_transfer, check or ach", field="method") from None
    if not kind.is_offline:
        raise InvalidArgument("method is bank_transfer, check or ach", field="method")
    if card_numbers_in(reference):
        raise InvalidArgument("a reference must not contain a card number", field="reference")
    now = _now(deps)
    day = received_on or now.date()
    if day > now.date():
        raise InvalidArgument("a payment cannot be received in the future", field="received_on")
    received_at = now if day == now.date() else dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    with deps.uow() as uow:
        invoices = _chosen(uow, account_id, ids, lock=True)
        allocation = _allocate(invoices, amount_minor, amounts or {}, offline=True)
        receipt = Receipt(id=new_id(), account_id=account_id, amount=allocation.amount, method=kind,
                          received_at=received_at, reference=reference.strip())
        if uow.receipts.by_reference(account_id, kind, receipt.reference) is not None:
            raise AlreadyExists(f"a {kind.value} payment with reference {receipt.reference} is already recorded",
                                field="reference")
        uow.receipts.add(receipt, recorded_by)
        parts, credit = _apply(uow, receipt, [(p.invoice_id, p.amount.amount_minor) for p in allocation.parts
                                              if p.amount.amount_minor], received_at)
        if allocation.credit.amount_minor:
                uow.credits.add(Credit(new_id(), account_id, allocation.credit, received_at, receipt_id=receipt.id))
        mails.write(uow, [mails.receipt(account_id, receipt.amount, receipt.reference, parts,
                                        allocation.credit + credit)], now)
        uow.commit()
    return OfflineOutcome(receipt, allocation)
