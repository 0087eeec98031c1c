"""The change rules, the preview and the invoice it becomes, decline, lost answer and
reconcile, cancellation and reactivation, over in-memory fakes and the sandbox gateway."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing_common.clock import FakeClock
from billing_common.errors import FailedPrecondition, InvalidArgument, NotFound
from billing_common.money import Money
from billing_common.payments.gateway import CardDetails, IdempotencyKeyReused, PaymentDeclined
from billing_common.payments.sandbox import InMemoryChargeStore, SandboxGateway, SandboxTokenizer
from services.online_billing.adapters.memory import InMemoryUnitOfWork
from services.online_billing.domain.billing import LineKind, PaymentStatus, Timing
from services.online_billing.domain.catalogue import LAUNCH_PLANS, Catalogue, launch_prices
from services.online_billing.domain.changes import preview_change
from services.online_billing.domain.model import BillingInterval, Selection, SubscriptionStatus
from services.online_billing.service_layer import accounts, subscriptions
from services.online_billing.service_layer.dependencies import Dependencies
from tests.unit.online_billing.factories import subscription

SECRET = "unit-test-online-billing-sandbox"
MONTHLY, ANNUAL = BillingInterval.MONTHLY, BillingInterval.ANNUAL
CATALOGUE = Catalogue.of(LAUNCH_PLANS, launch_prices())
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
MID = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)  # half of November (30 days) left


def _card(number: str = "4242424242424242") -> str:
    return SandboxTokenizer(SECRET).tokenize(CardDetails(number, 12, 2030, "123", "Olivia")).token


class World:
    def __init__(self, number: str = "4242424242424242", **kwargs: object) -> None:
        self.clock = FakeClock(MID.timestamp())
        self.store = InMemoryChargeStore()
        self.gateway = SandboxGateway(SECRET, self.store)
        self.sub = subscription("acct-a", start=START, **kwargs)  # type: ignore[arg-type]
        self.uow = InMemoryUnitOfWork([self.sub], catalogue=True)
        self.deps = Dependencies(uow=lambda: self.uow, clock=self.clock, gateway=self.gateway)
        accounts.add_payment_method(self.deps, "acct-a", _card(number))

    def apply(self, plan: str, seats: int, interval: BillingInterval = MONTHLY, key: str | None = None
              ) -> subscriptions.Outcome:
        return subscriptions.apply_change(self.deps, "acct-a", self.sub.id, plan, seats, interval,
                                          key or str(uuid.uuid4()))

    def current(self):  # type: ignore[no-untyped-def]
        return subscriptions.get_subscription(self.deps, "acct-a").subscription


def test_more_seats_are_charged_now_for_the_rest_of_the_period_with_a_credit_for_the_unused_time() -> None:
    p = preview_change(subscription(start=START), Selection("business", 12, MONTHLY), CATALOGUE, MID)
    assert p.timing is Timing.IMMEDIATE and p.effective_at == MID
    credit, charge = p.lines
    assert (credit.kind, credit.amount) == (LineKind.CREDIT, Money(-8_000, "USD"))  # half of 10 x 16.00
    assert (charge.kind, charge.amount) == (LineKind.PRORATED_CHARGE, Money(9_600, "USD"))  # half of 12 x 16.00
    assert p.amount_due == Money(1_600, "USD")
    assert p.new_recurring_amount == Money(19_200, "USD")
    assert p.next_renewal_at == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_fewer_seats_and_a_lower_plan_are_scheduled_for_the_renewal_and_charge_nothing() -> None:
    for target in (Selection("business", 9, MONTHLY), Selection("starter", 10, MONTHLY)):
        p = preview_change(subscription(start=START), target, CATALOGUE, MID)
        assert p.timing is Timing.SCHEDULED and p.lines == () and p.amount_due == Money(0, "USD")
        assert p.effective_at == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def test_a_mixed_change_that_costs_more_per_period_is_immediate() -> None:
    # a lower plan with many more seats: 30 x 6.00 = 180 > 10 x 16.00 = 160
    p = preview_change(subscription(start=START), Selection("starter", 25, MONTHLY), CATALOGUE, MID)
    assert p.timing is Timing.SCHEDULED  # 25 x 6.00 = 150 < 160
    p = preview_change(subscription(start=START, seats=3), Selection("starter", 9, MONTHLY), CATALOGUE, MID)
    assert p.timing is Timing.IMMEDIATE  # 9 x 6.00 = 54 > 3 x 16.00 = 48


def test_monthly_to_annual_starts_a_new_annual_period_now_with_a_credit_for_the_rest_of_the_month() -> None:
    p = preview_change(subscription(start=START), Selection("business", 10, ANNUAL), CATALOGUE, MID)
    assert p.timing is Timing.IMMEDIATE
    assert (p.period_start, p.period_end) == (MID, dt.datetime(2027, 11, 16, tzinfo=dt.UTC))
    assert [(line.kind, line.amount.amount_minor) for line in p.lines] == [
        (LineKind.CREDIT, -8_000), (LineKind.PERIOD, 160_000)]
    assert p.amount_due == Money(152_000, "USD")


def test_annual_to_monthly_waits_for_the_end_of_the_annual_period() -> None:
    annual = subscription(start=START, interval=ANNUAL, unit_minor=16_000)
    p = preview_change(annual, Selection("enterprise", 20, MONTHLY), CATALOGUE, MID)
    assert p.timing is Timing.SCHEDULED and p.effective_at == annual.current_period_end


@pytest.mark.parametrize(("target", "field"), [
    (Selection("nope", 10, MONTHLY), "plan_code"), (Selection("starter", 26, MONTHLY), "seats"),
    (Selection("enterprise", 4, MONTHLY), "seats")])
def test_a_selection_the_catalogue_does_not_sell_names_the_field(target: Selection, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        preview_change(subscription(start=START), target, CATALOGUE, MID)
    assert caught.value.field == field


@settings(max_examples=300, deadline=None)
@given(
    seconds=st.integers(min_value=0, max_value=30 * 86_400 - 1),
    seats=st.integers(min_value=1, max_value=300), new_seats=st.integers(min_value=1, max_value=300),
    plan=st.sampled_from(["starter", "business", "enterprise"]), currency=st.sampled_from(["USD", "EUR", "BRL"]),
    interval=st.sampled_from([MONTHLY, ANNUAL]),
)
def test_credits_and_charges_add_up_exactly_and_the_lines_sum_to_what_is_charged(  # S21
    seconds: int, seats: int, new_seats: int, plan: str, currency: str, interval: BillingInterval
) -> None:
    sub = subscription(start=START, seats=seats, currency=currency,
                       unit_minor=CATALOGUE.unit_price("business", currency, MONTHLY).amount_minor)
    new_seats = min(max(new_seats, CATALOGUE.plan(plan).min_seats), CATALOGUE.plan(plan).max_seats)
    target = Selection(plan, new_seats, interval)
    if target == sub.selection or CATALOGUE.amount(target, currency).amount_minor > 99_999_999:
        return
    now = START + dt.timedelta(seconds=seconds)
    p = preview_change(sub, target, CATALOGUE, now)
    assert p.amount_due.amount_minor == sum(line.amount.amount_minor for line in p.lines)
    old = CATALOGUE.amount(sub.selection, currency)
    period = int((sub.current_period_end - START).total_seconds())
    if p.timing is Timing.IMMEDIATE:
        assert p.amount_due.amount_minor > 0
        credit = p.lines[0]
        # what was used plus what is credited back is exactly the period's price
        assert old.prorate(seconds, period).amount_minor - credit.amount.amount_minor == old.amount_minor
        if p.lines[1].kind is LineKind.PRORATED_CHARGE:
            new = CATALOGUE.amount(target, currency)
            assert new.prorate(seconds, period) + p.lines[1].amount == new
    else:
        assert p.lines == ()


def test_the_invoice_of_an_applied_upgrade_equals_its_preview_to_the_cent() -> None:
    w = World()
    preview = subscriptions.preview(w.deps, "acct-a", w.sub.id, "enterprise", 12, MONTHLY)
    outcome = w.apply("enterprise", 12)
    assert outcome.result is subscriptions.Result.APPLIED and outcome.invoice is not None
    assert outcome.invoice.lines == preview.lines and outcome.invoice.total == preview.amount_due
    assert outcome.invoice.number == "BC-2026-000001" and outcome.invoice.status.value == "paid"
    assert (outcome.subscription.plan.code, outcome.subscription.seats) == ("enterprise", 12)
    assert w.gateway.calls["charge"] == 1


def test_a_declined_upgrade_changes_nothing_and_says_why() -> None:
    w = World("4000000000000341")  # accepted when added, declined when charged
    with pytest.raises(PaymentDeclined) as caught:
        w.apply("enterprise", 12)
    assert caught.value.reason == "card_declined" and caught.value.message == "Your card was declined."
    assert w.current() == w.sub
    assert accounts.list_invoices(w.deps, "acct-a").invoices == []


def test_a_replay_with_the_same_key_answers_the_first_result_and_charges_once() -> None:  # S19
    w = World()
    first = w.apply("enterprise", 12, key="k-1")
    again = w.apply("enterprise", 12, key="k-1")
    assert again.invoice == first.invoice and w.gateway.calls["charge"] == 1
    with pytest.raises(IdempotencyKeyReused):
        w.apply("enterprise", 13, key="k-1")


def test_a_lost_answer_leaves_the_change_unapplied_until_reconcile_settles_it() -> None:  # S20
    w = World("4000000000000408")
    outcome = w.apply("enterprise", 12, key="lost")
    assert outcome.result is subscriptions.Result.PAYMENT_PENDING and w.current() == w.sub
    with pytest.raises(FailedPrecondition):  # no second change while the first is unsettled
        w.apply("business", 20)
    assert subscriptions.reconcile(w.deps) == subscriptions.Reconciled(settled=1, still_unknown=0)
    assert (w.current().plan.code, w.current().seats) == ("enterprise", 12)
    [invoice] = accounts.list_invoices(w.deps, "acct-a").invoices
    assert invoice.lines == outcome.preview.lines  # type: ignore[union-attr]
    assert w.gateway.calls["charge"] == 1
    assert [p.status for p in w.uow.data.payments.values()] == [PaymentStatus.SUCCEEDED]


def test_a_charge_the_gateway_never_answers_leaves_the_payment_unknown_for_the_reconciler() -> None:  # S20
    w = World()
    answering = w.gateway.charge

    def timing_out(**kwargs: object) -> None:
        answering(**kwargs)  # type: ignore[arg-type]  # the card is charged, the answer is lost
        raise TimeoutError("read timed out")

    w.gateway.charge = timing_out  # type: ignore[method-assign,assignment]
    outcome = w.apply("enterprise", 12, key="timeout")
    assert outcome.result is subscriptions.Result.PAYMENT_PENDING and w.current() == w.sub
    assert [p.status for p in w.uow.data.payments.values()] == [PaymentStatus.UNKNOWN]
    assert subscriptions.reconcile(w.deps) == subscriptions.Reconciled(settled=1, still_unknown=0)
    assert (w.current().plan.code, w.current().seats) == ("enterprise", 12)
    assert w.gateway.calls["charge"] == 1


def test_a_scheduled_downgrade_can_be_undone_until_the_renewal() -> None:
    w = World()
    assert w.apply("starter", 5).result is subscriptions.Result.SCHEDULED
    assert w.current().scheduled_change == Selection("starter", 5, MONTHLY) and w.current().seats == 10
    subscriptions.undo_scheduled_change(w.deps, "acct-a", w.sub.id)
    assert w.current().scheduled_change is None and w.gateway.calls["charge"] == 0


def test_cancel_then_undo_charges_nothing_and_after_the_lapse_reactivation_is_a_new_paid_subscription() -> None:
    w = World()
    cancelled = subscriptions.cancel(w.deps, "acct-a", w.sub.id, "too expensive").subscription
    assert cancelled.display_status(MID).value == "pending_cancellation" and cancelled.cancel_reason == "too expensive"
    assert subscriptions.reactivate(w.deps, "acct-a", w.sub.id, "r-0").result is subscriptions.Result.APPLIED
    assert w.current().cancel_at_period_end is False and w.gateway.calls["charge"] == 0
    subscriptions.cancel(w.deps, "acct-a", w.sub.id)
    w.clock.t = dt.datetime(2026, 12, 3, tzinfo=dt.UTC).timestamp()
    assert w.current().display_status(dt.datetime(2026, 12, 3, tzinfo=dt.UTC)).value == "canceled"
    with pytest.raises(FailedPrecondition):
        subscriptions.undo_cancellation(w.deps, "acct-a", w.sub.id)
    outcome = subscriptions.reactivate(w.deps, "acct-a", w.sub.id, "r-1")
    assert outcome.result is subscriptions.Result.APPLIED and outcome.invoice is not None
    assert outcome.invoice.kind.value == "reactivation" and outcome.invoice.total == Money(16_000, "USD")
    assert outcome.subscription.id != w.sub.id and outcome.subscription.status is SubscriptionStatus.ACTIVE
    assert w.current().id == outcome.subscription.id


def test_another_accounts_subscription_and_cards_are_not_found() -> None:  # S13
    w = World()
    with pytest.raises(NotFound):
        subscriptions.apply_change(w.deps, "acct-b", w.sub.id, "enterprise", 12, MONTHLY, "k")
    [card] = accounts.list_payment_methods(w.deps, "acct-a")
    with pytest.raises(NotFound):
        accounts.remove_payment_method(w.deps, "acct-b", card.id)


def test_the_last_card_of_an_active_subscription_cannot_be_removed() -> None:
    w = World()
    [card] = accounts.list_payment_methods(w.deps, "acct-a")
    with pytest.raises(FailedPrecondition) as caught:
        accounts.remove_payment_method(w.deps, "acct-a", card.id)
    assert caught.value.field == "payment_method_id"
    second = accounts.add_payment_method(w.deps, "acct-a", _card("5555555555554444"))
    assert [m.id for m in accounts.remove_payment_method(w.deps, "acct-a", card.id)] == [second.id]
    assert accounts.list_payment_methods(w.deps, "acct-a")[0].is_default


def test_a_card_declined_when_added_is_not_saved_and_says_why() -> None:
    w = World()
    with pytest.raises(PaymentDeclined) as caught:
        accounts.add_payment_method(w.deps, "acct-a", _card("4000000000009995"))
    assert caught.value.reason == "insufficient_funds"
    assert len(accounts.list_payment_methods(w.deps, "acct-a")) == 1
