from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_common.money import Money
from services.online_billing.domain.model import (
    BillingInterval,
    SubscriptionStatus,
    add_months,
    current_subscription,
)
from tests.unit.online_billing.factories import START, subscription


def test_renewal_amount_is_the_plan_price_per_seat_times_the_seats() -> None:
    assert subscription(seats=10, unit_minor=1600).renewal_amount() == Money(16_000, "USD")


def test_renewal_amount_keeps_the_subscription_currency() -> None:
    padaria = subscription(seats=3, unit_minor=59_900, currency="BRL", interval=BillingInterval.ANNUAL)
    assert padaria.renewal_amount() == Money(179_700, "BRL")
    assert padaria.currency == "BRL"


@given(seats=st.integers(1, 100_000), unit=st.integers(0, 10**9))
def test_renewal_amount_is_exact_in_minor_units_for_any_seat_count(seats: int, unit: int) -> None:
    assert subscription(seats=seats, unit_minor=unit).renewal_amount().amount_minor == seats * unit


def test_a_subscription_without_seats_is_refused() -> None:
    with pytest.raises(ValueError):
        subscription(seats=0)


def test_a_monthly_period_starting_on_the_31st_ends_on_the_last_day_of_february() -> None:
    assert BillingInterval.MONTHLY.period_end(START) == dt.datetime(2026, 2, 28, tzinfo=dt.UTC)


def test_an_annual_period_ends_twelve_months_later_even_across_a_leap_day() -> None:
    leap = dt.datetime(2028, 2, 29, tzinfo=dt.UTC)
    assert BillingInterval.ANNUAL.period_end(leap) == dt.datetime(2029, 2, 28, tzinfo=dt.UTC)


def test_adding_months_crosses_year_ends() -> None:
    assert add_months(dt.datetime(2026, 11, 15), 3) == dt.datetime(2027, 2, 15)


def test_the_current_subscription_is_a_live_one_before_a_canceled_one_that_ends_later() -> None:
    live = subscription(start=START)
    canceled = subscription(status=SubscriptionStatus.CANCELED, start=START + dt.timedelta(days=90))
    assert current_subscription([canceled, live]) == live


def test_the_current_subscription_of_an_account_with_only_canceled_ones_is_the_latest() -> None:
    old = subscription(status=SubscriptionStatus.CANCELED, start=START)
    newer = subscription(status=SubscriptionStatus.CANCELED, start=START + dt.timedelta(days=90))
    assert current_subscription([newer, old]) == newer


def test_there_is_no_current_subscription_without_subscriptions() -> None:
    assert current_subscription([]) is None
