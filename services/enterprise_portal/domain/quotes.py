"""Quotes a rep negotiates with an enterprise account, version by version (plain Python).

A quote is numbered QT-0042 and each of its versions QT-0042-1, QT-0042-2, ...; every version
stays readable. The rep drafts a version (lines, validity date, payment terms) and sends it;
a draft is the rep's alone (`visible_to_customer`). Sending a version supersedes the versions
sent before it that are still open, so only the newest sent version can be decided on. The
contact accepts an open version (with a PO number) or declines it with a reason.

The stored status is draft, open, accepted, declined or superseded; a version's status on a
day (`status_on`) is *expired* when it is open and the day is after its validity date (the
validity day itself is still valid). A quote's payment terms are one of the four standard
ones (NET 30 by default, NET 45, NET 60, EOM). Only a version open on the day can be accepted or
declined: an expired, superseded, declined, accepted or draft one is refused, and once one
version is accepted no new version can be drafted.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from billing_common.errors import FailedPrecondition, InvalidArgument
from services.enterprise_portal.domain.lines import Line, Totals, totals
from services.enterprise_portal.domain.model import Invoice, InvoiceStatus
from services.enterprise_portal.domain.purchase_orders import validate_po_number
from services.enterprise_portal.domain.terms import DEFAULT_TERMS, STANDARD_TERMS, PaymentTerms

MAX_REASON = 1_000
MAX_LINES = 200
MAX_COMMENT = 2_000
_QUOTE_NUMBER = re.compile(r"QT-\d{4,}")


def quote_number(counter: int) -> str:
    """QT-0042 for 42; past 9999 the number grows (QT-12345)."""
    if counter < 1:
        raise ValueError("quote counters start at 1")
    return f"QT-{counter:04d}"


class QuoteStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"  # never stored: an open version past its validity date
    SUPERSEDED = "superseded"


@dataclass(frozen=True, slots=True)
class QuoteVersion:
    quote_number: str
    version: int
    currency: str
    lines: tuple[Line, ...]
    valid_until: dt.date
    terms: str = str(DEFAULT_TERMS)
    status: QuoteStatus = QuoteStatus.DRAFT
    sent_on: dt.date | None = None
    decided_on: dt.date | None = None
    decline_reason: str = ""
    po_number: str | None = None  # the PO it was accepted with

    def __post_init__(self) -> None:
        if not _QUOTE_NUMBER.fullmatch(self.quote_number) or self.version < 1:
            raise ValueError("a quote version is QT-nnnn numbered from 1")
        if self.status is QuoteStatus.EXPIRED:
            raise ValueError("expired is a status on a day, never stored")
        PaymentTerms.parse(self.terms)
        if len(self.lines) > MAX_LINES:
            raise InvalidArgument(f"a quote has at most {MAX_LINES} lines", field="lines")
        totals(self.lines, self.currency)  # one currency

    @property
    def label(self) -> str:
        """As printed and spoken: QT-0042-2."""
        return f"{self.quote_number}-{self.version}"

    @property
    def payment_terms(self) -> PaymentTerms:
        return PaymentTerms.parse(self.terms)

    @property
    def totals(self) -> Totals:
        return totals(self.lines, self.currency)

    @property
    def visible_to_customer(self) -> bool:
        return self.status is not QuoteStatus.DRAFT

    def status_on(self, day: dt.date) -> QuoteStatus:
        if self.status is QuoteStatus.OPEN and day > self.valid_until:
            return QuoteStatus.EXPIRED
        return self.status

    def _decidable(self, day: dt.date) -> None:
        status = self.status_on(day)
        if status is not QuoteStatus.OPEN:
            raise FailedPrecondition(f"quote {self.label} is {status.value} and can no longer be decided on")


@dataclass(frozen=True, slots=True)
class Quote:
    number: str
    account_id: str
    currency: str
    versions: tuple[QuoteVersion, ...] = field(default=())
    # The rep who drafted it: answers to the contact's comments and the acceptance go to them.
    rep_user_id: str = ""
    rep_email: str = ""

    def __post_init__(self) -> None:
        for n, version in enumerate(self.versions, start=1):
            if version.version != n or version.quote_number != self.number or version.currency != self.currency:
                raise ValueError("a quote's versions are its own, numbered 1, 2, ... in its currency")

    @property
    def latest(self) -> QuoteVersion | None:
        return self.versions[-1] if self.versions else None

    def version(self, number: int) -> QuoteVersion:
        if not 1 <= number <= len(self.versions):
            raise InvalidArgument(f"{self.number} has no version {number}", field="version")
        return self.versions[number - 1]

    def visible_versions(self) -> tuple[QuoteVersion, ...]:
        """What the customer may read: every version but a draft."""
        return tuple(v for v in self.versions if v.visible_to_customer)

    def status_on(self, day: dt.date) -> QuoteStatus | None:
        """The customer's view of the quote: its newest sent version's status (None if none)."""
        visible = self.visible_versions()
        return visible[-1].status_on(day) if visible else None

    def drafted(self, lines: tuple[Line, ...], valid_until: dt.date, terms: str, today: dt.date) -> Quote:
        """The quote with a new draft version, or its draft replaced (a draft is edited in place)."""
        if any(v.status is QuoteStatus.ACCEPTED for v in self.versions):
            raise FailedPrecondition(f"{self.number} is accepted; draft a new quote instead")
        if valid_until < today:
            raise InvalidArgument("a quote is valid until today or later", field="valid_until")
        if PaymentTerms.parse(terms) not in STANDARD_TERMS:
            raise InvalidArgument("a quote's terms are NET 30, NET 45, NET 60 or EOM", field="terms")
        latest = self.latest
        keep = self.versions[:-1] if latest is not None and latest.status is QuoteStatus.DRAFT else self.versions
        draft = QuoteVersion(self.number, len(keep) + 1, self.currency, lines, valid_until, terms)
        return replace(self, versions=(*keep, draft))

    def sent(self, today: dt.date) -> Quote:
        """The draft sent to the customer; the versions sent before it and still open are superseded."""
        latest = self.latest
        if latest is None or latest.status is not QuoteStatus.DRAFT:
            raise FailedPrecondition(f"{self.number} has no draft to send")
        if not latest.lines:
            raise InvalidArgument("a quote needs at least one line to be sent", field="lines")
        if latest.valid_until < today:
            raise InvalidArgument("the draft's validity date has passed; change it first", field="valid_until")
        earlier = tuple(replace(v, status=QuoteStatus.SUPERSEDED) if v.status is QuoteStatus.OPEN else v
                        for v in self.versions[:-1])
        return replace(self, versions=(*earlier, replace(latest, status=QuoteStatus.OPEN, sent_on=today)))

    def accepted(self, version: int, today: dt.date, po_number: str) -> Quote:
        """Version `version` accepted with `po_number` (one of the account's POs or a new one)."""
        chosen = self.version(version)
        chosen._decidable(today)
        validate_po_number(po_number)
        return self._with(replace(chosen, status=QuoteStatus.ACCEPTED, decided_on=today, po_number=po_number))

    def declined(self, version: int, today: dt.date, reason: str) -> Quote:
        chosen = self.version(version)
        chosen._decidable(today)
        if not reason.strip() or len(reason) > MAX_REASON:
            raise InvalidArgument(f"a reason is 1 to {MAX_REASON} characters", field="reason")
        return self._with(replace(chosen, status=QuoteStatus.DECLINED, decided_on=today, decline_reason=reason))

    def _with(self, changed: QuoteVersion) -> Quote:
        versions = list(self.versions)
        versions[changed.version - 1] = changed
        return replace(self, versions=tuple(versions))


class CommentKind(StrEnum):
    COMMENT = "comment"
    CHANGE_REQUEST = "change_request"


class Author(StrEnum):
    REP = "rep"
    CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class QuoteComment:
    """One message of a quote's thread, about the version that was newest when it was written."""

    quote_number: str
    version: int
    author: Author
    author_name: str
    kind: CommentKind
    body: str
    written_at: dt.datetime

    def __post_init__(self) -> None:
        if not isinstance(self.body, str) or not self.body.strip() or len(self.body) > MAX_COMMENT:
            raise InvalidArgument(f"a comment is 1 to {MAX_COMMENT} characters", field="body")
        if self.kind is CommentKind.CHANGE_REQUEST and self.author is not Author.CONTACT:
            raise InvalidArgument("only the customer requests changes", field="kind")


def invoice_from_quote(
    version: QuoteVersion, *, invoice_id: str, number: str, account_id: str, issued_on: dt.date,
) -> Invoice:
    """The invoice an accepted version creates: its lines and total, on its payment terms, with
    the PO it was accepted with."""
    if version.status is not QuoteStatus.ACCEPTED:
        raise FailedPrecondition(f"quote {version.label} is not accepted")
    return Invoice(
        id=invoice_id, account_id=account_id, number=number,
        total=version.totals.total,
        issued_on=issued_on, due_on=version.payment_terms.due_on(issued_on), terms=version.terms,
        status=InvoiceStatus.OPEN, po_number=version.po_number, lines=version.lines,
    )
