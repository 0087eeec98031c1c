"""The quote use cases: a rep drafts, sends and revises; a billing contact reads, comments,
requests changes, accepts with a PO or declines with a reason.

Who may call which is the caller's check (the Enterprise portal web asks identity: a rep only
for an account they serve, S14; a contact only for their own account). Here every quote is
looked up through `account_id`, so another account's number is NotFound (S13), and a
customer never sees a draft: a quote with no sent version is NotFound to them.

Mails go to the outbox in the use case's transaction, addressed when sent to the account's
billing contacts and the quote's rep, each in their language (service_layer.mails: identity
owns people); the rep's address stored on the quote is the fallback when identity lists none.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from billing_common.clock import utc
from billing_common.errors import AlreadyExists, InvalidArgument, NotFound
from billing_common.invoicing.pdf import InvoiceLine, InvoiceView, render_invoice_pdf
from billing_common.invoicing.profile import BillingProfile
from billing_common.money import is_currency
from billing_common.validation import require_id
from services.enterprise_portal.domain.lines import Line
from services.enterprise_portal.domain.purchase_orders import PoNotice, PurchaseOrder, validate_po_number
from services.enterprise_portal.domain.quotes import (
    Author,
    CommentKind,
    Quote,
    QuoteComment,
    QuoteStatus,
    QuoteVersion,
)
from services.enterprise_portal.service_layer import mails
from services.enterprise_portal.service_layer.dependencies import Dependencies
from services.enterprise_portal.service_layer.ports import UnitOfWork

MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Rep:
    user_id: str
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class QuoteSummary:
    quote: Quote
    version: QuoteVersion  # the newest the caller may see
    status: QuoteStatus  # its status today


@dataclass(frozen=True, slots=True)
class QuoteDetail:
    quote: Quote  # to a customer, without its draft
    comments: tuple[QuoteComment, ...]
    today: dt.date
    valid_po_numbers: tuple[str, ...]  # what the contact may choose when accepting

    def status(self, version: QuoteVersion) -> QuoteStatus:
        return version.status_on(self.today)


@dataclass(frozen=True, slots=True)
class Acceptance:
    quote: Quote
    version: QuoteVersion
    invoice_numbers: tuple[str, ...]


def _today(deps: Dependencies) -> dt.date:
    return utc(deps.clock.now()).date()


def _name(value: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME or not value.isprintable():
        raise InvalidArgument(f"{field} is 1 to {MAX_NAME} printable characters", field=field)
    return value


def _rep(rep: Rep) -> Rep:
    require_id(rep.user_id, "rep_user_id")
    _name(rep.name, "rep_name")
    e = rep.email
    if "@" not in e or len(e) > 320 or not e.isprintable() or any(c in e for c in " ,;<>"):
        raise InvalidArgument("the rep's email is an email address", field="rep_email")
    return rep


def _quote(uow: UnitOfWork, account_id: str, number: str, *, for_update: bool = False,
           customer: bool = False) -> Quote:
    require_id(account_id, "account_id")
    quote = uow.quotes.get(account_id, number, for_update=for_update) if isinstance(number, str) and \
        len(number) <= 16 else None
    if quote is None or (customer and not quote.visible_versions()):
        raise NotFound(f"no quote {number}")
    return quote


def _visible_version(quote: Quote, version: int) -> None:
    """A customer's version number: a draft (the last version, when there is one) does not exist to them."""
    if not isinstance(version, int) or not 1 <= version <= len(quote.visible_versions()):
        raise InvalidArgument(f"{quote.number} has no version {version}", field="version")


def _mail(quote: Quote, kind: str, audience: str, **values: object) -> mails.EnterpriseMail:
    return mails.quote_event(quote.account_id, kind, audience, rep_user_id=quote.rep_user_id,
                             rep_email=quote.rep_email, quote_number=quote.number, **values)


def _amounts(version: QuoteVersion) -> dict[str, object]:
    total = version.totals.total
    return {"total_minor": total.amount_minor, "currency": total.currency}


def draft_quote(deps: Dependencies, account_id: str, *, rep: Rep, lines: Sequence[Line], valid_until: dt.date,
                terms: str, currency: str = "", number: str = "") -> Quote:
    """A new quote with its first draft (no `number`), or `number`'s draft edited in place, or
    a new draft version of it (the rep's revision after the customer's comments)."""
    require_id(account_id, "account_id")
    _rep(rep)
    today = _today(deps)
    with deps.uow() as uow:
        if number:
            quote = _quote(uow, account_id, number, for_update=True)
            quote = quote.drafted(tuple(lines), valid_until, terms, today)
            uow.quotes.save(quote)
        else:
            if not isinstance(currency, str) or not is_currency(currency):
                raise InvalidArgument("currency is an ISO 4217 code", field="currency")
            quote = Quote(number=uow.quotes.next_number(), account_id=account_id, currency=currency,
                          rep_user_id=rep.user_id, rep_email=rep.email)
            quote = quote.drafted(tuple(lines), valid_until, terms, today)
            uow.quotes.add(quote, utc(deps.clock.now()))
        uow.commit()
    return quote


