from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_common.money import Money
from services.enterprise_portal.domain.model import InvoiceStatus, due_date, net_days, summarise_open_invoices
from tests.unit.enterprise_portal.factories import invoice


def test_what_is_due_is_the_total_less_the_partial_payments() -> None:
    assert invoice(total_minor=840_000, paid_minor=(200_000, 40_000)).amount_due() == Money(600_000, "USD")


def test_an_invoice_without_payments_is_due_in_full() -> None:
    assert invoice(total_minor=315_050).amount_due() == Money(315_050, "USD")


def test_the_summary_counts_only_open_invoices() -> None:
    invoices = [
        invoice(total_minor=1_200_000, paid_minor=(1_200_000,), status=InvoiceStatus.PAID),
        invoice(total_minor=840_000, paid_minor=(240_000,)),
        invoice(total_minor=315_050),
        invoice(total_minor=999, status=InvoiceStatus.VOID),
    ]
    summary = summarise_open_invoices(invoices, "USD")
    assert (summary.open_count, summary.total_due) == (2, Money(915_050, "USD"))


def test_with_nothing_open_the_summary_is_zero_in_the_given_currency() -> None:
    summary = summarise_open_invoices([], "BRL")
    assert (summary.open_count, summary.total_due) == (0, Money(0, "BRL"))


def test_invoices_in_another_currency_than_the_accounts_are_not_summed() -> None:
    with pytest.raises(ValueError):
        summarise_open_invoices([invoice(currency="USD"), invoice(currency="EUR")], "USD")


def test_a_payment_in_another_currency_than_its_invoice_is_refused() -> None:
    usd = invoice(total_minor=1000, paid_minor=(100,))
    with pytest.raises(ValueError):
        dataclasses.replace(usd, total=Money(1000, "EUR"))


def test_net_terms_give_the_due_date() -> None:
    assert net_days("NET 45") == 45
    assert due_date(dt.date(2026, 12, 20), "NET 30") == dt.date(2027, 1, 19)


@pytest.mark.parametrize("terms", ["", "net 30", "NET", "NET -5", "NET 30 days", "NET 1000"])
def test_terms_that_are_not_net_days_are_refused(terms: str) -> None:
    with pytest.raises(ValueError):
        net_days(terms)


@st.composite
def _invoice_amounts(draw: st.DrawFn) -> tuple[int, list[int], InvoiceStatus]:
    """A total, payments that never add up to more than it, and a status."""
    total = draw(st.integers(0, 10**12))
    payments: list[int] = []
    for _ in range(draw(st.integers(0, 4))):
        left = total - sum(payments)
        if left == 0:
            break
        payments.append(draw(st.integers(1, left)))
    return total, payments, draw(st.sampled_from(list(InvoiceStatus)))


@given(st.lists(_invoice_amounts(), max_size=12))
def test_the_summary_total_equals_the_sum_of_the_open_invoices_dues_to_the_minor_unit(
    drafts: list[tuple[int, list[int], InvoiceStatus]],
) -> None:
    invoices = [invoice(total_minor=t, paid_minor=tuple(p), status=s) for t, p, s in drafts]
    summary = summarise_open_invoices(invoices, "USD")
    expected = sum(t - sum(p) for t, p, s in drafts if s is InvoiceStatus.OPEN)
    assert summary.total_due == Money(expected, "USD")
    assert summary.total_due.amount_minor == sum(i.amount_due().amount_minor for i in invoices if i.is_open)
    assert summary.open_count == sum(1 for _, _, s in drafts if s is InvoiceStatus.OPEN)
