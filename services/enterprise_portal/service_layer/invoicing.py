"""Invoices on terms: issuing one (the use case quote acceptance and the demo data call), the
paged list, one invoice, its PDF, and the statement of account.

Every read takes the caller's account id and finds objects only within that account, so
another account's invoice id answers NotFound (S13). Which account a signed-in person may
read is the web tier's check (a contact: their own; a rep: the accounts identity lists as
theirs, S14); this service trusts its one caller (billing_common.service_auth).
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from billing_common.clock import utc
from billing_common.errors import InvalidArgument, NotFound
from billing_common.invoicing.numbering import yearly_series
from billing_common.invoicing.pdf import InvoiceLine, InvoiceView, render_invoice_pdf
from billing_common.invoicing.profile import BillingProfile
from billing_common.money import Money
from billing_common.validation import require_id
from services.enterprise_portal.domain.lines import Line, totals
from services.enterprise_portal.domain.model import DEFAULT_CURRENCY, Invoice, InvoiceState, InvoiceStatus
from services.enterprise_portal.domain.payments import apply_credits
from services.enterprise_portal.domain.purchase_orders import PoNotice, PoProblem, po_problem, validate_po_number
from services.enterprise_portal.domain.statement import (
    Aging,
    EntryPage,
    Statement,
    StatementEntry,
    page_of_entries,
    statement,
)
from services.enterprise_portal.domain.terms import PaymentTerms
from services.enterprise_portal.service_layer import mails
from services.enterprise_portal.service_layer.dependencies import Dependencies
from services.enterprise_portal.service_layer.ports import UnitOfWork

FIRST_PAGE = 20  # the seed's portal shows the last 20 invoices first
MAX_PAGE = 200
MAX_STATEMENT_DAYS = 366 * 5
# A statement page's entries at most (the page asks for fewer; 0 asks for all, as the PDF).
MAX_STATEMENT_PAGE = 500
# The days a statement may start and end on: its queries look a day past the end and its
# default start is 89 days before the end, which Python's dates cannot do at their very ends
# (9999-12-31 answered INTERNAL before; S24 asks for INVALID_ARGUMENT naming the field).
FIRST_STATEMENT_DAY, LAST_STATEMENT_DAY = dt.date(1900, 1, 1), dt.date(9999, 12, 30)
_CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2})\|(.{1,32})")


@dataclass(frozen=True, slots=True)
class IssuedInvoice:
    invoice: Invoice
    po_problem: PoProblem | None


def issue_invoice(
    uow: UnitOfWork,
    account_id: str,
    lines: Sequence[Line],
    terms: str,
    po_number: str | None,
    *,
    issued_on: dt.date,
    at: dt.datetime,
    invoice_prefix: str = "EP",
) -> IssuedInvoice:
    """Issue an invoice of `lines` on `terms` with `po_number` in the caller's unit of work
    (commit is the caller's, so a quote's acceptance and its invoice are one transaction).

    The number is the next of the year's gapless series (EP-2026-000001). Credit on the
    account is spent on it at once. An invoice without a PO that covers it is still issued,
    but flagged: stored with the problem and mailed to the contacts and the rep (service_layer.mails).
    When it brings its PO to 80% used, that notice is mailed once too.
    Raises InvalidArgument naming the field (lines, terms, po_number, currency).
    """
    require_id(account_id, "account_id")
    if not lines:
        raise InvalidArgument("an invoice needs at least one line", field="lines")
    currency = lines[0].currency
    total = totals(lines, currency).total
    terms_text = str(PaymentTerms.parse(terms))
    if po_number:
        try:
            validate_po_number(po_number)
        except InvalidArgument as error:
            raise InvalidArgument(error.message, field="po_number") from None
    po = uow.purchase_orders.by_number(account_id, po_number) if po_number else None
    problem = po_problem(po_number or None, total, issued_on, [po] if po else [])
    number = uow.invoices.next_number(yearly_series(invoice_prefix, issued_on.year))
    invoice = Invoice(
        id=str(uuid.uuid4()), account_id=account_id, number=number, total=total, issued_on=issued_on,
        due_on=PaymentTerms.parse(terms_text).due_on(issued_on), terms=terms_text, status=InvoiceStatus.OPEN,
        po_number=po_number or None, lines=tuple(lines))
    credits = [c for c in uow.credits.for_account(account_id, for_update=True) if c.currency == currency]
    if total.amount_minor == 0:
        invoice = replace(invoice, status=InvoiceStatus.PAID)  # nothing to pay (a 100% discount)
    elif credits:
        invoice, _ = apply_credits(invoice, credits, at)
    uow.invoices.add(invoice, problem.value if problem else None)
    if problem is not None:
        mails.write(uow, [mails.po_flag(account_id, number, total, po_number, problem)], at)
    if po is not None and problem is None:
        after = uow.purchase_orders.get(account_id, po.id)
        if after is not None and after.usage_notice_due() and uow.purchase_orders.mark_notice(
                po.id, PoNotice.MOSTLY_USED, at):
            mails.write(uow, [mails.po_notice(after, PoNotice.MOSTLY_USED)], at)
    stored = uow.invoices.get(account_id, invoice.id)
    assert stored is not None
    return IssuedInvoice(stored, problem)


def issue(deps: Dependencies, account_id: str, lines: Sequence[Line], terms: str, po_number: str | None
          ) -> IssuedInvoice:
    """`issue_invoice` in its own transaction, today (the rep console's and the demo's)."""
    now = utc(deps.clock.now())
    with deps.uow() as uow:
        issued = issue_invoice(uow, account_id, lines, terms, po_number, issued_on=now.date(), at=now,
                               invoice_prefix=deps.invoice_prefix)
        uow.commit()
    return issued


@dataclass(frozen=True, slots=True)
class InvoiceListing:
    invoices: list[Invoice]
    flags: dict[str, str]
    next_page_token: str  # "" on the last page
    total_count: int
    as_of: dt.date


def _cursor(token: str) -> tuple[dt.date, str] | None:
    if not token:
        return None
    match = _CURSOR.fullmatch(token)
    try:
        if match is None:
            raise ValueError
        return dt.date.fromisoformat(match.group(1)), match.group(2)
    except ValueError:
        raise InvalidArgument("page_token is not one this service gave", field="page_token") from None


def list_invoices(deps: Dependencies, account_id: str, page_size: int = FIRST_PAGE, page_token: str = ""
                  ) -> InvoiceListing:
    """A page of the account's invoices, newest first (a keyset page: any page of any number
    of invoices costs the same). page_size 0 means the first page's 20."""
    require_id(account_id, "account_id")
    if not 0 <= page_size <= MAX_PAGE:
        raise InvalidArgument(f"page_size is 1 to {MAX_PAGE}", field="page_size")
    after = _cursor(page_token)
    with deps.uow() as uow:
        page = uow.invoices.page(account_id, page_size or FIRST_PAGE, after)
        count = uow.invoices.count(account_id)
    last = page.invoices[-1] if page.invoices else None
    token = f"{last.issued_on.isoformat()}|{last.number}" if page.has_more and last is not None else ""
    return InvoiceListing(page.invoices, page.flags, token, count, utc(deps.clock.now()).date())


