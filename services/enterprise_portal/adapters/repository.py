"""SQL repositories of enterprise_portal: rows in, domain objects out."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, column, func, insert, select, tuple_, union, update

from billing_common.db import aware_utc, to_utc
from billing_common.invoicing.numbering import next_number
from billing_common.money import Money
from billing_common.outbox import OutgoingMail, enqueue
from services.enterprise_portal.adapters import orm, statement_sql
from services.enterprise_portal.domain.lines import Line, LineKind
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus, Payment
from services.enterprise_portal.domain.payments import Credit, PaymentMethod, Receipt
from services.enterprise_portal.domain.purchase_orders import PoNotice, PurchaseOrder
from services.enterprise_portal.domain.statement import EntryPage
from services.enterprise_portal.service_layer.ports import CardPayment, CardPaymentStatus, InvoicePage

_inv, _pay, _lines = orm.invoices, orm.payments, orm.invoice_lines


class SqlInvoiceRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, invoice: Invoice, po_problem: str | None = None) -> None:
        """The invoice, its lines and the payments it carries."""
        i = invoice
        self.connection.execute(
            insert(_inv).values(
                id=i.id, account_id=i.account_id, number=i.number, currency=i.currency,
                total_minor=i.total.amount_minor, issued_on=i.issued_on, due_on=i.due_on,
                terms=i.terms, po_number=i.po_number, status=i.status.value, po_problem=po_problem,
            )
        )
        if i.lines:
            self.connection.execute(insert(_lines), [
                {"invoice_id": i.id, "position": n, "kind": line.kind.value, "description": line.description,
                 "quantity": line.quantity, "unit_price_minor": line.unit_price.amount_minor,
                 "discount_bp": line.discount_bp, "plan_code": line.plan_code}
                for n, line in enumerate(i.lines)])
        self.add_payments(i.payments)

    def add_payments(self, payments: Sequence[Payment]) -> None:
        if payments:
            self.connection.execute(insert(_pay), [
                {"id": p.id, "invoice_id": p.invoice_id, "amount_minor": p.amount.amount_minor,
                 "received_at": to_utc(p.received_at), "receipt_id": p.receipt_id, "credit_id": p.credit_id}
                for p in payments])

    def set_status(self, invoice_id: str, status: InvoiceStatus) -> None:
        self.connection.execute(update(_inv).where(_inv.c.id == invoice_id).values(status=status.value))

    def get(self, account_id: str, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        found = self.get_many(account_id, [invoice_id], for_update=for_update)
        return found[0] if found else None

    def get_many(self, account_id: str, invoice_ids: Sequence[str], *, for_update: bool = False) -> list[Invoice]:
        """The account's invoices among `invoice_ids` (another account's are not found, S13)."""
        if not invoice_ids:
            return []
        query = select(_inv).where(_inv.c.account_id == account_id, _inv.c.id.in_(list(invoice_ids)))
        if for_update:
            query = query.order_by(_inv.c.id).with_for_update()
        return self._load(self.connection.execute(query).all())

    def page(self, account_id: str, limit: int, after: tuple[dt.date, str] | None = None) -> InvoicePage:
        """Up to `limit` invoices newest first (issue day, then number), after the cursor (the
        last one of the page before): a keyset page on ix_invoices_account_id_issued_on_number."""
        query = select(_inv).where(_inv.c.account_id == account_id)
        if after is not None:
            day, number = after
            # A row-value comparison, which PostgreSQL turns into the index's range condition (an
            # OR of the two columns was a filter over every newer row: page 400 read 8,000).
            query = query.where(tuple_(_inv.c.issued_on, _inv.c.number) < tuple_(day, number))
        rows = self.connection.execute(
            query.order_by(_inv.c.issued_on.desc(), _inv.c.number.desc()).limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return InvoicePage(invoices=self._load(rows), flags={r.id: r.po_problem for r in rows if r.po_problem},
                           has_more=more)

    def count(self, account_id: str) -> int:
        return int(self.connection.execute(
            select(func.count()).select_from(_inv).where(_inv.c.account_id == account_id)).scalar_one())

    def po_problem(self, invoice_id: str) -> str | None:
        value = self.connection.execute(select(_inv.c.po_problem).where(_inv.c.id == invoice_id)).scalar()
        return str(value) if value is not None else None

    def issued_until(self, account_id: str, end: dt.date) -> list[Invoice]:
        rows = self.connection.execute(
            select(_inv).where(_inv.c.account_id == account_id, _inv.c.issued_on <= end)
            .order_by(_inv.c.issued_on, _inv.c.number)).all()
        return self._load(rows, with_lines=False)

    def for_statement(self, account_id: str, start: dt.date, end: dt.date) -> list[Invoice]:
        """What a statement of start..end needs, not the account's whole history: the invoices
        issued in the period, and earlier ones that may still owe at its end (open now, or paid
        after it) or were paid in it without a receipt (payments stored before receipts)."""
        after_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        from_start = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
        # Payments since the period's start, found by ix_payments_received_at: those after its
        # end (the invoice owed at the end), and those in it without a receipt (legacy ones).
        moved = union(
            select(_pay.c.invoice_id).where(_pay.c.received_at >= after_end),
            select(_pay.c.invoice_id).where(_pay.c.received_at >= from_start, _pay.c.receipt_id.is_(None),
                                            _pay.c.credit_id.is_(None)))
        # Three branches each on an index, not one filter over every invoice of the account: the
        # period's (ix_invoices_account_id_issued_on_number), the earlier open ones
        # (ix_invoices_account_id_status), the earlier ones that money moved on since.
        mine = _inv.c.account_id == account_id
        wanted = union(
            select(_inv.c.id).where(mine, _inv.c.issued_on >= start, _inv.c.issued_on <= end),
            select(_inv.c.id).where(mine, _inv.c.status == "open", _inv.c.issued_on < start),
            select(_inv.c.id).select_from(moved.subquery("moved").join(_inv, _inv.c.id == column("invoice_id")))
            .where(mine, _inv.c.issued_on < start, _inv.c.status != "void"))
        rows = self.connection.execute(
            select(_inv).where(_inv.c.id.in_(wanted)).order_by(_inv.c.issued_on, _inv.c.number)).all()
        return self._load(rows, with_lines=False)

    def balance_before(self, account_id: str, start: dt.date) -> int:
        """What the account owed at the end of the day before `start`, in minor units: its
        non-void invoices less the money received (domain.statement's rules), summed in SQL."""
        before = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
        invoiced = select(func.coalesce(func.sum(_inv.c.total_minor), 0)).where(
            _inv.c.account_id == account_id, _inv.c.status != "void", _inv.c.issued_on < start)
        received = select(func.coalesce(func.sum(orm.receipts.c.amount_minor), 0)).where(
            orm.receipts.c.account_id == account_id, orm.receipts.c.received_at < before)
        goodwill = select(func.coalesce(func.sum(orm.credits.c.amount_minor), 0)).where(
            orm.credits.c.account_id == account_id, orm.credits.c.receipt_id.is_(None),
            orm.credits.c.created_at < before)
        legacy = select(func.coalesce(func.sum(_pay.c.amount_minor), 0)).select_from(
            _pay.join(_inv, _pay.c.invoice_id == _inv.c.id)).where(
            _inv.c.account_id == account_id, _inv.c.status != "void", _pay.c.receipt_id.is_(None),
            _pay.c.credit_id.is_(None), _pay.c.received_at < before)
        row = self.connection.execute(select(invoiced.scalar_subquery(), received.scalar_subquery(),
                                             goodwill.scalar_subquery(), legacy.scalar_subquery())).one()
        return int(row[0]) - int(row[1]) - int(row[2]) - int(row[3])

    def statement_page(self, account_id: str, start: dt.date, end: dt.date, opening: int, currency: str,
                       size: int, *, before: str = "", after: str = "") -> tuple[EntryPage, int]:
        return statement_sql.statement_page(self.connection, account_id, start, end, opening, currency, size,
                                            before=before, after=after)

    def aging_buckets(self, account_id: str, end: dt.date) -> tuple[int, int, int, int, int]:
        return statement_sql.aging_buckets(self.connection, account_id, end)

    def invoiced_against(self, account_id: str, po_number: str, currency: str) -> Money:
        total = self.connection.execute(
            select(func.coalesce(func.sum(_inv.c.total_minor), 0)).where(
                _inv.c.account_id == account_id, _inv.c.po_number == po_number, _inv.c.status != "void")
        ).scalar_one()
        return Money(int(total), currency)

    def open_for_account(self, account_id: str) -> list[Invoice]:
        rows = self.connection.execute(
            _OPEN_FOR_ACCOUNT, {"account_id": account_id, "open": InvoiceStatus.OPEN.value}
        ).all()
        return self._load(rows, with_lines=False)

    def latest_currency(self, account_id: str) -> str | None:
        return self.connection.execute(
            select(_inv.c.currency)
            .where(_inv.c.account_id == account_id)
            .order_by(_inv.c.issued_on.desc(), _inv.c.number.desc())
            .limit(1)
        ).scalar()

    def next_number(self, series: str) -> str:
        return next_number(self.connection, series)

    def _load(self, rows: Sequence[Any], *, with_lines: bool = True) -> list[Invoice]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        payments: dict[str, list[Any]] = defaultdict(list)
        lines: dict[str, list[Any]] = defaultdict(list)
        # In chunks: a statement of an account with thousands of invoices stays within the
        # databases' limits on bound parameters.
        for start in range(0, len(ids), 1000):
            chunk = ids[start:start + 1000]
            for p in self.connection.execute(_PAYMENTS_OF, {"invoice_ids": chunk}):
                payments[p.invoice_id].append(p)
            if with_lines:
                for line in self.connection.execute(_LINES_OF, {"invoice_ids": chunk}):
                    lines[line.invoice_id].append(line)
        return [_invoice(r, payments[r.id], lines[r.id]) for r in rows]


# Built once: they run on every Enterprise portal landing page, and building a statement
# costs more than executing it.
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
_LINES_OF = (
    select(_lines)
    .where(_lines.c.invoice_id.in_(bindparam("invoice_ids", expanding=True)))
    .order_by(_lines.c.invoice_id, _lines.c.position)
)


def _payment(p: Any, currency: str) -> Payment:
    return Payment(id=p.id, invoice_id=p.invoice_id, amount=Money(int(p.amount_minor), currency),
                   received_at=aware_utc(p.received_at), receipt_id=p.receipt_id, credit_id=p.credit_id)


def _invoice(row: Any, payment_rows: list[Any], line_rows: list[Any]) -> Invoice:
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
        payments=tuple(_payment(p, row.currency) for p in payment_rows),
        lines=tuple(
            Line(kind=LineKind(x.kind), description=x.description, quantity=int(x.quantity),
                 unit_price=Money(int(x.unit_price_minor), row.currency), discount_bp=int(x.discount_bp),
                 plan_code=x.plan_code)
            for x in line_rows),
    )


class SqlReceiptRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, receipt: Receipt, recorded_by: str) -> None:
        r = receipt
        self.connection.execute(insert(orm.receipts).values(
            id=r.id, account_id=r.account_id, currency=r.amount.currency, amount_minor=r.amount.amount_minor,
            method=r.method.value, reference=r.reference, received_at=to_utc(r.received_at), recorded_by=recorded_by))

    def get(self, account_id: str, receipt_id: str) -> Receipt | None:
        t = orm.receipts
        row = self.connection.execute(select(t).where(t.c.account_id == account_id, t.c.id == receipt_id)).first()
        return _receipt(row) if row is not None else None

    def by_reference(self, account_id: str, method: PaymentMethod, reference: str) -> Receipt | None:
        t = orm.receipts
        row = self.connection.execute(select(t).where(
            t.c.account_id == account_id, t.c.method == method.value, t.c.reference == reference)).first()
        return _receipt(row) if row is not None else None

    def received_until(self, account_id: str, end: dt.date, start: dt.date | None = None) -> list[Receipt]:
        t = orm.receipts
        before = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        query = select(t).where(t.c.account_id == account_id, t.c.received_at < before)
        if start is not None:
            query = query.where(t.c.received_at >= dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC))
        return [_receipt(r) for r in self.connection.execute(query.order_by(t.c.received_at, t.c.id))]


