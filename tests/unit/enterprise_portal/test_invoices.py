"""Enterprise invoices: lines and totals, their state as of a date, payments applied."""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_common.errors import FailedPrecondition, InvalidArgument
from billing_common.money import Money
from services.enterprise_portal.domain.lines import Line, LineKind, totals
from services.enterprise_portal.domain.model import InvoiceState, InvoiceStatus, Payment
from tests.unit.enterprise_portal.factories import ISSUED, invoice

DUE = dt.date(2026, 3, 31)  # ISSUED + NET 30


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def payment_for(inv_id: str, minor: int, on: dt.date = dt.date(2026, 3, 10), currency: str = "USD") -> Payment:
    at = dt.datetime.combine(on, dt.time(12), tzinfo=dt.UTC)
    return Payment(str(uuid.uuid4()), inv_id, Money(minor, currency), at)


def test_a_line_is_quantity_times_unit_price_less_its_discount() -> None:
    line = Line(LineKind.PLAN, "Enterprise, 120 seats, annual", 120, usd(26_400), discount_bp=1_500,
                plan_code="enterprise")
    assert (line.gross, line.discount, line.amount) == (usd(3_168_000), usd(475_200), usd(2_692_800))


def test_a_discount_rounds_half_to_even_once_per_line() -> None:
    # 15% of 1.50 is 0.225: 22.5 cents rounds to 22, leaving 128.
    line = Line(LineKind.CUSTOM, "Onboarding call", 1, usd(150), discount_bp=1_500)
    assert (line.discount, line.amount) == (usd(22), usd(128))


@pytest.mark.parametrize("changes, field", [
    ({"description": " "}, "description"),
    ({"description": "x" * 201}, "description"),
    ({"quantity": 0}, "quantity"),
    ({"quantity": True}, "quantity"),
    ({"unit_price": usd(-1)}, "unit_price"),
    ({"discount_bp": 10_001}, "discount"),
    ({"discount_bp": -1}, "discount"),
    ({"kind": LineKind.PLAN}, "plan_code"),
    ({"plan_code": "business"}, "plan_code"),
])
def test_a_bad_line_is_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"kind": LineKind.CUSTOM, "description": "Training", "quantity": 2,
                               "unit_price": usd(10_000)}
    with pytest.raises(InvalidArgument) as refused:
        Line(**(base | changes))  # type: ignore[arg-type]
    assert refused.value.field == field


@given(st.lists(st.tuples(st.integers(1, 10_000), st.integers(0, 10**9), st.integers(0, 10_000)), max_size=10))
def test_totals_are_the_sum_of_the_lines_to_the_minor_unit(drafts: list[tuple[int, int, int]]) -> None:
    lines = [Line(LineKind.CUSTOM, "item", q, usd(p), d) for q, p, d in drafts]
    result = totals(lines, "USD")
    assert result.total == sum((line.amount for line in lines), usd(0))
    assert result.subtotal - result.discount == result.total
    assert all(0 <= line.amount.amount_minor <= line.gross.amount_minor for line in lines)


def test_totals_refuse_a_line_in_another_currency() -> None:
    with pytest.raises(InvalidArgument):
        totals([Line(LineKind.CUSTOM, "item", 1, Money(100, "EUR"))], "USD")


def test_an_invoices_lines_must_add_up_to_its_total() -> None:
    inv = invoice(total_minor=25_000)
    lines = (Line(LineKind.CUSTOM, "Training", 2, usd(10_000)), Line(LineKind.CUSTOM, "Travel", 1, usd(5_000)))
    assert dataclasses.replace(inv, lines=lines).lines == lines
    with pytest.raises(ValueError):
        dataclasses.replace(inv, lines=lines[:1])


def test_an_invoice_cannot_be_paid_more_than_its_total() -> None:
    with pytest.raises(ValueError):
        invoice(total_minor=1_000, paid_minor=(600, 401))


@pytest.mark.parametrize("paid, as_of, state", [
    ((), DUE, InvoiceState.OPEN),
    ((), DUE + dt.timedelta(days=1), InvoiceState.OVERDUE),
    ((400,), DUE, InvoiceState.PARTIALLY_PAID),
    ((400,), DUE + dt.timedelta(days=1), InvoiceState.OVERDUE),
    ((400, 600), DUE + dt.timedelta(days=90), InvoiceState.PAID),
])
def test_an_invoices_state_follows_its_payments_and_due_date(
    paid: tuple[int, ...], as_of: dt.date, state: InvoiceState,
) -> None:
    assert invoice(total_minor=1_000, paid_minor=paid).state(as_of) == state