@dataclass(frozen=True, slots=True)
class InvoiceDetail:
    invoice: Invoice
    po_problem: str | None
    as_of: dt.date

    @property
    def state(self) -> InvoiceState:
        return self.invoice.state(self.as_of)


def get_invoice(deps: Dependencies, account_id: str, invoice_id: str) -> InvoiceDetail:
    require_id(account_id, "account_id")
    require_id(invoice_id, "invoice_id")
    with deps.uow() as uow:
        invoice = uow.invoices.get(account_id, invoice_id)
        if invoice is None:
            raise NotFound("no such invoice")
        problem = uow.invoices.po_problem(invoice.id)
    return InvoiceDetail(invoice, problem, utc(deps.clock.now()).date())


def invoice_pdf(deps: Dependencies, account_id: str, invoice_id: str, language: str, buyer_name: str = "") -> bytes:
    """The invoice as a PDF (billing_common.invoicing.pdf), in `language` (en or pt-BR)."""
    detail = get_invoice(deps, account_id, invoice_id)
    invoice = detail.invoice
    buyer = BillingProfile(company_name=(buyer_name.strip() or account_id)[:200], address_line1="",
                           city="", country=deps.vendor.country)
    view = InvoiceView(
        number=invoice.number, status=detail.state.value, issue_date=invoice.issued_on, due_date=invoice.due_on,
        currency=invoice.currency, seller=deps.vendor, buyer=buyer,
        lines=tuple(InvoiceLine(line.description, line.quantity, line.unit_price.amount_minor,
                                line.amount.amount_minor) for line in invoice.lines)
        or (InvoiceLine(invoice.number, 1, invoice.total.amount_minor, invoice.total.amount_minor),),
        amount_paid_minor=invoice.amount_paid().amount_minor, po_number=invoice.po_number)
    return render_invoice_pdf(view, language)


