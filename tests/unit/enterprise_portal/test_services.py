from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_common.clock import FakeClock
from billing_common.errors import InvalidArgument
from billing_common.money import Money
from services.devstack.demo_backends import globex_invoices
from services.enterprise_portal.adapters.memory import InMemoryUnitOfWork
from services.enterprise_portal.domain.model import InvoiceStatus
from services.enterprise_portal.service_layer.dependencies import Dependencies
from services.enterprise_portal.service_layer.services import get_open_invoice_summary
from tests.unit.enterprise_portal.factories import invoice


def _deps(uow: InMemoryUnitOfWork) -> Dependencies:
    """The use case's dependencies over one in-memory unit of work the test can inspect."""
    return Dependencies(uow=lambda: uow, clock=FakeClock())


def test_globex_demo_invoices_give_two_open_and_9150_dollars_50_due() -> None:
    uow = InMemoryUnitOfWork(globex_invoices("globex-id", dt.date(2026, 11, 26)))
    summary = get_open_invoice_summary(_deps(uow), "globex-id")
    assert (summary.open_count, summary.total_due) == (2, Money(915_050, "USD"))


def test_other_accounts_invoices_are_not_counted() -> None:
    uow = InMemoryUnitOfWork([invoice("acct-a", total_minor=500), invoice("acct-b", total_minor=700)])
    assert get_open_invoice_summary(_deps(uow), "acct-a").total_due == Money(500, "USD")


def test_with_nothing_open_the_zero_is_in_the_currency_of_the_accounts_latest_invoice() -> None:
    paid = invoice("acct-a", currency="BRL", total_minor=900, paid_minor=(900,), status=InvoiceStatus.PAID)
    summary = get_open_invoice_summary(_deps(InMemoryUnitOfWork([paid])), "acct-a")
    assert (summary.open_count, summary.total_due) == (0, Money(0, "BRL"))


def test_an_account_without_any_invoice_has_nothing_open_in_usd() -> None:
    summary = get_open_invoice_summary(_deps(InMemoryUnitOfWork()), "acct-new")
    assert (summary.open_count, summary.total_due) == (0, Money(0, "USD"))


@pytest.mark.parametrize(
    "bad", ["", "   ", "x" * 65, "acct\r\n", "acct\x07", "acct-1 "],
    ids=["empty", "blank", "too-long", "crlf", "bell", "trailing-space"],
)
def test_a_malformed_account_id_is_an_invalid_argument_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        get_open_invoice_summary(_deps(InMemoryUnitOfWork()), bad)
    assert caught.value.field == "account_id"


@given(st.text(max_size=80))
def test_any_account_id_gives_a_summary_or_an_invalid_argument_and_nothing_else(account_id: str) -> None:
    try:
        summary = get_open_invoice_summary(_deps(InMemoryUnitOfWork()), account_id)
    except InvalidArgument as exc:
        assert exc.field == "account_id"
    else:
        assert summary.open_count == 0
