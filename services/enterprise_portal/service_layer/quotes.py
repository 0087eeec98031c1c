"""The quote use cases: a rep drafts, sends and revises; a billing contact reads, comments,
requests changes, accepts with a PO or declines with a reason.

Who may call which is the caller's check (the Enterprise portal web asks identity: a rep only
for an account they serve, S14; a contact only for their own account). Here every quote is
looked up through `account_id`, so another account's number is NotFound (S13), and a
customer never sees a draft: a quote with no sent version is NotFound to them.

Mails go to the outbox in the use case's transaction. The contacts' addresses are identity's,
so the caller passes them in (`recipients`); the rep's address is stored on the quote.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from billing_common.clock import utc
from billing_common.errors import InvalidArgument, NotFound
from billing_common.invoicing.pdf import InvoiceLine, InvoiceView, render_invoice_pdf
from billing_common.invoicing.profile import BillingProfile
from billing_common.money import is_currency
from billing_common.outbox import OutgoingMail
from billing_common.validation import require_id
from services.enterprise_portal.domain.lines import Line
from services.enterprise_portal.domain.purchase_orders import validate_po_number
from services.enterprise_portal.domain.quotes import (
    Author,
    CommentKind,
    Quote,
    QuoteComment,
    QuoteStatus,
    QuoteVersion,
)
from services.enterprise_portal.service_layer import quote_messages
from services.enterprise_portal.service_layer.dependencies import Dependencies
from services.enterprise_portal.service_layer.ports import UnitOfWork

MAX_NAME = 200
MAX_RECIPIENTS = 50


@dataclass(frozen=True, slots=True)
class Recipient:
    email: str
    locale: str = "en"


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


def _recipients(recipients: Sequence[Recipient]) -> tuple[Recipient, ...]:
    if len(recipients) > MAX_RECIPIENTS:
        raise InvalidArgument(f"at most {MAX_RECIPIENTS} recipients", field="recipients")
    for r in recipients:
        if "@" not in r.email or len(r.email) > 320 or not r.email.isprintable() or any(c in r.email for c in " ,;<>"):
            raise InvalidArgument("a recipient is an email address", field="recipients")
    return tuple(recipients)


def _rep(rep: Rep) -> Rep:
    require_id(rep.user_id, "rep_user_id")
    _name(rep.name, "rep_name")
    _recipients([Recipient(rep.email)])
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


def _mail(kind: str, recipients: Sequence[Recipient], **values: object) -> list[OutgoingMail]:
    mails = []
    for r in recipients:
        localised = {k: v(r.locale) if callable(v) else v for k, v in values.items()}
        mails.append(quote_messages.render(kind, r.locale, to=r.email, **localised))
    return mails


def _send(uow: UnitOfWork, mails: Sequence[OutgoingMail], at: dt.datetime) -> None:
    for mail in mails:
        uow.outbox.add(mail, at)


def _total(version: QuoteVersion) -> object:
    return lambda locale: version.totals.total.format(locale)


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


def send_quote(deps: Dependencies, account_id: str, number: str, *, recipients: Sequence[Recipient]) -> Quote:
    """The draft sent: the customer sees it (and the earlier open versions are superseded)."""
    recipients = _recipients(recipients)
    today = _today(deps)
    with deps.uow() as uow:
        quote = _quote(uow, account_id, number, for_update=True).sent(today)
        uow.quotes.save(quote)
        version = quote.versions[-1]
        _send(uow, _mail("quote_sent", recipients, label=version.label, total=_total(version),
                                  valid_until=version.valid_until.isoformat(), terms=version.terms),
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
                     body: str, kind: CommentKind = CommentKind.COMMENT,
                     recipients: Sequence[Recipient] = ()) -> QuoteComment:
    """A message on the thread about the newest version the author sees. A contact's goes to
    the rep; a rep's to `recipients` (the contacts)."""
    _name(author_name, "author_name")
    recipients = _recipients(recipients)
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
        to = [Recipient(quote.rep_email)] if customer else list(recipients)
        template = "quote_change_request" if kind is CommentKind.CHANGE_REQUEST else "quote_comment"
        _send(uow, _mail(template, to, label=latest.label, author=author_name, body=body),
                            comment.written_at)
        uow.commit()
    return comment


def accept_quote(deps: Dependencies, account_id: str, number: str, version: int, *, po_number: str,
                 new_po: bool, by_name: str, recipients: Sequence[Recipient] = ()) -> Acceptance:
    """The contact accepts `version` with one of the account's valid POs or a new PO number:
    the accepted version is the order, its invoice(s) are issued on its terms with the PO,
    and the contacts and the rep are mailed, all in one transaction."""
    _name(by_name, "by_name")
    recipients = _recipients(recipients)
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
        quote = quote.accepted(version, today, po_number)
        uow.quotes.save(quote)
        accepted = quote.version(version)
        now = utc(deps.clock.now())
        to = [*recipients, Recipient(quote.rep_email)]
        invoices = tuple(deps.invoice_issuer.issue_for_quote(uow, quote, accepted, issued_on=today, at=now,
                                                             notify=[r.email for r in to]))
        _send(uow, _mail("quote_accepted", to, label=accepted.label, author=by_name, total=_total(accepted),
                                  po_number=po_number, terms=accepted.terms,
                                  invoices=(lambda loc: ", ".join(invoices) or quote_messages.none_yet(loc))),
                            utc(deps.clock.now()))
        uow.commit()
    return Acceptance(quote=quote, version=accepted, invoice_numbers=invoices)


def decline_quote(deps: Dependencies, account_id: str, number: str, version: int, *, reason: str, by_name: str,
                  recipients: Sequence[Recipient] = ()) -> Quote:
    """The contact declines `version` with a reason; the rep and the contacts are mailed."""
    _name(by_name, "by_name")
    recipients = _recipients(recipients)
    today = _today(deps)
    with deps.uow() as uow:
        quote = _quote(uow, account_id, number, for_update=True, customer=True)
        _visible_version(quote, version)
        quote = quote.declined(version, today, reason)
        uow.quotes.save(quote)
        to = [*recipients, Recipient(quote.rep_email)]
        _send(uow, _mail("quote_declined", to, label=quote.version(version).label, author=by_name,
                                  reason=reason), utc(deps.clock.now()))
        uow.commit()
    return quote