def account_statement(deps: Dependencies, account_id: str, start: dt.date | None, end: dt.date | None
                      ) -> Statement:
    """The statement for the days `start` to `end` (default: the 90 days to today)."""
    found, opening = _statement(deps, account_id, start, end)
    return _shifted(found, opening, found.entries)


def _statement(deps: Dependencies, account_id: str, start: dt.date | None, end: dt.date | None
               ) -> tuple[Statement, int]:
    """The domain's statement of the period's records, and the account's opening balance."""
    require_id(account_id, "account_id")
    start, end = _period(deps, start, end)
    with deps.uow() as uow:
        # The period's records and the earlier invoices that may still owe, not the whole
        # history: an account with 10,000 invoices costs what one with 10 does (README).
        invoices = uow.invoices.for_statement(account_id, start, end)
        receipts = uow.receipts.received_until(account_id, end, start)
        credits = uow.credits.for_account(account_id)
        opening = uow.invoices.balance_before(account_id, start)
        currency = invoices[0].currency if invoices else uow.invoices.latest_currency(account_id)
    currency = currency or DEFAULT_CURRENCY
    credits = [c for c in credits if c.created_on <= end]
    return statement(account_id, currency, start, end, invoices, receipts, credits), opening


def _shifted(found: Statement, opening: int, entries: Sequence[StatementEntry]) -> Statement:
    """`found` with `entries` (all of its own, or a page of them), every balance moved by what
    the history before the records read owed: the domain's opening balance is theirs only."""
    currency = found.currency
    shift = opening - found.opening_balance.amount_minor
    if not shift:
        return found if entries is found.entries else replace(found, entries=tuple(entries))
    return replace(found, opening_balance=Money(opening, currency),
                   closing_balance=found.closing_balance + Money(shift, currency),
                   entries=tuple(replace(e, balance=e.balance + Money(shift, currency)) for e in entries))


def statement_page(deps: Dependencies, account_id: str, start: dt.date | None, end: dt.date | None, size: int,
                   *, before: str = "", after: str = "") -> tuple[Statement, EntryPage]:
    """The statement with one page of its entries (`size`; 0 for all): the period's newest, or
    those just before the cursor `before`, or just after `after` (domain.statement)."""
    if not 0 <= size <= MAX_STATEMENT_PAGE:
        raise InvalidArgument(f"a page has 0 to {MAX_STATEMENT_PAGE} entries", field="page_size")
    if not size:
        found = account_statement(deps, account_id, start, end)
        return found, page_of_entries(found.entries, 0)
    require_id(account_id, "account_id")
    start, end = _period(deps, start, end)
    # The page, the balances and the aging are summed by the database (adapters.statement_sql):
    # nothing of the period but the page's entries is loaded (README, "Performance").
    with deps.uow() as uow:
        currency = uow.invoices.latest_currency(account_id) or DEFAULT_CURRENCY
        opening = uow.invoices.balance_before(account_id, start)
        page, moved = uow.invoices.statement_page(account_id, start, end, opening, currency, size, before=before,
                                                  after=after)
        buckets = uow.invoices.aging_buckets(account_id, end)
        credits = uow.credits.for_account(account_id)
    unapplied = sum((c.remaining(end) for c in credits if c.created_on <= end), Money.zero(currency))
    current, d30, d60, d90, over = (Money(b, currency) for b in buckets)
    found = Statement(account_id=account_id, currency=currency, start=start, end=end,
                      opening_balance=Money(opening, currency), entries=page.entries,
                      closing_balance=Money(opening + moved, currency), aging=Aging(end, current, d30, d60, d90, over),
                      unapplied_credit=unapplied)
    return found, page


def _period(deps: Dependencies, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The statement's days: `start` to `end`, by default the 90 days to today."""
    for day, field in ((start, "start"), (end, "end")):
        if day is not None and not FIRST_STATEMENT_DAY <= day <= LAST_STATEMENT_DAY:
            raise InvalidArgument(f"{field} is a day from {FIRST_STATEMENT_DAY} to {LAST_STATEMENT_DAY}", field=field)
    today = utc(deps.clock.now()).date()
    end = end or today
    start = start or end - dt.timedelta(days=89)
    if end < start:
        raise InvalidArgument("a statement's period ends on or after the day it starts", field="end")
    if (end - start).days > MAX_STATEMENT_DAYS:
        raise InvalidArgument("a statement covers at most five years", field="start")
    return start, end


def money_of(amount_minor: int, currency: str, field: str) -> Money:
    try:
        return Money(amount_minor, currency)
    except ValueError:
        raise InvalidArgument(f"{field} needs a known currency", field=field) from None

