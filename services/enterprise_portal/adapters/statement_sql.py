"""One page of a statement's entries, and its aging, computed by the database.

The rules are domain.statement's (the in-memory fake runs them in Python and the repository
contract tests hold both to the same answers); here an account with 10,000 invoices costs what
one with 10 does: the period's movements are read by index, each entry's running balance is a
window sum over the period in SQL, and only one page of entries leaves the database. The aging
sums, per bucket, what the invoices that may still owe at the period's end owed then.

A page's cursor is the key of an entry: (day, kind, reference, the row's id), the last making
it unique, so a page stays where it is while newer entries are added.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    case,
    cast,
    func,
    literal,
    null,
    select,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from billing_common.errors import InvalidArgument
from billing_common.money import Money
from services.enterprise_portal.adapters import orm
from services.enterprise_portal.domain.statement import EntryKind, EntryPage, StatementEntry

_inv, _pay, _rec, _cre = orm.invoices, orm.payments, orm.receipts, orm.credits
_KINDS = {0: EntryKind.INVOICE, 1: EntryKind.PAYMENT, 2: EntryKind.CREDIT, 3: EntryKind.CREDIT_APPLIED}


class utc_day(FunctionElement[dt.date]):  # noqa: N801 - an SQL function's name
    """The UTC calendar day of a stored moment (stored as UTC: billing_common.db.to_utc)."""
    type = Date()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: Any, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


def _moment(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def _moves(account_id: str, start: dt.date, end: dt.date) -> Any:
    """Every movement of the period as (day, kind, reference, amount, change, invoice number, id)."""
    since, until = _moment(start), _moment(end + dt.timedelta(days=1))
    none = cast(null(), _inv.c.number.type)
    invoices = select(
        _inv.c.issued_on.label("day"), literal(0).label("kind"), _inv.c.number.label("reference"),
        _inv.c.total_minor.label("amount"), _inv.c.total_minor.label("change"), none.label("invoice_number"),
        _inv.c.id.label("row_id"),
    ).where(_inv.c.account_id == account_id, _inv.c.status != "void", _inv.c.issued_on >= start,
            _inv.c.issued_on <= end)
    # Payments stored before receipts existed count on their own (domain.statement).
    legacy = select(
        utc_day(_pay.c.received_at), literal(1), _pay.c.id, _pay.c.amount_minor, -_pay.c.amount_minor,
        _inv.c.number, _pay.c.id,
    ).select_from(_pay.join(_inv, _inv.c.id == _pay.c.invoice_id)).where(
        _inv.c.account_id == account_id, _inv.c.status != "void", _pay.c.receipt_id.is_(None),
        _pay.c.credit_id.is_(None), _pay.c.received_at >= since, _pay.c.received_at < until)
    receipts = select(
        utc_day(_rec.c.received_at), literal(1),
        case((_rec.c.reference != "", _rec.c.reference), else_=_rec.c.id), _rec.c.amount_minor,
        -_rec.c.amount_minor, none, _rec.c.id,
    ).where(_rec.c.account_id == account_id, _rec.c.received_at >= since, _rec.c.received_at < until)
    credits = select(
        utc_day(_cre.c.created_at), literal(2), _cre.c.id, _cre.c.amount_minor,
        case((_cre.c.receipt_id.is_(None), -_cre.c.amount_minor), else_=0), none, _cre.c.id,
    ).where(_cre.c.account_id == account_id, _cre.c.created_at >= since, _cre.c.created_at < until)
    spent_on = _inv.alias("spent_on")
    applied = select(
        utc_day(_pay.c.received_at), literal(3), _cre.c.id, _pay.c.amount_minor, literal(0), spent_on.c.number,
        _pay.c.id,
    ).select_from(_pay.join(_cre, _cre.c.id == _pay.c.credit_id)
                  .outerjoin(spent_on, spent_on.c.id == _pay.c.invoice_id)).where(
        _cre.c.account_id == account_id, _pay.c.received_at >= since, _pay.c.received_at < until)
    return union_all(invoices, legacy, receipts, credits, applied).subquery("moves")


def _cursor(row: Any) -> str:
    return f"{row.day.isoformat()}~{row.kind}~{row.row_id}~{row.reference}"


def _parse(text: str, field: str) -> tuple[dt.date, int, str, str]:
    try:
        day, kind, row_id, reference = text.split("~", 3)
        return dt.date.fromisoformat(day), int(kind), reference, row_id
    except ValueError:
        raise InvalidArgument("not a statement page's cursor", field=field) from None


def statement_page(conn: Connection, account_id: str, start: dt.date, end: dt.date, opening: int, currency: str,
                   size: int, *, before: str = "", after: str = "") -> tuple[EntryPage, int]:
    """Up to `size` entries of the period (domain.statement.page_of_entries' contract): the
    newest, or those just before the cursor `before`, or just after `after`; each with its
    running balance from `opening`. With what the whole period moved the balance by."""
    moves = _moves(account_id, start, end)
    order = (moves.c.day, moves.c.kind, moves.c.reference, moves.c.row_id)
    ledger = select(
        *moves.c, func.sum(moves.c.change).over(order_by=order, rows=(None, 0)).label("running"),
        func.row_number().over(order_by=order).label("position"), func.count().over().label("total"),
        func.sum(moves.c.change).over().label("period_change"),
    ).subquery("ledger")
    key = tuple_(ledger.c.day, ledger.c.kind, ledger.c.reference, ledger.c.row_id)
    newest_first = (ledger.c.day.desc(), ledger.c.kind.desc(), ledger.c.reference.desc(), ledger.c.row_id.desc())
    oldest_first = (ledger.c.day, ledger.c.kind, ledger.c.reference, ledger.c.row_id)
    query = select(ledger)
    if before:
        query = query.where(key < tuple_(*_parse(before, "before"))).order_by(*newest_first)
    elif after:
        query = query.where(key > tuple_(*_parse(after, "after"))).order_by(*oldest_first)
    else:
        query = query.order_by(*newest_first)
    rows = sorted(conn.execute(query.limit(size)).all(), key=lambda r: int(r.position))
    if not rows and (before or after):  # past either end (the period changed): the newest page
        return statement_page(conn, account_id, start, end, opening, currency, size)
    total = int(rows[0].total) if rows else 0
    entries = tuple(
        StatementEntry(on=r.day, kind=_KINDS[int(r.kind)], reference=r.reference,
                       amount=Money(int(r.amount), currency), change=Money(int(r.change), currency),
                       balance=Money(opening + int(r.running), currency), invoice_number=r.invoice_number)
        for r in rows)
    page = EntryPage(entries=entries, older=_cursor(rows[0]) if rows and rows[0].position > 1 else None,
                     newer=_cursor(rows[-1]) if rows and rows[-1].position < total else None, total=total)
    return page, int(rows[0].period_change) if rows else 0


def aging_buckets(conn: Connection, account_id: str, end: dt.date) -> tuple[int, int, int, int, int]:
    """What the account's invoices owed at the end of `end`, by days past due (not yet due,
    1-30, 31-60, 61-90, over 90): only those that may still owe then are read (open now, or
    paid after it), by index."""
    until = _moment(end + dt.timedelta(days=1))
    paid_later = select(_pay.c.invoice_id).where(_pay.c.received_at >= until).subquery("later")
    mine = _inv.c.account_id == account_id
    columns = (_inv.c.id, _inv.c.due_on, _inv.c.total_minor)
    owing = union(
        select(*columns).where(mine, _inv.c.status == "open", _inv.c.issued_on <= end),
        select(*columns).select_from(paid_later.join(_inv, _inv.c.id == paid_later.c.invoice_id))
        .where(mine, _inv.c.status != "void", _inv.c.issued_on <= end)).subquery("owing")
    paid = (select(func.coalesce(func.sum(_pay.c.amount_minor), 0))
            .where(_pay.c.invoice_id == owing.c.id, _pay.c.received_at < until).scalar_subquery())
    due = owing.c.due_on
    bucket = case(
        (due >= end, 0), (due >= end - dt.timedelta(days=30), 1), (due >= end - dt.timedelta(days=60), 2),
        (due >= end - dt.timedelta(days=90), 3), else_=4)
    owed = select(bucket.label("bucket"), (owing.c.total_minor - paid).label("owed")).subquery("owed")
    sums = [0, 0, 0, 0, 0]
    for which, amount in conn.execute(select(owed.c.bucket, func.sum(owed.c.owed)).group_by(owed.c.bucket)):
        sums[int(which)] = int(amount)
    return sums[0], sums[1], sums[2], sums[3], sums[4]