def test_a_void_invoice_is_void_and_owes_nothing_whatever_the_date() -> None:
    void = invoice(total_minor=1_000, status=InvoiceStatus.VOID)
    assert void.state(DUE + dt.timedelta(days=400)) is InvoiceState.VOID
    assert void.balance() == usd(0)


def test_a_zero_invoice_is_paid() -> None:
    assert invoice(total_minor=0).state(ISSUED) is InvoiceState.PAID


def test_the_balance_as_of_a_date_counts_only_the_payments_received_by_then() -> None:
    inv = invoice(total_minor=1_000, paid_minor=(300, 200))  # received 10 and 11 March
    assert inv.balance(dt.date(2026, 3, 9)) == usd(1_000)
    assert inv.balance(dt.date(2026, 3, 10)) == usd(700)
    assert inv.balance() == usd(500)
    assert inv.balance(dt.date(2026, 2, 28)) == usd(0)  # not issued yet
    assert inv.state(dt.date(2026, 3, 9)) is InvoiceState.OPEN


def test_a_payment_counts_on_its_utc_day() -> None:
    late_evening_in_sao_paulo = dt.datetime(2026, 3, 10, 22, 30, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
    inv = invoice(total_minor=1_000)
    paid = inv.with_payment(Payment("p", inv.id, usd(1_000), late_evening_in_sao_paulo))
    assert paid.balance(dt.date(2026, 3, 10)) == usd(1_000)
    assert paid.balance(dt.date(2026, 3, 11)) == usd(0)


def test_days_past_due_start_the_day_after_the_due_date() -> None:
    inv = invoice()
    assert [inv.days_past_due(DUE + dt.timedelta(days=d)) for d in (-5, 0, 1, 31)] == [0, 0, 1, 31]


def test_paying_the_rest_marks_the_invoice_paid() -> None:
    inv = invoice(total_minor=1_000)
    part = inv.with_payment(payment_for(inv.id, 400))
    assert (part.status, part.balance()) == (InvoiceStatus.OPEN, usd(600))
    full = part.with_payment(payment_for(inv.id, 600))
    assert (full.status, full.balance(), full.state(DUE)) == (InvoiceStatus.PAID, usd(0), InvoiceState.PAID)


def test_a_payment_above_the_balance_is_refused_naming_the_amount() -> None:
    inv = invoice(total_minor=1_000, paid_minor=(400,))
    with pytest.raises(InvalidArgument) as refused:
        inv.with_payment(payment_for(inv.id, 601))
    assert refused.value.field == "amount"


def test_a_payment_in_another_currency_is_refused_naming_the_currency() -> None:
    inv = invoice(total_minor=1_000)
    with pytest.raises(InvalidArgument) as refused:
        inv.with_payment(payment_for(inv.id, 100, currency="EUR"))
    assert refused.value.field == "currency"


def test_a_void_invoice_cannot_be_paid_and_a_paid_one_cannot_be_voided() -> None:
    with pytest.raises(FailedPrecondition):
        invoice(status=InvoiceStatus.VOID).with_payment(payment_for("x", 1))
    with pytest.raises(FailedPrecondition):
        invoice(total_minor=1_000, paid_minor=(1,)).voided()
    assert invoice().voided().status is InvoiceStatus.VOID


def test_a_payment_comes_from_a_receipt_or_a_credit_not_both() -> None:
    with pytest.raises(ValueError):
        Payment("p", "i", usd(1), dt.datetime(2026, 3, 1, tzinfo=dt.UTC), receipt_id="r", credit_id="c")


def test_before_its_issue_day_an_invoice_owes_nothing_yet_but_is_not_paid() -> None:
    inv = invoice(total_minor=1_000)
    day_before = ISSUED - dt.timedelta(days=1)
    assert (inv.balance(day_before), inv.state(day_before)) == (usd(0), InvoiceState.OPEN)


@given(st.integers(0, 10**9), st.lists(st.integers(1, 10**8), max_size=4), st.integers(-40, 400))
def test_the_state_agrees_with_the_balance_and_the_due_date(total: int, parts: list[int], offset: int) -> None:
    paid: list[int] = []
    for part in parts:
        if sum(paid) + part <= total:
            paid.append(part)
    inv = invoice(total_minor=total, paid_minor=tuple(paid))
    day = ISSUED + dt.timedelta(days=offset)
    state = inv.state(day)
    left = total - inv.amount_paid(day).amount_minor
    assert (state is InvoiceState.PAID) == (left == 0)
    assert (state is InvoiceState.OVERDUE) == (left > 0 and day > inv.due_on)
    assert (state is InvoiceState.PARTIALLY_PAID) == (0 < left < total and day <= inv.due_on)
    assert 0 <= inv.balance(day).amount_minor <= total
