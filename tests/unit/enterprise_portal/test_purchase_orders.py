"""Purchase orders: remaining balance, status on a day, invoices against them, notices."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_common.errors import InvalidArgument
from billing_common.money import Money
from services.enterprise_portal.domain.model import InvoiceStatus
from services.enterprise_portal.domain.purchase_orders import (
    PoNotice,
    PoProblem,
    PoStatus,
    PurchaseOrder,
    invoiced_against,
    po_problem,
)
from tests.unit.enterprise_portal.factories import invoice

FROM, TO = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def po(amount_minor: int = 1_000_000, invoiced: int | None = None, **changes: object) -> PurchaseOrder:
    made = PurchaseOrder("po-1", "acct-1", "PO-7781", usd(amount_minor), FROM, TO, "FY26 licences",
                         None if invoiced is None else usd(invoiced))
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


def test_the_remaining_balance_is_the_amount_less_the_non_void_invoices_carrying_its_number() -> None:
    invoices = [
        invoice(total_minor=300_000, po_number="PO-7781"),
        invoice(total_minor=200_000, po_number="PO-7781", paid_minor=(200_000,), status=InvoiceStatus.PAID),
        invoice(total_minor=999_999, po_number="PO-7781", status=InvoiceStatus.VOID),
        invoice(total_minor=50_000, po_number="PO-9999"),
        invoice(total_minor=50_000),
        invoice("acct-2", total_minor=70_000, po_number="PO-7781"),
    ]
    counted = po().with_invoiced(invoices)
    assert counted.used == usd(500_000)
    assert counted.remaining() == usd(500_000)
    assert invoiced_against(po(), []) == usd(0)


def test_an_overdrawn_po_has_nothing_remaining_not_a_negative_balance() -> None:
    assert po(invoiced=1_200_000).remaining() == usd(0)


@pytest.mark.parametrize("invoiced, day, status", [
    (0, FROM, PoStatus.ACTIVE),
    (0, TO, PoStatus.ACTIVE),
    (0, FROM - dt.timedelta(days=1), PoStatus.UPCOMING),
    (0, TO + dt.timedelta(days=1), PoStatus.EXPIRED),
    (999_999, TO + dt.timedelta(days=1), PoStatus.EXPIRED),
    (1_000_000, dt.date(2026, 6, 1), PoStatus.EXHAUSTED),
    (1_000_000, TO + dt.timedelta(days=1), PoStatus.EXHAUSTED),
])
def test_a_pos_status_on_a_day(invoiced: int, day: dt.date, status: PoStatus) -> None:
    assert po(invoiced=invoiced).status(day) is status


@pytest.mark.parametrize("target, amount, day, problem", [
    ("PO-7781", 400_000, dt.date(2026, 6, 1), None),
    ("PO-7781", 400_001, dt.date(2026, 6, 1), PoProblem.INSUFFICIENT),
    ("PO-7781", 1, TO + dt.timedelta(days=1), PoProblem.EXPIRED),
    ("PO-7781", 1, FROM - dt.timedelta(days=1), PoProblem.UPCOMING),
    ("PO-0000", 1, dt.date(2026, 6, 1), PoProblem.UNKNOWN),
    (None, 1, dt.date(2026, 6, 1), PoProblem.NONE_GIVEN),
    ("", 1, dt.date(2026, 6, 1), PoProblem.NONE_GIVEN),
])
def test_an_invoice_not_covered_by_a_valid_po_is_flagged_with_the_reason(
    target: str | None, amount: int, day: dt.date, problem: PoProblem | None,
) -> None:
    assert po_problem(target, usd(amount), day, [po(invoiced=600_000)]) == problem


def test_an_exhausted_po_and_one_in_another_currency_do_not_cover_an_invoice() -> None:
    assert po_problem("PO-7781", usd(1), dt.date(2026, 6, 1), [po(invoiced=1_000_000)]) is PoProblem.EXHAUSTED
    assert po(invoiced=0).problem_with(Money(1, "EUR"), dt.date(2026, 6, 1)) is PoProblem.CURRENCY
    assert po(invoiced=0).may_invoice(usd(1_000_000), dt.date(2026, 6, 1))


@pytest.mark.parametrize("day, due", [
    (TO - dt.timedelta(days=31), False),
    (TO - dt.timedelta(days=30), True),
    (TO, True),
    (TO + dt.timedelta(days=1), False),  # expired: the notice's time is over
])
def test_the_expiry_notice_is_due_from_30_days_before_the_end(day: dt.date, due: bool) -> None:
    assert po().expiry_notice_due(day) is due


def test_an_exhausted_po_gets_no_expiry_notice() -> None:
    assert not po(invoiced=1_000_000).expiry_notice_due(TO)


@pytest.mark.parametrize("amount, invoiced, due", [
    (1_000_000, 799_999, False),
    (1_000_000, 800_000, True),
    (1_000_000, 1_000_000, True),
    (3, 2, False),  # 66%
    (5, 4, True),  # exactly 80%
])
def test_the_usage_notice_is_due_at_80_percent_used(amount: int, invoiced: int, due: bool) -> None:
    assert po(amount, invoiced).usage_notice_due() is due


def test_the_notices_due_on_a_day() -> None:
    assert po(invoiced=900_000).notices_due(TO) == {PoNotice.EXPIRES_SOON, PoNotice.MOSTLY_USED}
    assert po(invoiced=0).notices_due(FROM) == frozenset()


@pytest.mark.parametrize("changes, field", [
    ({"number": ""}, "number"),
    ({"number": " PO-1"}, "number"),
    ({"number": "PO\n1"}, "number"),
    ({"number": "P" * 65}, "number"),
    ({"amount": usd(0)}, "amount"),
    ({"valid_to": FROM - dt.timedelta(days=1)}, "valid_to"),
    ({"notes": "n" * 2_001}, "notes"),
])
def test_a_bad_po_is_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        po(**changes)
    assert refused.value.field == field


def test_po_numbers_are_the_customers_own() -> None:
    for number in ("4500012345", "ACME/2026/117", "PO 7781-b", "Pedido nº 12"):
        assert po(number=number).number == number


@given(st.integers(1, 10**12), st.lists(st.integers(0, 10**11), max_size=6))
def test_remaining_and_used_never_lose_a_cent(amount: int, totals: list[int]) -> None:
    counted = po(amount).with_invoiced([invoice(total_minor=t, po_number="PO-7781") for t in totals])
    assert counted.used.amount_minor == sum(totals)
    assert counted.remaining().amount_minor == max(0, amount - sum(totals))
    assert (counted.status(dt.date(2026, 6, 1)) is PoStatus.EXHAUSTED) == (sum(totals) >= amount)
    assert counted.usage_notice_due() == (sum(totals) * 100 >= amount * 80)
