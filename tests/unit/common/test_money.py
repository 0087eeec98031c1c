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
    assert Money(-5, "USD").prorate(1, 2) == Money(-2, "USD")
    assert Money(5, "USD").prorate(1, 4) == Money(1, "USD")  # 1.25 -> 1


def test_five_split_in_halves_is_two_and_three_not_two_and_two():
    five = Money(5, "USD")
    assert five.prorate(1, 2) + five.prorate_between(1, 2, 2) == five
    assert five.allocate([1, 1]) == [Money(2, "USD"), Money(3, "USD")]


# A period of up to a leap year in seconds: proration is to the second.
periods = st.integers(min_value=1, max_value=366 * 24 * 3600)


@given(amounts, periods, st.data())
def test_the_used_part_of_a_period_and_its_complement_add_up_to_the_amount(amount, period, data):
    used = data.draw(st.integers(min_value=0, max_value=period))
    price = Money(amount, "USD")
    assert price.prorate(used, period) + price.prorate_between(used, period, period) == price


@given(amounts, periods, st.data())
def test_prorating_a_period_cut_anywhere_adds_up_to_the_amount_and_agrees_with_allocate(amount, period, data):
    cuts = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=period), max_size=20)))
    bounds = [0, *cuts, period]
    price = Money(amount, "USD")
    spans = [price.prorate_between(start, end, period) for start, end in zip(bounds, bounds[1:], strict=False)]
    assert sum(p.amount_minor for p in spans) == amount
    # A span's amount depends on its own ends only: the same whichever other cuts were made.
    assert spans == price.allocate([end - start for start, end in zip(bounds, bounds[1:], strict=False)])
    assert spans[0] == price.prorate(bounds[1], period)


weights_with_zeros = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(sum)


@given(amounts, weights_with_zeros)
def test_each_allocated_part_is_within_one_minor_unit_of_its_exact_share(amount, weights):
    parts = [p.amount_minor for p in Money(amount, "USD").allocate(weights)]
    total = sum(weights)
    assert sum(parts) == amount
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part * total - amount * weight) <= total
        if weight == 0:
            assert part == 0


@given(amounts, weights_with_zeros)
def test_allocating_a_negative_amount_mirrors_the_positive_one(amount, weights):
    assert Money(-amount, "USD").allocate(weights) == [-p for p in Money(amount, "USD").allocate(weights)]


@given(amounts, periods, st.data())
def test_prorate_is_the_exact_share_rounded_half_to_even(amount, period, data):
    used = data.draw(st.integers(min_value=0, max_value=period))
    result = Money(amount, "USD").prorate(used, period).amount_minor
    assert abs(2 * (result * period - amount * used)) <= period
    if (2 * amount * used) % (2 * period) == period:  # exactly half a minor unit: to the even one
        assert result % 2 == 0


def test_prorating_refuses_spans_outside_the_period():
    price = Money(100, "USD")
    for start, end, period in [(-1, 5, 10), (6, 5, 10), (0, 11, 10), (0, 0, 0)]:
        with pytest.raises(ValueError):
            price.prorate_between(start, end, period)
    with pytest.raises(ValueError):
        price.allocate([1, -1, 2])
    with pytest.raises(ValueError):
        price.allocate([0, 0])


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