def _receipt(row: Any) -> Receipt:
    return Receipt(id=row.id, account_id=row.account_id, amount=Money(int(row.amount_minor), row.currency),
                   method=PaymentMethod(row.method), received_at=aware_utc(row.received_at), reference=row.reference)


class SqlCreditRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, credit: Credit) -> None:
        c = credit
        self.connection.execute(insert(orm.credits).values(
            id=c.id, account_id=c.account_id, currency=c.currency, amount_minor=c.amount.amount_minor,
            created_at=to_utc(c.created_at), receipt_id=c.receipt_id))

    def for_account(self, account_id: str, *, for_update: bool = False) -> list[Credit]:
        """The account's credits with what was spent of them (locked with for_update)."""
        t = orm.credits
        query = select(t).where(t.c.account_id == account_id).order_by(t.c.created_at, t.c.id)
        if for_update:
            query = query.with_for_update()
        rows = self.connection.execute(query).all()
        if not rows:
            return []
        spent: dict[str, list[Any]] = defaultdict(list)
        for p in self.connection.execute(
                select(_pay).where(_pay.c.credit_id.in_([r.id for r in rows])).order_by(_pay.c.received_at)):
            spent[p.credit_id].append(p)
        return [
            Credit(id=r.id, account_id=r.account_id, amount=Money(int(r.amount_minor), r.currency),
                   created_at=aware_utc(r.created_at), receipt_id=r.receipt_id,
                   applications=tuple(_payment(p, r.currency) for p in spent[r.id]))
            for r in rows]


class SqlCardPaymentRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, payment: CardPayment) -> None:
        self.connection.execute(insert(orm.card_payments).values(**_card_payment_row(payment)))

    def update(self, payment: CardPayment) -> None:
        t = orm.card_payments
        self.connection.execute(update(t).where(t.c.id == payment.id).values(**_card_payment_row(payment)))

    def get(self, payment_id: str, *, for_update: bool = False) -> CardPayment | None:
        t = orm.card_payments
        query = select(t).where(t.c.id == payment_id)
        if for_update:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return _card_payment(row) if row is not None else None

    def by_key(self, account_id: str, idempotency_key: str) -> CardPayment | None:
        t = orm.card_payments
        row = self.connection.execute(
            select(t).where(t.c.account_id == account_id, t.c.idempotency_key == idempotency_key)).first()
        return _card_payment(row) if row is not None else None

    def in_flight_for(self, account_id: str) -> list[CardPayment]:
        t = orm.card_payments
        rows = self.connection.execute(
            select(t).where(t.c.account_id == account_id, t.c.status.in_(["pending", "unknown"])))
        return [_card_payment(r) for r in rows]

    def unsettled(self) -> list[CardPayment]:
        t = orm.card_payments
        rows = self.connection.execute(
            select(t).where(t.c.status.in_(["pending", "unknown"])).order_by(t.c.created_at).limit(1000))
        return [_card_payment(r) for r in rows]


def _card_payment_row(p: CardPayment) -> dict[str, Any]:
    return {
        "id": p.id, "account_id": p.account_id, "idempotency_key": p.idempotency_key,
        "gateway_key": p.gateway_key, "fingerprint": p.fingerprint, "token": p.token,
        "currency": p.amount.currency, "amount_minor": p.amount.amount_minor,
        "allocation": ",".join(f"{i}:{m}" for i, m in p.allocation),
        "payer_email": p.payer_email, "payer_user_id": p.payer_user_id, "status": p.status.value,
        "created_at": to_utc(p.created_at), "settled_at": to_utc(p.settled_at) if p.settled_at else None,
        "charge_id": p.charge_id, "decline_code": p.decline_code, "receipt_id": p.receipt_id,
    }


def _card_payment(row: Any) -> CardPayment:
    allocation = tuple((part.rsplit(":", 1)[0], int(part.rsplit(":", 1)[1]))
                       for part in row.allocation.split(",") if part)
    return CardPayment(
        id=row.id, account_id=row.account_id, idempotency_key=row.idempotency_key, gateway_key=row.gateway_key,
        fingerprint=row.fingerprint, token=row.token, amount=Money(int(row.amount_minor), row.currency),
        allocation=allocation, payer_email=row.payer_email, payer_user_id=row.payer_user_id,
        status=CardPaymentStatus(row.status), created_at=aware_utc(row.created_at),
        settled_at=aware_utc(row.settled_at) if row.settled_at else None, charge_id=row.charge_id,
        decline_code=row.decline_code, receipt_id=row.receipt_id)


class SqlPurchaseOrderRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, po: PurchaseOrder) -> None:
        self.connection.execute(insert(orm.purchase_orders).values(**_po_row(po)))

    def update(self, po: PurchaseOrder) -> None:
        t = orm.purchase_orders
        self.connection.execute(update(t).where(t.c.id == po.id).values(**_po_row(po)))

    def get(self, account_id: str, po_id: str, *, for_update: bool = False) -> PurchaseOrder | None:
        t = orm.purchase_orders
        query = select(t).where(t.c.account_id == account_id, t.c.id == po_id)
        if for_update:
            query = query.with_for_update()
        rows = self.connection.execute(query).all()
        found = self._with_invoiced(rows)
        return found[0] if found else None

    def by_number(self, account_id: str, number: str) -> PurchaseOrder | None:
        t = orm.purchase_orders
        rows = self.connection.execute(select(t).where(t.c.account_id == account_id, t.c.number == number)).all()
        found = self._with_invoiced(rows)
        return found[0] if found else None

    def for_account(self, account_id: str) -> list[PurchaseOrder]:
        t = orm.purchase_orders
        rows = self.connection.execute(
            select(t).where(t.c.account_id == account_id).order_by(t.c.valid_to.desc(), t.c.number)).all()
        return self._with_invoiced(rows)

    def notices_pending(self, notice: PoNotice, valid_on_or_after: dt.date) -> list[PurchaseOrder]:
        """POs still valid on that day whose `notice` was not sent yet (the job checks which are due)."""
        t = orm.purchase_orders
        sent = t.c.expiry_notice_sent_at if notice is PoNotice.EXPIRES_SOON else t.c.usage_notice_sent_at
        rows = self.connection.execute(
            select(t).where(sent.is_(None), t.c.valid_to >= valid_on_or_after).order_by(t.c.id).limit(1000)).all()
        return self._with_invoiced(rows)

    def mark_notice(self, po_id: str, notice: PoNotice, at: dt.datetime) -> bool:
        """Record the notice as sent; False when another process did already."""
        t = orm.purchase_orders
        column = "expiry_notice_sent_at" if notice is PoNotice.EXPIRES_SOON else "usage_notice_sent_at"
        done = self.connection.execute(
            update(t).where(t.c.id == po_id, t.c[column].is_(None)).values({column: to_utc(at)}))
        return bool(done.rowcount)

    def _with_invoiced(self, rows: Sequence[Any]) -> list[PurchaseOrder]:
        if not rows:
            return []
        invoiced: dict[tuple[str, str], int] = {}
        keys = {(r.account_id, r.number) for r in rows}
        for account_id in {k[0] for k in keys}:
            numbers = [k[1] for k in keys if k[0] == account_id]
            for number, total in self.connection.execute(
                    select(_inv.c.po_number, func.sum(_inv.c.total_minor))
                    .where(_inv.c.account_id == account_id, _inv.c.po_number.in_(numbers), _inv.c.status != "void")
                    .group_by(_inv.c.po_number)):
                invoiced[(account_id, number)] = int(total)
        return [
            PurchaseOrder(id=r.id, account_id=r.account_id, number=r.number,
                          amount=Money(int(r.amount_minor), r.currency), valid_from=r.valid_from,
                          valid_to=r.valid_to, notes=r.notes,
                          invoiced=Money(invoiced.get((r.account_id, r.number), 0), r.currency))
            for r in rows]


def _po_row(po: PurchaseOrder) -> dict[str, Any]:
    return {"id": po.id, "account_id": po.account_id, "number": po.number, "currency": po.currency,
            "amount_minor": po.amount.amount_minor, "valid_from": po.valid_from, "valid_to": po.valid_to,
            "notes": po.notes}


class SqlOutbox:
    """Mail written in the unit of work's transaction; the outbox dispatcher sends it later."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, mail: OutgoingMail, at: dt.datetime) -> None:
        enqueue(self.connection, orm.outbox, mail, at)
