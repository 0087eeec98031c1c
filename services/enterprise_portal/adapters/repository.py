"""SQL repository of invoices (with their payments): rows in, domain objects out."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from billing_common.db import aware_utc, to_utc
from billing_common.money import Money
from services.enterprise_portal.adapters import orm
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus, Payment


class SqlInvoiceRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, invoice: Invoice) -> None:
        """The invoice and the payments it carries."""
        i = invoice
        self.connection.execute(
            insert(orm.invoices).values(
                id=i.id, account_id=i.account_id, number=i.number, currency=i.currency,
                total_minor=i.total.amount_minor, issued_on=i.issued_on, due_on=i.due_on,
                terms=i.terms, po_number=i.po_number, status=i.status.value,
            )
        )
        if i.payments:
            self.connection.execute(
                insert(orm.payments),
                [
                    {"id": p.id, "invoice_id": i.id, "amount_minor": p.amount.amount_minor,
                     "received_at": to_utc(p.received_at)}
                    for p in i.payments
                ],
            )

    def open_for_account(self, account_id: str) -> list[Invoice]:
        rows = self.connection.execute(
            _OPEN_FOR_ACCOUNT, {"account_id": account_id, "open": InvoiceStatus.OPEN.value}
        ).all()
        if not rows:
            return []
        by_invoice: dict[str, list[Any]] = defaultdict(list)
        for p in self.connection.execute(_PAYMENTS_OF, {"invoice_ids": [r.id for r in rows]}):
            by_invoice[p.invoice_id].append(p)
        return [_invoice(r, by_invoice[r.id]) for r in rows]

    def latest_currency(self, account_id: str) -> str | None:
        inv = orm.invoices
        return self.connection.execute(
            select(inv.c.currency)
            .where(inv.c.account_id == account_id)
            .order_by(inv.c.issued_on.desc(), inv.c.number.desc())
            .limit(1)
        ).scalar()


# Built once: they run on every Enterprise portal landing page, and building a statement
# costs more than executing it.
_inv, _pay = orm.invoices, orm.payments
_OPEN_FOR_ACCOUNT = (
    select(_inv)
    .where(_inv.c.account_id == bindparam("account_id"), _inv.c.status == bindparam("open"))
    .order_by(_inv.c.due_on, _inv.c.number)
)
_PAYMENTS_OF = (
    select(_pay)
    .where(_pay.c.invoice_id.in_(bindparam("invoice_ids", expanding=True)))
    .order_by(_pay.c.received_at, _pay.c.id)
)


def _invoice(row: Any, payment_rows: list[Any]) -> Invoice:
    return Invoice(
        id=row.id,
        account_id=row.account_id,
        number=row.number,
        total=Money(int(row.total_minor), row.currency),
        issued_on=row.issued_on,
        due_on=row.due_on,
        terms=row.terms,
        status=InvoiceStatus(row.status),
        po_number=row.po_number,
        payments=tuple(
            Payment(
                id=p.id,
                invoice_id=p.invoice_id,
                amount=Money(int(p.amount_minor), row.currency),
                received_at=aware_utc(p.received_at),
            )
            for p in payment_rows
        ),
    )
