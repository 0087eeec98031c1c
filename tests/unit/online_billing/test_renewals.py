"""The billing run's rules over in-memory fakes, the sandbox gateway and a fake clock: renewal
with scheduled changes, cancellation at the period's end, dunning on days 1, 3 and 5 then
cancellation, the retry on a new card, the lost answer and the reconciler."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from billing_common.billing_contacts import BillingContact, ContactsUnavailable, FakeBillingContacts
from billing_common.clock import FakeClock
from billing_common.invoicing.profile import BillingProfile
from billing_common.money import Money
from billing_common.payments.gateway import CardDetails, ChargeStatus, PaymentDeclined
from billing_common.payments.sandbox import InMemoryChargeStore, SandboxGateway, SandboxTokenizer
from services.online_billing.adapters.memory import InMemoryUnitOfWork
from services.online_billing.domain.billing import InvoiceKind, InvoiceStatus, PaymentStatus
from services.online_billing.domain.model import BillingInterval, Selection, SubscriptionStatus
from services.online_billing.domain.renewals import DunningSchedule
from services.online_billing.service_layer import accounts, mails, renewals, subscriptions
from services.online_billing.service_layer.dependencies import Dependencies
from tests.unit.online_billing.factories import subscription

SECRET = "unit-test-online-billing-renewals"
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
OK, DECLINES_LATER, LOSES_ANSWER = "4242424242424242", "4000000000000341", "4000000000000408"


def _card(number: str) -> str:
    return SandboxTokenizer(SECRET).tokenize(CardDetails(number, 12, 2030, "123", "Olivia")).token


class World:
    def __init__(self, number: str | None = OK, *, recipients: tuple[str, ...] = ("ap@example.com",),
                 schedule: DunningSchedule | None = None, account: str = "acct-a", **kwargs: object) -> None:
        self.clock = FakeClock((START + 10 * DAY).timestamp())
        self.store = InMemoryChargeStore()
        self.gateway = SandboxGateway(SECRET, self.store)
        self.sub = subscription(account, start=START, **kwargs)  # type: ignore[arg-type]
        self.uow = InMemoryUnitOfWork([self.sub], catalogue=True)
        self.contacts = FakeBillingContacts()
        self.deps = Dependencies(uow=lambda: self.uow, clock=self.clock, gateway=self.gateway,
                                 dunning=schedule or DunningSchedule(), contacts=self.contacts)
        self.uow.data.profiles[account] = BillingProfile(
            company_name="Acme", address_line1="1 Main St", city="Springfield", country="US",
            invoice_emails=recipients)
        if number:
            accounts.add_payment_method(self.deps, account, _card(number))

    def run(self, as_of: dt.datetime, **kwargs: int) -> renewals.RunSummary:
        return renewals.billing_run(self.deps, as_of, reconcile=lambda d: subscriptions.reconcile(d).settled,
                                    **kwargs)

    @property
    def current(self):  # type: ignore[no-untyped-def]
        return next(s for s in self.uow.data.subscriptions if s.id == self.sub.id)

    @property
    def invoices(self):  # type: ignore[no-untyped-def]
        return sorted(self.uow.data.invoices.values(), key=lambda i: i.number)

    @property
    def mails(self):  # type: ignore[no-untyped-def]
        """The mails as the outbox sends them: deferred ones addressed by the expander."""
        expand = mails.expander(self.deps)
        return [out for m in self.uow.data.mails for out in (expand([m.deferred])[0] if m.deferred else [m])]


def test_a_subscription_whose_period_ended_renews_with_a_paid_invoice_for_the_next_period_and_a_receipt() -> None:
    w = World()
    summary = w.run(END)
    assert (summary.renewed, summary.failed, summary.unknown) == (1, 0, 0)
    s = w.current
    assert (s.status, s.current_period_start, s.current_period_end) == (
        SubscriptionStatus.ACTIVE, END, dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    (invoice,) = w.invoices
    assert (invoice.kind, invoice.status, invoice.total) == (InvoiceKind.RENEWAL, InvoiceStatus.PAID,
                                                             Money(16_000, "USD"))
    assert invoice.lines[0].period_start == END and invoice.number.startswith("BC-2026-")
    assert [m.to for m in w.mails] == [("ap@example.com",)] and "Receipt" in w.mails[0].subject


def test_a_subscription_not_due_yet_is_left_alone() -> None:
    w = World()
    assert w.run(END - dt.timedelta(seconds=1)).processed == 0
    assert w.current == w.sub and not w.invoices


def test_running_the_same_date_again_changes_nothing() -> None:
    w = World()
    w.run(END)
    before = (w.current, w.invoices, list(w.uow.data.payments.values()), len(w.store.records))
    assert w.run(END).processed == 0
    assert (w.current, w.invoices, list(w.uow.data.payments.values()), len(w.store.records)) == before


def test_a_date_several_periods_later_renews_each_period_in_turn() -> None:
    w = World()
    assert w.run(END + 40 * DAY).renewed == 2  # December, then January
    assert w.current.current_period_end == dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
    assert [i.lines[0].period_start for i in w.invoices] == [END, dt.datetime(2027, 1, 1, tzinfo=dt.UTC)]


@pytest.mark.parametrize(("scheduled", "amount"), [
    (Selection("business", 4, BillingInterval.MONTHLY), 6_400),  # fewer seats
    (Selection("starter", 10, BillingInterval.MONTHLY), 6_000),  # a lower plan
])
def test_a_scheduled_change_takes_effect_at_the_renewal_and_is_what_it_charges(scheduled: Selection,
                                                                               amount: int) -> None:
    w = World()
    subscriptions.apply_change(w.deps, "acct-a", w.sub.id, scheduled.plan_code, scheduled.seats,
                               scheduled.interval, "key-1")
    assert w.current.scheduled_change == scheduled
    w.run(END)
    s = w.current
    assert (s.selection, s.scheduled_change, s.unit_price.amount_minor * s.seats) == (scheduled, None, amount)
    assert w.invoices[0].total == Money(amount, "USD")


def test_annual_to_monthly_takes_effect_at_the_end_of_the_annual_period() -> None:
    w = World(interval=BillingInterval.ANNUAL)
    subscriptions.apply_change(w.deps, "acct-a", w.sub.id, "business", 10, BillingInterval.MONTHLY, "key-1")
    year_end = dt.datetime(2027, 11, 1, tzinfo=dt.UTC)
    assert w.run(year_end - DAY).processed == 0
    w.run(year_end)
    s = w.current
    assert (s.interval, s.current_period_start, s.current_period_end) == (
        BillingInterval.MONTHLY, year_end, dt.datetime(2027, 12, 1, tzinfo=dt.UTC))
    assert w.invoices[0].total == Money(16_000, "USD")


def test_a_subscription_set_to_cancel_is_canceled_at_the_period_end_and_charged_nothing() -> None:
    w = World()
    subscriptions.cancel(w.deps, "acct-a", w.sub.id, "too expensive")
    summary = w.run(END)
    assert (summary.canceled, summary.renewed) == (1, 0)
    assert (w.current.status, w.current.canceled_at) == (SubscriptionStatus.CANCELED, END)
    assert not w.invoices and not w.store.records


def test_a_declined_renewal_is_retried_on_days_1_3_and_5_then_the_subscription_is_canceled() -> None:
    w = World(DECLINES_LATER)
    assert w.run(END).failed == 1
    s = w.current
    assert s.status is SubscriptionStatus.PAST_DUE and s.dunning is not None
    assert (s.dunning.next_retry_at, s.dunning.decline_code) == (END + DAY, "card_declined")
    (invoice,) = w.invoices
    assert invoice.status is InvoiceStatus.OPEN
    assert w.run(END + DAY - dt.timedelta(seconds=1)).processed == 0  # not before day 1
    for day, next_retry in ((1, 3), (3, 5)):
        summary = w.run(END + day * DAY)
        assert (summary.retried, summary.failed) == (1, 1)
        assert w.current.dunning.next_retry_at == END + next_retry * DAY  # type: ignore[union-attr]
    summary = w.run(END + 5 * DAY)
    assert (summary.retried, summary.failed, summary.canceled) == (1, 1, 1)
    assert (w.current.status, w.current.dunning) == (SubscriptionStatus.CANCELED, None)
    (invoice,) = w.invoices  # every retry charged the same invoice; no new one
    assert invoice.status is InvoiceStatus.VOID
    attempts = sorted(w.uow.data.payments.values(), key=lambda p: p.created_at)
    assert [p.status for p in attempts] == [PaymentStatus.DECLINED] * 4
    assert {p.invoice_id for p in attempts} == {invoice.id}
    subjects = [m.subject for m in w.mails]
    assert subjects[:4] == [f"Payment failed for invoice {invoice.number}"] * 3 + ["Your subscription was canceled"]
    assert "reactivate" in w.mails[-1].body
    assert w.run(END + 30 * DAY).processed == 0


def test_the_dunning_schedule_is_configurable() -> None:
    w = World(DECLINES_LATER, schedule=DunningSchedule((2,)))
    w.run(END)
    assert w.current.dunning.next_retry_at == END + 2 * DAY  # type: ignore[union-attr]
    assert w.run(END + DAY).processed == 0
    assert w.run(END + 2 * DAY).canceled == 1


def test_a_new_default_card_while_past_due_is_charged_at_once_for_the_same_invoice() -> None:
    w = World(DECLINES_LATER)
    w.run(END)
    (invoice,) = w.invoices
    w.clock.t = (END + dt.timedelta(hours=2)).timestamp()
    accounts.add_payment_method(w.deps, "acct-a", _card(OK), make_default=True)
    s = w.current
    assert (s.status, s.dunning, s.current_period_start) == (SubscriptionStatus.ACTIVE, None, END)
    (paid,) = w.invoices
    assert (paid.id, paid.status) == (invoice.id, InvoiceStatus.PAID)
    assert w.run(END + 5 * DAY).processed == 0  # no retry left to make


def test_a_new_card_that_is_declined_too_leaves_the_dunning_schedule_as_it_was() -> None:
    w = World(DECLINES_LATER)
    w.run(END)
    w.clock.t = (END + dt.timedelta(hours=2)).timestamp()
    accounts.add_payment_method(w.deps, "acct-a", _card("4000000000000341"), make_default=True)
    s = w.current
    assert s.status is SubscriptionStatus.PAST_DUE
    assert (s.dunning.retries, s.dunning.next_retry_at) == (0, END + DAY)  # type: ignore[union-attr]
    assert len(w.uow.data.payments) == 2


def test_making_an_existing_card_the_default_while_past_due_retries_at_once() -> None:
    w = World(DECLINES_LATER)
    good = accounts.add_payment_method(w.deps, "acct-a", _card(OK))  # not the default
    w.run(END)
    assert w.current.status is SubscriptionStatus.PAST_DUE
    accounts.set_default_payment_method(w.deps, "acct-a", good.id)
    assert w.current.status is SubscriptionStatus.ACTIVE


def test_a_renewal_without_a_card_makes_the_subscription_past_due() -> None:
    w = World(None)
    summary = w.run(END)
    assert summary.failed == 1
    assert w.current.dunning.decline_code == "no_payment_method"  # type: ignore[union-attr]
    assert "no card on file" in w.mails[0].body


def test_a_lost_answer_stays_unknown_until_the_reconciler_settles_it_and_is_charged_once() -> None:
    w = World(LOSES_ANSWER)
    summary = w.run(END)
    assert (summary.unknown, summary.renewed, summary.failed) == (1, 0, 0)
    assert w.current.status is SubscriptionStatus.ACTIVE and w.current.renewal_payment_id is not None
    assert w.current.current_period_end == END  # not renewed, not past due: unknown
    (payment,) = w.uow.data.payments.values()
    assert payment.status is PaymentStatus.UNKNOWN
    with pytest.raises(Exception, match="still being confirmed"):  # no change while it is unknown
        subscriptions.apply_change(w.deps, "acct-a", w.sub.id, "business", 20, BillingInterval.MONTHLY, "k")
    summary = w.run(END)  # the next run reconciles first
    assert (summary.reconciled, summary.renewed) == (1, 0)
    assert w.current.current_period_end == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert w.invoices[0].status is InvoiceStatus.PAID
    assert len([r for r in w.store.records.values() if r.status is ChargeStatus.SUCCEEDED]) == 1


def test_two_workers_renew_every_subscription_once_with_gapless_numbers() -> None:
    w = World()
    for n in range(30):
        extra = subscription(f"acct-{n}", start=START)
        w.uow.data.subscriptions.append(extra)
    for n in range(30):
        accounts.add_payment_method(w.deps, f"acct-{n}", _card(OK))
    summary = w.run(END, workers=2, batch_size=7, concurrency=4)
    assert summary.renewed == 31
    numbers = sorted(int(i.number.rsplit("-", 1)[1]) for i in w.invoices)
    assert numbers == list(range(1, 32))


def test_a_subscription_canceled_by_dunning_can_be_reactivated_and_is_charged_at_once() -> None:
    w = World(DECLINES_LATER)
    for day in (0, 1, 3, 5):
        w.run(END + day * DAY)
    assert w.current.status is SubscriptionStatus.CANCELED
    w.clock.t = (END + 6 * DAY).timestamp()
    accounts.add_payment_method(w.deps, "acct-a", _card(OK), make_default=True)
    outcome = subscriptions.reactivate(w.deps, "acct-a", w.sub.id, "reactivate-1")
    assert outcome.result is subscriptions.Result.APPLIED
    assert outcome.subscription.status is SubscriptionStatus.ACTIVE and outcome.subscription.id != w.sub.id


def test_a_subscription_with_another_charge_under_way_is_skipped_by_the_run_and_left_due() -> None:
    w = World()
    w.run(END)
    # A payment of the subscription not settled yet (a change being charged): the run leaves
    # the subscription alone until it is settled, and looks at it once per worker.
    paid = next(iter(w.uow.data.payments.values()))
    w.uow.data.payments[paid.id] = replace(paid, status=PaymentStatus.PENDING)
    summary = renewals.billing_run(w.deps, dt.datetime(2027, 1, 1, tzinfo=dt.UTC), workers=2)
    assert (summary.skipped, summary.renewed) == (2, 0)
    assert w.current.current_period_end == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("days", [(), (3, 1), (1, 1), (-1, 2)])
def test_a_dunning_schedule_must_be_increasing_days(days: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="retry days"):
        DunningSchedule(days)


# A UUID with a Luhn-valid run of 16 digits across its dashes: the gateway refuses it in metadata.
CARD_LIKE_UUID = "78587589-1120-4148-9e26-b0d35fc2a142"


def test_a_payment_id_that_reads_like_a_card_number_is_never_sent_to_the_gateway(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    from billing_common.payments import cards

    assert cards.card_numbers_in(CARD_LIKE_UUID)
    real, drawn = uuid.uuid4, iter([uuid.UUID(CARD_LIKE_UUID)] * 2)  # the invoice id, then the payment id
    w = World()
    monkeypatch.setattr(cards.uuid, "uuid4", lambda: next(drawn, None) or real())
    summary = w.run(END)
    assert (summary.renewed, summary.unknown) == (1, 0)
    assert all(not cards.card_numbers_in(p.id) for p in w.uow.data.payments.values())


def test_a_change_whose_payment_id_would_read_like_a_card_number_is_charged_all_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    from billing_common.payments import cards

    real, drawn = uuid.uuid4, iter([uuid.UUID(CARD_LIKE_UUID)])
    w = World()
    monkeypatch.setattr(cards.uuid, "uuid4", lambda: next(drawn, None) or real())
    outcome = subscriptions.apply_change(w.deps, "acct-a", w.sub.id, "business", 12, BillingInterval.MONTHLY, "k-1")
    assert outcome.result is subscriptions.Result.APPLIED


def test_an_account_id_that_reads_like_a_card_number_does_not_stop_its_renewal() -> None:
    w = World(account="acct-7858758911204148")  # identity's id, not ours to choose
    summary = w.run(END)
    assert (summary.renewed, summary.unknown) == (1, 0)


def test_a_change_of_an_account_whose_id_reads_like_a_card_number_is_charged() -> None:
    w = World(account="acct-7858758911204148")
    outcome = subscriptions.apply_change(w.deps, "acct-7858758911204148", w.sub.id, "business", 12,
                                         BillingInterval.MONTHLY, "k-1")
    assert outcome.result is subscriptions.Result.APPLIED


def _claim_and_die(w: World, *, charged: bool) -> None:
    """A worker that wrote its batch (and maybe charged it) and died before settling it."""
    with w.uow:
        claimed = w.uow.subscriptions.claim_due(END, 10)
        started = renewals._start(w.deps, w.uow, claimed, END, renewals.RunSummary())
        w.uow.commit()
    if charged:
        for p in started.payments:
            renewals._charge(w.deps, p)


@pytest.mark.parametrize("charged", [False, True], ids=["before-the-charge", "after-the-charge"])
def test_a_batch_left_by_a_worker_that_died_is_settled_by_a_later_run_and_charged_once(charged: bool) -> None:
    w = World()
    _claim_and_die(w, charged=charged)
    assert w.run(END).processed == 0  # claimed and pending: not settled before the grace period
    w.clock.t = (END + dt.timedelta(minutes=11)).timestamp()
    summary = w.run(END + dt.timedelta(minutes=11))
    assert summary.reconciled == 1
    assert w.current.current_period_start == END and w.current.renewal_payment_id is None
    assert len([r for r in w.store.records.values() if r.status is ChargeStatus.SUCCEEDED]) == 1
    (invoice,) = w.invoices
    assert invoice.status is InvoiceStatus.PAID


# --- whom the mails go to, in which language --------------------------------------------------


def test_the_receipt_goes_to_each_billing_contact_in_their_language_and_the_invoice_recipients_in_the_accounts(
        ) -> None:
    w = World(recipients=("ap@example.com", "Ana@Example.com"))
    w.contacts.add("acct-a", BillingContact("u1", "Ana Souza", "ana@example.com", "pt-BR"),
                   BillingContact("u2", "Bob", "bob@example.com", "en"), locale="pt-BR")
    w.run(END)
    (invoice,) = w.invoices
    assert w.contacts.calls == [["acct-a"]]  # one call for the batch
    assert not any(m.deferred for m in w.uow.data.mails)  # addressed in the batch's transaction
    english, portuguese = w.mails
    assert english.to == ("bob@example.com",)
    assert english.subject == f"Receipt for invoice {invoice.number}"
    assert "$160.00" in english.body and "December 1, 2026 to January 1, 2027" in english.body
    # Ana is a contact and an invoice recipient: one mail, in her language; AP gets the account's.
    assert portuguese.to == ("ana@example.com", "ap@example.com")
    assert portuguese.subject == f"Recibo da fatura {invoice.number}"
    assert "US$\xa0160,00" in portuguese.body and "1 de dezembro de 2026 a 1 de janeiro de 2027" in portuguese.body
    assert (english.attachment, portuguese.attachment) == (
        f"invoice:en:acct-a:{invoice.id}", f"invoice:pt-BR:acct-a:{invoice.id}")


def test_a_batch_asks_identity_once_for_all_its_accounts() -> None:
    w = World()
    for n in range(3):
        other = subscription(f"acct-{n}", start=START)
        w.uow.data.subscriptions.append(other)
        accounts.add_payment_method(w.deps, f"acct-{n}", _card(OK))
    assert w.run(END).renewed == 4
    assert w.contacts.calls == [["acct-0", "acct-1", "acct-2", "acct-a"]]


def test_with_identity_down_the_mails_wait_deferred_and_are_addressed_when_it_answers_again() -> None:
    w = World(DECLINES_LATER, recipients=())
    w.contacts.add("acct-a", BillingContact("u1", "Ana Souza", "ana@example.com", "pt-BR"), locale="pt-BR")
    w.contacts.down = True
    w.run(END)
    (written,) = w.uow.data.mails
    assert written.to == () and written.deferred  # not lost: kept for the outbox to address
    with pytest.raises(ContactsUnavailable):  # the outbox's attempt fails and is retried later
        mails.expander(w.deps)([written.deferred])
    w.contacts.down = False
    (mail,) = w.mails
    (invoice,) = w.invoices
    assert mail.to == ("ana@example.com",)
    assert mail.subject == f"Falha no pagamento da fatura {invoice.number}"
    assert "Seu cartão foi recusado." in mail.body and "2 de dezembro de 2026" in mail.body
    assert "http://127.0.0.1:8080/payment-methods" in mail.body and mail.attachment is None


def test_an_account_with_no_contact_and_no_invoice_recipient_gets_no_mail() -> None:
    w = World(recipients=())
    w.run(END)
    assert w.mails == []


def test_an_upgrade_in_the_billing_center_mails_its_receipt_with_the_invoice_attached() -> None:
    w = World(recipients=())
    w.contacts.add("acct-a", BillingContact("u1", "Ana Souza", "ana@example.com", "pt-BR"), locale="pt-BR")
    outcome = subscriptions.apply_change(w.deps, "acct-a", w.sub.id, "business", 12, BillingInterval.MONTHLY, "k-1")
    assert outcome.invoice is not None
    assert w.contacts.calls == []  # the request does not wait for identity: addressed when sent
    (mail,) = w.mails
    assert (mail.to, mail.subject) == (("ana@example.com",), f"Recibo da fatura {outcome.invoice.number}")
    assert mail.body.startswith("Obrigado: a alteração que você fez na sua assinatura no Centro de Cobrança")
    assert mail.attachment == f"invoice:pt-BR:acct-a:{outcome.invoice.id}"


def test_a_reactivation_mails_its_receipt_and_a_declined_upgrade_mails_nothing() -> None:
    w = World(DECLINES_LATER, recipients=("ap@example.com",))
    with pytest.raises(PaymentDeclined):
        subscriptions.apply_change(w.deps, "acct-a", w.sub.id, "business", 20, BillingInterval.MONTHLY, "k")
    assert w.mails == []
    for day in (0, 1, 3, 5):
        w.run(END + day * DAY)
    w.clock.t = (END + 6 * DAY).timestamp()
    accounts.add_payment_method(w.deps, "acct-a", _card(OK), make_default=True)
    before = len(w.mails)
    outcome = subscriptions.reactivate(w.deps, "acct-a", w.sub.id, "reactivate-1")
    assert outcome.invoice is not None
    (receipt,) = w.mails[before:]
    assert (receipt.to, receipt.subject) == (("ap@example.com",), f"Receipt for invoice {outcome.invoice.number}")
    assert receipt.body.startswith("Thank you: your subscription was reactivated")


def test_a_renewal_whose_answer_was_lost_shows_its_invoice_and_subscription_as_payment_pending_until_reconciled(
        ) -> None:
    w = World(LOSES_ANSWER)
    assert w.run(END).unknown == 1
    (invoice,) = w.invoices
    assert accounts.get_invoice_details(w.deps, "acct-a", invoice.id) == (invoice, True)
    page = accounts.list_invoices(w.deps, "acct-a", 10, "")
    assert page.payment_pending and page.pending_invoice_ids == {invoice.id}
    assert subscriptions.get_subscription(w.deps, "acct-a").payment_pending
    assert w.run(END).reconciled == 1  # the next run reconciles first (its test clock is on END)
    (settled,) = w.invoices
    assert accounts.get_invoice_details(w.deps, "acct-a", invoice.id) == (settled, False)
    assert not accounts.list_invoices(w.deps, "acct-a", 10, "").payment_pending
    assert not subscriptions.get_subscription(w.deps, "acct-a").payment_pending
