"""The SQL invoice repository against a real, migrated database (PostgreSQL with TEST_DATABASE_URL)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from services.enterprise_portal.adapters.unit_of_work import SqlEnterprisePortalUnitOfWork
from services.enterprise_portal.domain.model import InvoiceStatus
from tests.unit.enterprise_portal.factories import invoice


def test_an_open_invoice_reads_back_with_its_payments_terms_and_po(engine: Engine) -> None:
    stored = invoice("acct-a", total_minor=840_000, paid_minor=(200_000, 40_000), terms="NET 45",
                     po_number="PO-7781")
    with SqlEnterprisePortalUnitOfWork(engine) as uow:
        uow.invoices.add(stored)
        uow.commit()
    with SqlEnterprisePortalUnitOfWork(engine) as uow:
        [loaded] = uow.invoices.open_for_account("acct-a")
    assert loaded == stored
    assert loaded.amount_due().amount_minor == 600_000


def test_only_the_accounts_open_invoices_are_read(engine: Engine) -> None:
    with SqlEnterprisePortalUnitOfWork(engine) as uow:
        uow.invoices.add(invoice("acct-a", total_minor=100))
        uow.invoices.add(invoice("acct-a", total_minor=200, paid_minor=(200,), status=InvoiceStatus.PAID))
        uow.invoices.add(invoice("acct-a", total_minor=300, status=InvoiceStatus.VOID))
        uow.invoices.add(invoice("acct-b", total_minor=400))
        uow.commit()
    with SqlEnterprisePortalUnitOfWork(engine) as uow:
        assert [i.total.amount_minor for i in uow.invoices.open_for_account("acct-a")] == [100]
        assert uow.invoices.open_for_account("nobody") == []


def test_the_latest_currency_is_that_of_the_most_recently_issued_invoice(engine: Engine) -> None:
    with SqlEnterprisePortalUnitOfWork(engine) as uow:
        uow.invoices.add(invoice("acct-a", currency="USD", issued_on=dt.date(2025, 1, 1)))
        uow.invoices.add(invoice("acct-a", currency="BRL", issued_on=dt.date(2026, 1, 1)))
        uow.commit()
    with SqlEnterprisePortalUnitOfWork(engine) as uow:
        assert uow.invoices.latest_currency("acct-a") == "BRL"
        assert uow.invoices.latest_currency("nobody") is None


def test_an_invoice_number_is_unique(engine: Engine) -> None:
    with SqlEnterprisePortalUnitOfWork(engine) as uow:
        uow.invoices.add(invoice("acct-a", number="INV-9"))
        uow.commit()
    with pytest.raises(IntegrityError), SqlEnterprisePortalUnitOfWork(engine) as uow:
        uow.invoices.add(invoice("acct-b", number="INV-9"))
        uow.commit()


def test_a_failed_write_leaves_no_half_invoice_behind(engine: Engine) -> None:
    with SqlEnterprisePortalUnitOfWork(engine) as uow:
        uow.invoices.add(invoice("acct-a", number="INV-1"))
        uow.commit()
    with pytest.raises(IntegrityError), SqlEnterprisePortalUnitOfWork(engine) as uow:
        uow.invoices.add(invoice("acct-a", number="INV-2", total_minor=5))
        uow.invoices.add(invoice("acct-a", number="INV-1"))
        uow.commit()
    with SqlEnterprisePortalUnitOfWork(engine) as uow:
        assert [i.number for i in uow.invoices.open_for_account("acct-a")] == ["INV-1"]