def send_quote(deps: Dependencies, account_id: str, number: str) -> Quote:
    """The draft sent: the customer sees it (and the earlier open versions are superseded); the
    contacts are mailed (a second version or later: "a new version for you")."""
    today = _today(deps)
    with deps.uow() as uow:
        quote = _quote(uow, account_id, number, for_update=True).sent(today)
        uow.quotes.save(quote)
        version = quote.versions[-1]
        kind = mails.QUOTE_SENT if version.version == 1 else mails.QUOTE_REVISED
        mails.write(uow, [_mail(quote, kind, mails.CONTACTS, label=version.label, **_amounts(version),
                                valid_until=version.valid_until.isoformat(), terms=version.terms)],
                    utc(deps.clock.now()))
        uow.commit()
    return quote


def list_quotes(deps: Dependencies, account_id: str, *, customer: bool,
                status: QuoteStatus | None = None) -> list[QuoteSummary]:
    """The account's quotes, newest first, each with the newest version the caller may see
    and its status today; `status` keeps only those in it. A customer's list has no drafts."""
    require_id(account_id, "account_id")
    today = _today(deps)
    with deps.uow() as uow:
        quotes = uow.quotes.for_account(account_id)
    summaries = []
    for quote in quotes:
        versions = quote.visible_versions() if customer else quote.versions
        if not versions:
            continue
        summary = QuoteSummary(quote, versions[-1], versions[-1].status_on(today))
        if status is None or summary.status is status:
            summaries.append(summary)
    return summaries


# A page of the quotes list at most (the web asks for fewer).
MAX_QUOTE_PAGE = 200


@dataclass(frozen=True, slots=True)
class QuotePage:
    summaries: tuple[QuoteSummary, ...]
    next_after: str | None  # the last number of this page when more follow


def quote_page(deps: Dependencies, account_id: str, *, customer: bool, status: QuoteStatus | None = None,
               size: int, after: str = "") -> QuotePage:
    """One page of list_quotes (`size` quotes, after the number `after`): a keyset page whose
    status filter runs in SQL, so an account with 1,000 quotes costs what one with 10 does."""
    require_id(account_id, "account_id")
    if not 1 <= size <= MAX_QUOTE_PAGE:
        raise InvalidArgument(f"a page has 1 to {MAX_QUOTE_PAGE} quotes", field="page_size")
    if not isinstance(after, str) or len(after) > 16:
        raise InvalidArgument("page_token is the last quote number of a page", field="page_token")
    today = _today(deps)
    with deps.uow() as uow:
        quotes, more = uow.quotes.page_for_account(account_id, customer=customer, status=status, today=today,
                                                   limit=size, after=after)
    summaries = []
    for quote in quotes:
        versions = quote.visible_versions() if customer else quote.versions
        summaries.append(QuoteSummary(quote, versions[-1], versions[-1].status_on(today)))
    return QuotePage(tuple(summaries), quotes[-1].number if more and quotes else None)


def get_quote(deps: Dependencies, account_id: str, number: str, *, customer: bool) -> QuoteDetail:
    """Every version the caller may read (a customer: all but a draft) and the thread."""
    today = _today(deps)
    with deps.uow() as uow:
        quote = _quote(uow, account_id, number, customer=customer)
        comments = tuple(uow.quotes.comments(quote.number))
        pos = tuple(deps.invoice_issuer.valid_po_numbers(uow, account_id, today))
    if customer:
        quote = replace(quote, versions=quote.visible_versions())
    return QuoteDetail(quote=quote, comments=comments, today=today, valid_po_numbers=pos)


def quote_pdf(deps: Dependencies, account_id: str, number: str, version: int, *, customer: bool,
              buyer_name: str, language: str = "en") -> tuple[QuoteVersion, bytes]:
    """One version as a PDF in `language` (en or pt-BR), on billing_common's invoice layout,
    rendered outside any transaction. `buyer_name` is the account's name (identity's)."""
    _name(buyer_name, "buyer_name")
    if not isinstance(language, str) or len(language) > 16:
        raise InvalidArgument("language must be a language tag such as en or pt-BR", field="language")
    detail = get_quote(deps, account_id, number, customer=customer)
    if not isinstance(version, int) or not 1 <= version <= len(detail.quote.versions):
        raise InvalidArgument(f"{number} has no version {version}", field="version")
    v = detail.quote.versions[version - 1]
    view = InvoiceView(
        number=v.label, status=detail.status(v).value, issue_date=v.sent_on or detail.today, due_date=v.valid_until,
        currency=v.currency, seller=deps.vendor,
        buyer=BillingProfile(company_name=buyer_name, address_line1="", city="", country=""),
        lines=tuple(InvoiceLine(_describe(line, language), line.quantity, line.unit_price.amount_minor,
                                line.amount.amount_minor) for line in v.lines),
        po_number=v.po_number, document="quote", terms=v.terms)
    return v, render_invoice_pdf(view, language or "en")


def _describe(line: Line, language: str) -> str:
    """The line's description, with its discount when it has one: "... (-15%)"."""
    if not line.discount_bp:
        return line.description
    percent = f"{line.discount_bp / 100:g}"
    return f"{line.description} (-{percent.replace('.', ',') if language.startswith('pt') else percent}%)"


