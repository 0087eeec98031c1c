"""SQL repository of quotes (versions, lines, comment thread): rows in, domain
objects out. Every read of a quote goes through its account (S13)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from billing_common.db import aware_utc, lock_rows, to_utc
from billing_common.invoicing.numbering import next_number
from billing_common.money import Money
from services.enterprise_portal.adapters import orm
from services.enterprise_portal.domain.lines import Line, LineKind
from services.enterprise_portal.domain.quotes import (
    Author,
    CommentKind,
    Quote,
    QuoteComment,
    QuoteStatus,
    QuoteVersion,
    quote_number,
)

# The counter series of quote numbers in the gapless counter table.
QUOTE_SERIES = "QT"

_q, _v, _l, _c = orm.quotes, orm.quote_versions, orm.quote_lines, orm.quote_comments


class SqlQuoteRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def next_number(self) -> str:
        """QT-0042: the counter moves on in this transaction, and back if it rolls back (gapless)."""
        counter = int(next_number(self.connection, QUOTE_SERIES).rsplit("-", 1)[1])
        return quote_number(counter)

    def add(self, quote: Quote, at: dt.datetime) -> None:
        self.connection.execute(insert(_q).values(
            number=quote.number, account_id=quote.account_id, currency=quote.currency,
            rep_user_id=quote.rep_user_id, rep_email=quote.rep_email, created_at=to_utc(at)))
        self._insert_versions(quote, quote.versions)

    def save(self, quote: Quote) -> None:
        """Writes the quote's versions as they are now: versions are few, so they are replaced
        whole rather than diffed (a sent version never changes but for its status)."""
        self.connection.execute(delete(_l).where(_l.c.quote_number == quote.number))
        self.connection.execute(delete(_v).where(_v.c.quote_number == quote.number))
        self._insert_versions(quote, quote.versions)

    def get(self, account_id: str, number: str, *, for_update: bool = False) -> Quote | None:
        """The account's quote `number`, or None (another account's quote is None too, S13).
        `for_update` locks its row until the transaction ends, so two decisions take turns."""
        if for_update:
            lock_rows(self.connection, _q, "number", [number])
        row = self.connection.execute(
            select(_q).where(_q.c.number == number, _q.c.account_id == account_id)).first()
        return self._load([row])[0] if row is not None else None

    def for_account(self, account_id: str) -> list[Quote]:
        """The account's quotes, newest number first."""
        rows = self.connection.execute(
            select(_q).where(_q.c.account_id == account_id).order_by(_q.c.number.desc())).all()
        return self._load(rows)

    def page_for_account(self, account_id: str, *, customer: bool, status: QuoteStatus | None, today: dt.date,
                         limit: int, after: str = "") -> tuple[list[Quote], bool]:
        """Up to `limit` of the account's quotes, newest number first, after the number `after`
        (the last of the page before), whose newest version the viewer may see (a customer: not
        a draft) has `status` today, and whether more follow. The filter runs in SQL, like
        domain.quotes' status_on: an open version past its validity date is expired; only the
        page's quotes are loaded (an account may have thousands)."""
        # Each quote's shown version is tested as the walk along ix_quotes_account_id_number
        # reaches it (a correlated EXISTS), so the walk stops at the page's end.
        newer = _v.alias("newer")
        later = select(newer.c.version).where(newer.c.quote_number == _v.c.quote_number,
                                              newer.c.version > _v.c.version)
        test = select(_v.c.version).where(_v.c.quote_number == _q.c.number)
        if customer:
            later = later.where(newer.c.status != QuoteStatus.DRAFT.value)
            test = test.where(_v.c.status != QuoteStatus.DRAFT.value)
        test = test.where(~later.correlate(_v).exists())
        if status is QuoteStatus.EXPIRED:
            test = test.where(_v.c.status == QuoteStatus.OPEN.value, _v.c.valid_until < today)
        elif status is QuoteStatus.OPEN:
            test = test.where(_v.c.status == QuoteStatus.OPEN.value, _v.c.valid_until >= today)
        elif status is not None:
            test = test.where(_v.c.status == status.value)
        query = select(_q).where(_q.c.account_id == account_id, test.correlate(_q).exists())
        if after:
            query = query.where(_q.c.number < after)
        rows = self.connection.execute(query.order_by(_q.c.number.desc()).limit(limit + 1)).all()
        return self._load(rows[:limit]), len(rows) > limit

    def add_comment(self, comment: QuoteComment) -> None:
        c = comment
        self.connection.execute(insert(_c).values(
            quote_number=c.quote_number, version=c.version, author=c.author.value, author_name=c.author_name,
            kind=c.kind.value, body=c.body, written_at=to_utc(c.written_at)))

    def comments(self, number: str) -> list[QuoteComment]:
        rows = self.connection.execute(
            select(_c).where(_c.c.quote_number == number).order_by(_c.c.written_at, _c.c.id)).all()
        return [QuoteComment(quote_number=r.quote_number, version=r.version, author=Author(r.author),
                             author_name=r.author_name, kind=CommentKind(r.kind), body=r.body,
                             written_at=aware_utc(r.written_at)) for r in rows]

    def _insert_versions(self, quote: Quote, versions: Sequence[QuoteVersion]) -> None:
        if not versions:
            return
        self.connection.execute(insert(_v), [
            {"quote_number": quote.number, "version": v.version, "valid_until": v.valid_until, "terms": v.terms,
             "status": v.status.value, "sent_on": v.sent_on, "decided_on": v.decided_on,
             "decline_reason": v.decline_reason, "po_number": v.po_number}
            for v in versions
        ])
        lines = [
            {"quote_number": quote.number, "version": v.version, "position": n, "kind": line.kind.value,
             "description": line.description, "quantity": line.quantity,
             "unit_price_minor": line.unit_price.amount_minor, "discount_bp": line.discount_bp,
             "plan_code": line.plan_code}
            for v in versions for n, line in enumerate(v.lines, start=1)
        ]
        if lines:
            self.connection.execute(insert(_l), lines)

    def _load(self, rows: Sequence[Any]) -> list[Quote]:
        if not rows:
            return []
        numbers = [r.number for r in rows]
        versions: dict[str, list[Any]] = defaultdict(list)
        for v in self.connection.execute(
                select(_v).where(_v.c.quote_number.in_(numbers)).order_by(_v.c.quote_number, _v.c.version)):
            versions[v.quote_number].append(v)
        lines: dict[tuple[str, int], list[Any]] = defaultdict(list)
        for line in self.connection.execute(
                select(_l).where(_l.c.quote_number.in_(numbers))
                .order_by(_l.c.quote_number, _l.c.version, _l.c.position)):
            lines[(line.quote_number, line.version)].append(line)
        return [
            Quote(
                number=r.number, account_id=r.account_id, currency=r.currency,
                rep_user_id=r.rep_user_id, rep_email=r.rep_email,
                versions=tuple(_version(r.number, r.currency, v, lines[(r.number, v.version)])
                               for v in versions[r.number]),
            )
            for r in rows
        ]


def _version(number: str, currency: str, v: Any, line_rows: list[Any]) -> QuoteVersion:
    return QuoteVersion(
        quote_number=number, version=v.version, currency=currency,
        lines=tuple(Line(kind=LineKind(x.kind), description=x.description, quantity=x.quantity,
                         unit_price=Money(int(x.unit_price_minor), currency), discount_bp=x.discount_bp,
                         plan_code=x.plan_code) for x in line_rows),
        valid_until=v.valid_until, terms=v.terms, status=QuoteStatus(v.status), sent_on=v.sent_on,
        decided_on=v.decided_on, decline_reason=v.decline_reason, po_number=v.po_number,
    )
