"""Domain objects for tests, with unique ids."""
from __future__ import annotations

import datetime as dt
import uuid

from billing_common.money import Money
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus, Payment, due_date

ISSUED = dt.date(2026, 3, 1)


def invoice(
    account_id: str = "acct-1",
    *,
    total_minor: int = 100_000,
    paid_minor: tuple[int, ...] = (),
    currency: str = "USD",
    status: InvoiceStatus = InvoiceStatus.OPEN,
    issued_on: dt.date = ISSUED,
    terms: str = "NET 30",
    number: str | None = None,
    po_number: str | None = None,
) -> Invoice:
    invoice_id = str(uuid.uuid4())
    at = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    return Invoice(
        id=invoice_id,
        account_id=account_id,
        number=number or f"INV-{uuid.uuid4().hex[:8]}",
        total=Money(total_minor, currency),
        issued_on=issued_on,
        due_on=due_date(issued_on, terms),
        terms=terms,
        status=status,
        po_number=po_number,
        # A day apart, so the order they were received in is unambiguous.
        payments=tuple(
            Payment(str(uuid.uuid4()), invoice_id, Money(m, currency), at + dt.timedelta(days=n))
            for n, m in enumerate(paid_minor)
        ),
    )