def comment_on_quote(deps: Dependencies, account_id: str, number: str, *, author: Author, author_name: str,
                     body: str, kind: CommentKind = CommentKind.COMMENT) -> QuoteComment:
    """A message on the thread about the newest version the author sees. A contact's goes to
    the rep; a rep's to the contacts."""
    _name(author_name, "author_name")
    customer = author is Author.CONTACT
    with deps.uow() as uow:
        quote = _quote(uow, account_id, number, customer=customer)
        versions = quote.visible_versions() if customer else quote.versions
        latest = versions[-1] if versions else None
        if latest is None:
            raise InvalidArgument("draft a version before writing on the quote", field="number")
        comment = QuoteComment(quote_number=quote.number, version=latest.version, author=author,
                               author_name=author_name, kind=kind, body=body, written_at=utc(deps.clock.now()))
        uow.quotes.add_comment(comment)
        template = mails.QUOTE_CHANGE_REQUEST if kind is CommentKind.CHANGE_REQUEST else mails.QUOTE_COMMENT
        mails.write(uow, [_mail(quote, template, mails.REP if customer else mails.CONTACTS, label=latest.label,
                                author=author_name, body=body)], comment.written_at)
        uow.commit()
    return comment


def accept_quote(deps: Dependencies, account_id: str, number: str, version: int, *, po_number: str,
                 new_po: bool, by_name: str) -> Acceptance:
    """The contact accepts `version` with one of the account's valid POs or a new PO number:
    the accepted version is the order, its invoice(s) are issued on its terms with the PO,
    and the contacts and the rep are mailed, all in one transaction."""
    _name(by_name, "by_name")
    try:
        validate_po_number(po_number)
    except InvalidArgument as e:
        raise InvalidArgument(str(e), field="po_number") from None
    today = _today(deps)
    with deps.uow() as uow:
        quote = _quote(uow, account_id, number, for_update=True, customer=True)
        _visible_version(quote, version)
        if not new_po and po_number not in deps.invoice_issuer.valid_po_numbers(uow, account_id, today):
            raise InvalidArgument(f"{po_number} is not one of the account's valid purchase orders",
                                  field="po_number")
        quote = quote.accepted(version, today, po_number)  # a version no longer open: FailedPrecondition first
        if new_po and uow.purchase_orders.by_number(account_id, po_number) is not None:
            # Registering it again would fail (one number per account) and editing it here would
            # change a PO behind its owner's back: the contact picks it from the list instead.
            raise AlreadyExists(f"{po_number} is already a purchase order of the account: choose it from the list",
                                field="po_number")
        uow.quotes.save(quote)
        accepted = quote.version(version)
        now = utc(deps.clock.now())
        if new_po and accepted.totals.total.amount_minor > 0:
            entered = _po_entered_on_acceptance(account_id, po_number, accepted, today)
            uow.purchase_orders.add(entered)
            # Made for exactly this order, it is used up by its invoice: "80% used" would only
            # tell the contact what they just did.
            uow.purchase_orders.mark_notice(entered.id, PoNotice.MOSTLY_USED, now)
        invoices = tuple(deps.invoice_issuer.issue_for_quote(uow, quote, accepted, issued_on=today, at=now))
        mails.write(uow, [_mail(quote, mails.QUOTE_ACCEPTED, mails.CONTACTS_AND_REP, label=accepted.label,
                                author=by_name, **_amounts(accepted), po_number=po_number, terms=accepted.terms,
                                invoices=list(invoices))], now)
        uow.commit()
    return Acceptance(quote=quote, version=accepted, invoice_numbers=invoices)


def _po_entered_on_acceptance(account_id: str, number: str, accepted: QuoteVersion, day: dt.date) -> PurchaseOrder:
    """The PO a contact typed when accepting (README "A new PO number typed at acceptance"):
    the order's total in the quote's currency, valid for a year from the acceptance, so the
    invoice it carries is covered; the contact can edit it afterwards."""
    try:
        a_year_later = day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        a_year_later = day.replace(year=day.year + 1, day=28)
    return PurchaseOrder(id=str(uuid.uuid4()), account_id=account_id, number=number,
                         amount=accepted.totals.total, valid_from=day,
                         valid_to=a_year_later - dt.timedelta(days=1), notes=f"Entered when accepting {accepted.label}")


def decline_quote(deps: Dependencies, account_id: str, number: str, version: int, *, reason: str, by_name: str
                  ) -> Quote:
    """The contact declines `version` with a reason; the rep and the contacts are mailed."""
    _name(by_name, "by_name")
    today = _today(deps)
    with deps.uow() as uow:
        quote = _quote(uow, account_id, number, for_update=True, customer=True)
        _visible_version(quote, version)
        quote = quote.declined(version, today, reason)
        uow.quotes.save(quote)
        mails.write(uow, [_mail(quote, mails.QUOTE_DECLINED, mails.CONTACTS_AND_REP,
                                label=quote.version(version).label, author=by_name, reason=reason)],
                    utc(deps.clock.now()))
        uow.commit()
    return quote
