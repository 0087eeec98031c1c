"""The billing run: renewals and dunning in set-based batches (domain.renewals has the rules).

A batch, never one transaction per subscription:
1. one transaction claims up to `batch_size` due subscriptions (`claim_due`: SELECT ... FOR
   UPDATE SKIP LOCKED on PostgreSQL, so several workers and replicas share a run; SQLite's
   single writer serialises the claims), and for each writes what it is about to charge: the
   renewal invoice (open, its gapless number taken here, so a rollback takes the number back;
   the batch's block of numbers in one step, as the last statements before the commit, so
   another worker waits at the counter row only for the invoices' insert) with its line, and
   a PENDING payment whose idempotency key is derived from (subscription, period) (S19), and
   marks the subscription as having a renewal under way; then commits;
2. the gateway is called for each payment outside any transaction, at most `concurrency` at a
   time (a gateway that takes 200 ms per call does not make the run serial);
3. one transaction settles the batch: paid -> the next period (a scheduled change applied),
   invoice paid, receipt mailed; declined -> past due with the dunning schedule (or canceled
   after the last retry, the invoice voided), the contact mailed; lost answer -> the payment
   stays UNKNOWN and the subscription stays claimed until the reconciler settles it (S20).
A worker keeps two batches going: it writes the next batch while the last one's charges are
under way, then settles that one (`_work`). Rows go to PostgreSQL as arrays, one statement per
table whatever the batch's size (billing_common.bulk).
Running the same date again finds nothing due: every subscription it renewed has a new period,
every failed one is past due with its next retry in the future, and a lost answer is claimed.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields, replace

import structlog

from billing_common.billing_contacts import AccountContacts
from billing_common.clock import Clock, utc
from billing_common.errors import DomainError
from billing_common.invoicing.numbering import yearly_series
from billing_common.payments import messages
from billing_common.payments.cards import scan_clean_uuid
from billing_common.payments.flow import charge_by_key, charge_metadata
from billing_common.payments.gateway import ChargeResult
from services.online_billing.domain.billing import (
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Preview,
)
from services.online_billing.domain.changes import to_second
from services.online_billing.domain.model import Subscription, SubscriptionStatus
from services.online_billing.domain.renewals import (
    NO_PAYMENT_METHOD,
    canceled_at_period_end,
    declined,
    renewal_key,
    renewal_preview,
    renewed,
)
from services.online_billing.service_layer import mails
from services.online_billing.service_layer.dependencies import Dependencies
from services.online_billing.service_layer.mails import BillingMail
from services.online_billing.service_layer.ports import UnitOfWork

log = structlog.get_logger()

# The suffix of a retry's idempotency key made because a new default card was given.
_CARD_RETRY = ":card-"


@dataclass
class RunSummary:
    """What a billing run (or one batch of it) did."""

    renewed: int = 0  # renewals paid (first attempts and retries), a new period started
    failed: int = 0  # charges declined (and renewals without a card to charge)
    retried: int = 0  # retries of past-due invoices attempted
    canceled: int = 0  # subscriptions ended: set to cancel at the period's end, or after dunning
    unknown: int = 0  # charges whose answer was lost: left for the reconciler (S20)
    skipped: int = 0  # due but left alone (a change's payment under way, a plan no longer sold)
    reconciled: int = 0  # lost answers the reconciler settled at the start of the run
    seconds: float = 0.0

    def add(self, other: RunSummary) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def processed(self) -> int:
        return self.renewed + self.failed + self.canceled + self.unknown + self.skipped


class _NotBefore:
    """A clock that reads `start` until the real one passes it."""

    def __init__(self, clock: Clock, start: float) -> None:
        self.clock, self.start = clock, start

    def now(self) -> float:
        return max(self.clock.now(), self.start)


def _now(deps: Dependencies) -> dt.datetime:
    return to_second(utc(deps.clock.now()))


# --- 1. claim and write -----------------------------------------------------------------------


class _Batch:
    """What one transaction of the billing run reads once for all its subscriptions and writes
    at once: a few statements per batch instead of a dozen per subscription."""

    def __init__(self, deps: Dependencies, uow: UnitOfWork, now: dt.datetime, counts: RunSummary,
                 account_ids: Collection[str] = (), contacts: Mapping[str, AccountContacts] | None = None) -> None:
        self.deps, self.uow, self.now, self.counts = deps, uow, now, counts
        self.profiles = uow.billing_profiles.get_many(account_ids) if account_ids else {}
        # The batch's billing contacts, asked once before its transaction; None: the mails are
        # written deferred, addressed when the outbox sends them (mails.write).
        self.contacts = contacts
        self.subscriptions: list[Subscription] = []
        self.new_invoices: list[Invoice] = []
        self.new_payments: list[Payment] = []
        self.changed_payments: list[Payment] = []
        self.invoice_statuses: list[tuple[str, InvoiceStatus, dt.datetime | None]] = []
        self.mails: list[BillingMail] = []
        self.written: list[Payment] = []  # payments flushed, new and changed

    def flush(self) -> None:
        """Writes what was gathered since the last flush."""
        self.uow.invoices.add_many(self.new_invoices)
        self.uow.payments.add_many(self.new_payments)
        self.uow.payments.update_many(self.changed_payments)
        self.uow.invoices.set_status_many(self.invoice_statuses)
        self.uow.subscriptions.update_many(self.subscriptions)
        mails.write(self.deps, self.uow, self.mails, self.contacts, self.now)
        self.written += [*self.new_payments, *self.changed_payments]
        for gathered in (self.new_invoices, self.new_payments, self.changed_payments, self.invoice_statuses,
                         self.subscriptions, self.mails):
            gathered.clear()

    def mail(self, mail: BillingMail) -> None:
        self.mails.append(mail)

    def declined(self, before: Subscription, after: Subscription, invoice: Invoice, code: str) -> None:
        self.subscriptions.append(after)
        values: dict[str, str | int] = {"number": invoice.number, "amount_minor": invoice.total.amount_minor,
                                        "currency": invoice.currency, "code": code}
        if after.status is SubscriptionStatus.CANCELED:
            self.counts.canceled += 1
            self.invoice_statuses.append((invoice.id, InvoiceStatus.VOID, None))
            self.mail(BillingMail(before.account_id, mails.CANCELED_AFTER_DUNNING, values))
            return
        assert after.dunning is not None and after.dunning.next_retry_at is not None
        values["retry_date"] = after.dunning.next_retry_at.date().isoformat()
        self.mail(BillingMail(before.account_id, mails.PAYMENT_FAILED, values))


def _new_payment(account_id: str, key: str, preview: Preview, card: PaymentMethod, invoice_id: str,
                 now: dt.datetime) -> Payment:
    payment_id = scan_clean_uuid()  # it goes to the gateway in the key and the metadata
    return Payment(id=payment_id, account_id=account_id, idempotency_key=key,
                   gateway_key=f"online-billing-{payment_id}", fingerprint=f"renewal:{preview.subscription_id}:{key}",
                   preview=preview, payment_method_id=card.id, token=card.token, status=PaymentStatus.PENDING,
                   created_at=now, invoice_id=invoice_id)


def _key(s: Subscription, card: PaymentMethod | None, card_retry: bool) -> str:
    base = renewal_key(s.id, s.current_period_end)
    if s.status is SubscriptionStatus.ACTIVE:
        return base
    assert s.dunning is not None
    return f"{base}{_CARD_RETRY}{card.id}" if card_retry and card else f"{base}:retry-{s.dunning.retries + 1}"


def _start(deps: Dependencies, uow: UnitOfWork, claimed: list[Subscription], now: dt.datetime,
           counts: RunSummary, *, card_retry: bool = False) -> _Started:
    """Writes what the billing run does to claimed subscriptions (the module's step 1); answers
    the payments to charge and the subscriptions left as they were (still due: skipped)."""
    if not claimed:
        return _Started([], set(), {})
    ids, accounts = [s.id for s in claimed], {s.account_id for s in claimed}
    busy = uow.payments.in_flight_subscriptions(ids)
    cards = uow.payment_methods.defaults(accounts)
    keys = {s.id: _key(s, cards.get(s.account_id), card_retry) for s in claimed}
    earlier = uow.payments.by_keys({(s.account_id, keys[s.id]) for s in claimed})
    open_invoices = uow.invoices.get_many({s.dunning.invoice_id for s in claimed if s.dunning is not None})
    catalogue = uow.plans.catalogue()
    batch = _Batch(deps, uow, now, counts, accounts)
    skipped: set[str] = set()
    to_invoice: list[tuple[Subscription, Preview]] = []
    for s in claimed:
        if s.id in busy:  # a change's charge under way: its settlement comes first
            skipped.add(s.id)
            continue
        if s.status is SubscriptionStatus.ACTIVE and s.cancel_at_period_end:
            batch.subscriptions.append(canceled_at_period_end(s))
            counts.canceled += 1
            continue
        if card_retry and s.account_id not in cards:
            continue
        found = earlier.get((s.account_id, keys[s.id]))
        if found is not None:
            if found.status is not PaymentStatus.FAILED:  # this attempt was made: nothing to do again
                skipped.add(s.id)
                continue
            # The gateway never received it (the reconciler asked): send it again under the
            # same gateway key, which the gateway would answer with its first result if it had.
            reopened = replace(found, status=PaymentStatus.PENDING, settled_at=None)
            batch.changed_payments.append(reopened)
            batch.subscriptions.append(replace(s, renewal_payment_id=reopened.id))
            counts.retried += s.status is SubscriptionStatus.PAST_DUE
            continue
        try:
            to_invoice.append((s, renewal_preview(s, catalogue, now)))
        except DomainError as error:  # a selection the catalogue no longer sells
            log.warning("subscription not renewed", subscription_id=s.id, reason=str(error))
            skipped.add(s.id)
    invoices: dict[str, Invoice] = {}  # what the payments pay, by id: settling reads them from here
    to_number: list[tuple[Subscription, Preview, str]] = []  # new renewal invoices, by id
    no_card: list[tuple[Subscription, str]] = []
    for s, preview in to_invoice:
        if s.status is SubscriptionStatus.ACTIVE:
            invoice_id = scan_clean_uuid()
            to_number.append((s, preview, invoice_id))
        else:  # a retry charges the invoice as it was issued
            assert s.dunning is not None
            invoice = invoices[s.dunning.invoice_id] = open_invoices[s.dunning.invoice_id]
            invoice_id, preview = invoice.id, replace(preview, lines=invoice.lines)
            counts.retried += 1
        card = cards.get(s.account_id)
        if card is None:
            counts.failed += 1
            no_card.append((s, invoice_id))
            continue
        payment = _new_payment(s.account_id, keys[s.id], preview, card, invoice_id, now)
        batch.new_payments.append(payment)
        batch.subscriptions.append(replace(s, renewal_payment_id=payment.id))
    batch.flush()
    # The series' counter row last: it stays locked until this transaction commits, so another
    # worker's batch waits at it only for the invoices' insert and the commit, not the whole batch.
    numbers = iter(uow.invoices.next_numbers(yearly_series(deps.invoice_prefix, now.year), len(to_number)))
    for s, preview, invoice_id in to_number:
        invoice = invoices[invoice_id] = Invoice(
            id=invoice_id, account_id=s.account_id, subscription_id=s.id, number=next(numbers),
            kind=InvoiceKind.RENEWAL, status=InvoiceStatus.OPEN, currency=preview.currency, issued_at=now,
            lines=preview.lines, buyer=batch.profiles.get(s.account_id))
        batch.new_invoices.append(invoice)
    for s, invoice_id in no_card:
        batch.declined(s, declined(s, deps.dunning, invoice_id, now, NO_PAYMENT_METHOD), invoices[invoice_id],
                       NO_PAYMENT_METHOD)
    batch.flush()
    return _Started(batch.written, skipped, invoices)


@dataclass
class _Started:
    """What `_start` wrote: the payments to charge, the subscriptions left due (skipped), and
    the invoices it knows, by id (settling the batch needs not read them again)."""

    payments: list[Payment]
    skipped: set[str]
    invoices: dict[str, Invoice]


# --- 2. charge, outside any transaction ---------------------------------------------------------


def _charge(deps: Dependencies, payment: Payment) -> ChargeResult:
    target = payment.preview.target
    return charge_by_key(deps.payments, payment_id=payment.id, token=payment.token, amount=payment.amount,
                         gateway_key=payment.gateway_key,
                         description=f"renewal: {target.plan_code} x {target.seats} {target.interval.value}",
                         metadata=charge_metadata(payment.id, payment.account_id))


def _charge_all(deps: Dependencies, payments: list[Payment], concurrency: int) -> list[ChargeResult]:
    if len(payments) <= 1 or concurrency <= 1:
        return [_charge(deps, p) for p in payments]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(payments)), thread_name_prefix="renewal-charge") as pool:
        return list(pool.map(lambda p: _charge(deps, p), payments))


# --- 3. settle ----------------------------------------------------------------------------------


def _settle(deps: Dependencies, uow: UnitOfWork, results: dict[str, ChargeResult | None], now: dt.datetime,
            counts: RunSummary, contacts: Mapping[str, AccountContacts] | None = None,
            known: _Started | None = None) -> list[Payment]:
    """Records renewal charges' answers (payment id: answer) in the caller's unit of work: paid,
    declined (dunning), lost (left UNKNOWN), or never received (None: FAILED, and the
    subscription released so the next run sends it again). Payments settled already are left.
    `known`: the batch's payments and invoices as `_start` wrote them, so only the payments'
    statuses are read again (a payment's other columns never change once written)."""
    if known is None:
        payments = [p for p in uow.payments.get_many(list(results), for_update=True) if p.in_flight]
    else:
        statuses = uow.payments.statuses(list(results), for_update=True)
        payments = [replace(p, status=statuses[p.id]) for p in known.payments
                    if statuses.get(p.id) in (PaymentStatus.PENDING, PaymentStatus.UNKNOWN)]
    if not payments:
        return []
    subscriptions = {s.id: s for s in uow.subscriptions.get_many({p.preview.subscription_id for p in payments},
                                                                  for_update=True)}
    invoices = dict(known.invoices) if known is not None else {}
    invoices.update(uow.invoices.get_many({p.invoice_id or "" for p in payments} - invoices.keys()))
    catalogue = uow.plans.catalogue()
    batch = _Batch(deps, uow, now, counts, contacts=contacts)
    for payment in payments:
        result = results[payment.id]
        subscription = subscriptions[payment.preview.subscription_id]
        invoice = invoices[payment.invoice_id or ""]
        if result is None:
            settled = payment.settled(PaymentStatus.FAILED, now, invoice_id=invoice.id)
            batch.subscriptions.append(replace(subscription, renewal_payment_id=None))
        elif result.succeeded:
            settled = payment.settled(PaymentStatus.SUCCEEDED, now, charge_id=result.charge_id, invoice_id=invoice.id)
            batch.invoice_statuses.append((invoice.id, InvoiceStatus.PAID, now))
            batch.subscriptions.append(renewed(subscription, payment.preview, catalogue))
            batch.mail(BillingMail(subscription.account_id, mails.RENEWAL_RECEIPT, {
                "number": invoice.number, "amount_minor": invoice.total.amount_minor, "currency": invoice.currency,
                "period_start": payment.preview.period_start.date().isoformat(),
                "period_end": payment.preview.period_end.date().isoformat()}, invoice_id=invoice.id))
        elif result.declined:
            code = result.decline.code if result.decline else messages.CARD_DECLINED
            settled = payment.settled(PaymentStatus.DECLINED, now, decline_code=code, invoice_id=invoice.id)
            after = declined(subscription, deps.dunning, invoice.id, now, code,
                             extra_attempt=_CARD_RETRY in payment.idempotency_key)
            batch.declined(subscription, after, invoice, code)
        else:
            settled = payment.settled(PaymentStatus.UNKNOWN, now, invoice_id=invoice.id)
        batch.changed_payments.append(settled)
    batch.flush()
    return batch.written


def settle_renewal_in(deps: Dependencies, uow: UnitOfWork, payment: Payment, result: ChargeResult | None,
                      now: dt.datetime) -> Payment:
    """`_settle` of one renewal payment (the reconciler's, through subscriptions.settle)."""
    settled = _settle(deps, uow, {payment.id: result}, now, RunSummary())
    return settled[0] if settled else payment


# --- the run --------------------------------------------------------------------------------------


def _tally(counts: RunSummary, payment: Payment) -> None:
    if payment.status is PaymentStatus.SUCCEEDED:
        counts.renewed += 1
    elif payment.status is PaymentStatus.DECLINED:
        counts.failed += 1
    elif payment.status is PaymentStatus.UNKNOWN:
        counts.unknown += 1


def _charge_and_settle(deps: Dependencies, started: _Started, now: dt.datetime, concurrency: int,
                       counts: RunSummary) -> None:
    _settle_batch(deps, started, _charge_all(deps, started.payments, concurrency), now, counts)


def _settle_batch(deps: Dependencies, started: _Started, results: list[ChargeResult], now: dt.datetime,
                  counts: RunSummary) -> None:
    payments = started.payments
    if not payments:
        return
    # Whom the batch's mails go to: one call to identity, outside any transaction.
    contacts = mails.contacts_of(deps, sorted({p.account_id for p in payments}))
    with deps.uow() as uow:
        settled = _settle(deps, uow, {p.id: r for p, r in zip(payments, results, strict=True)}, now, counts,
                          contacts, started)
        uow.commit()
    for payment in settled:
        _tally(counts, payment)
    log.info("renewal batch settled", payments=len(payments))


@dataclass
class _Claimed:
    """A batch written (step 1), with what its settlement needs."""

    started: _Started
    now: dt.datetime
    counts: RunSummary


def _claim(deps: Dependencies, as_of: dt.datetime, batch_size: int, exclude: set[str]) -> _Claimed | None:
    """Step 1 of a batch; None when nothing was due. Subscriptions left due (skipped) are added
    to `exclude`."""
    now = _now(deps)
    counts = RunSummary()
    with deps.uow() as uow:
        claimed = uow.subscriptions.claim_due(as_of, batch_size, exclude)
        if not claimed:
            return None
        started = _start(deps, uow, claimed, now, counts)
        uow.commit()
    counts.skipped += len(started.skipped)
    exclude.update(started.skipped)  # still due: left out of this worker's later claims
    return _Claimed(started, now, counts)


def renew_batch(deps: Dependencies, as_of: dt.datetime, *, batch_size: int = 200, concurrency: int = 8,
                exclude: set[str] | None = None) -> RunSummary | None:
    """One batch of the billing run as of `as_of` (see the module's docstring); None when
    nothing was due. Subscriptions left due (skipped) are added to `exclude`."""
    batch = _claim(deps, as_of, batch_size, exclude if exclude is not None else set())
    if batch is None:
        return None
    _charge_and_settle(deps, batch.started, batch.now, concurrency, batch.counts)
    return batch.counts


def _work(deps: Dependencies, as_of: dt.datetime, batch_size: int, concurrency: int,
          progress: Callable[[RunSummary], None] | None) -> RunSummary:
    """One worker: batch after batch until nothing is due, two at a time. While a batch's
    charges are under way (at most `concurrency` at once, in this worker's pool), the worker
    writes the next batch, then settles the one before: the gateway is kept busy while the
    database works, instead of waiting for each batch's slowest charge (a 50 ms gateway left
    the bound a sixth idle). No transaction is open across a charge: the charges hold none."""
    mine = RunSummary()
    exclude: set[str] = set()  # the worker's own: a skipped subscription is looked at once per worker
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="renewal-charge") as pool:
        charging: tuple[_Claimed, list[Future[ChargeResult]]] | None = None
        while True:
            try:
                batch = _claim(deps, as_of, batch_size, exclude)
            except Exception:
                if charging is not None:  # settled, not left for the reconciler
                    _settle_charged(deps, *charging)
                raise
            after = None if batch is None else (batch, [pool.submit(_charge, deps, p) for p in batch.started.payments])
            if charging is None and after is None:
                return mine
            if charging is not None:
                # Settling may make a subscription due again (a run catching up on several
                # periods): the next claim comes after it, so nothing due is left behind.
                counts = _settle_charged(deps, *charging)
                mine.add(counts)
                if progress is not None:
                    progress(counts)
            charging = after


def _settle_charged(deps: Dependencies, batch: _Claimed, charges: list[Future[ChargeResult]]) -> RunSummary:
    _settle_batch(deps, batch.started, [c.result() for c in charges], batch.now, batch.counts)
    return batch.counts


def retry_now(deps: Dependencies, account_id: str) -> RunSummary:
    """A new default card of a past-due account is tried at once on the open renewal invoice
    (an extra attempt: the dunning schedule stays as it was if it fails)."""
    now = _now(deps)
    counts = RunSummary()
    with deps.uow() as uow:
        past_due = [s.id for s in uow.subscriptions.for_account(account_id)
                    if s.status is SubscriptionStatus.PAST_DUE and s.renewal_payment_id is None]
    if not past_due:
        return counts
    with deps.uow() as uow:
        claimed = [s for s in uow.subscriptions.get_many(past_due, for_update=True)
                   if s.status is SubscriptionStatus.PAST_DUE and s.renewal_payment_id is None]
        started = _start(deps, uow, claimed, now, counts, card_retry=True)
        uow.commit()
    _charge_and_settle(deps, started, now, 1, counts)
    return counts


def billing_run(deps: Dependencies, as_of: dt.datetime, *, batch_size: int = 200, concurrency: int = 8,
                workers: int = 1, progress: Callable[[RunSummary], None] | None = None,
                reconcile: Callable[[Dependencies], int] | None = None) -> RunSummary:
    """Renews and retries everything due as of `as_of`, batch after batch, in `workers`
    threads claiming batches in parallel, until nothing is due; `reconcile` (settling lost
    answers, S20) runs first. `progress` is called with each batch's counts."""
    started = time.monotonic()
    if as_of.timestamp() > deps.clock.now():
        # A test clock (dev and test only, the CLI checks): the run acts as if it were then, so
        # invoices, failures and the dunning schedule are dated from that day on.
        deps = replace(deps, clock=_NotBefore(deps.clock, as_of.timestamp()))
    total = RunSummary()
    if reconcile is not None:
        total.reconciled = reconcile(deps)

    def work() -> RunSummary:
        return _work(deps, as_of, batch_size, concurrency, progress)

    if workers <= 1:
        total.add(work())
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="billing-run") as pool:
            for done in [pool.submit(work) for _ in range(workers)]:
                total.add(done.result())
    total.seconds = time.monotonic() - started
    log.info("billing run", as_of=as_of.isoformat(), **{f.name: getattr(total, f.name) for f in fields(total)})
    return total
