from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_common.money import Money

amounts = st.integers(min_value=-10**15, max_value=10**15)
currencies = st.sampled_from(["USD", "BRL", "JPY", "KWD", "EUR"])


@given(amounts, currencies, st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=30).filter(sum))
def test_allocating_an_amount_never_loses_or_creates_a_minor_unit(amount, currency, weights):
    parts = Money(amount, currency).allocate(weights)
    assert sum(p.amount_minor for p in parts) == amount
    assert all(p.currency == currency for p in parts)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=366))
def test_prorated_parts_of_a_period_add_up_to_the_whole(amount, days):
    price = Money(amount, "USD")
    parts = price.allocate([1] * days)
    assert sum(p.amount_minor for p in parts) == amount
    assert abs(price.prorate(days, days).amount_minor - amount) == 0


def test_prorate_uses_bankers_rounding():
    assert Money(5, "USD").prorate(1, 2) == Money(2, "USD")  # 2.5 -> 2
    assert Money(7, "USD").prorate(1, 2) == Money(4, "USD")  # 3.5 -> 4


def test_minor_units_follow_the_currency():
    assert Money.from_decimal(Decimal("12.345"), "USD") == Money(1234, "USD")
    assert Money.from_decimal("1000", "JPY") == Money(1000, "JPY")
    assert Money(123456, "BRL").to_decimal() == Decimal("1234.56")


def test_money_refuses_floats_mixed_currencies_and_unknown_codes():
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "USD") + Money(1, "BRL")
    with pytest.raises(ValueError):
        Money(1, "XXY")
    with pytest.raises(TypeError):
        Money(1, "USD") * 1.5  # type: ignore[operator]


def test_amounts_are_shown_in_the_viewers_locale():
    assert Money(123456, "USD").format("en") == "$1,234.56"
    assert Money(123456, "BRL").format("pt-BR") == "R$\xa01.234,56"
