"""The Enterprise portal's typed client of the quote RPCs (enterprise_portal.v1), mixed into
backend.EnterprisePortal: views of quotes, and the calls of the contact's and the rep's pages."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from billing.enterprise_portal.v1 import enterprise_portal_pb2 as pb
from billing.enterprise_portal.v1 import enterprise_portal_pb2_grpc
from billing_common.money import Money
from billing_common.money_proto import to_proto
from web.common.clients import money, timestamp

QUOTE_READS = ("ListQuotes", "GetQuote", "GetQuotePdf", "ListQuotePlans")


@dataclass(frozen=True)
class QuoteLineView:
    kind: str
    description: str
    quantity: int
    unit_price: Money | None
    discount_bp: int
    plan_code: str
    amount: Money | None

    @property
    def discount_percent(self) -> str:
        return f"{self.discount_bp / 100:g}"


@dataclass(frozen=True)
class QuoteVersionView:
    version: int
    label: str
    status: str
    valid_until: date | None
    terms: str
    sent_on: date | None
    decided_on: date | None
    decline_reason: str
    po_number: str
    lines: tuple[QuoteLineView, ...]
    subtotal: Money | None
    discount: Money | None
    total: Money | None


@dataclass(frozen=True)
class QuoteCommentView:
    version: int
    author: str
    author_name: str
    kind: str
    body: str
    written_at: datetime | None


@dataclass(frozen=True)
class QuoteView:
    number: str
    currency: str
    status: str
    versions: tuple[QuoteVersionView, ...]
    comments: tuple[QuoteCommentView, ...] = ()
    valid_po_numbers: tuple[str, ...] = ()

    @property
    def latest(self) -> QuoteVersionView:
        return self.versions[-1]


@dataclass(frozen=True)
class QuotePlanView:
    code: str
    name: str
    unit: str
    unit_price: Money | None


@dataclass(frozen=True)
class LineInput:
    kind: str
    description: str
    quantity: int
    unit_price: Money
    discount_bp: int
    plan_code: str = ""


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _quote(q: pb.Quote) -> QuoteView:
    return QuoteView(
        number=q.number, currency=q.currency, status=q.status,
        versions=tuple(QuoteVersionView(
            version=v.version, label=v.label, status=v.status, valid_until=_day(v.valid_until), terms=v.terms,
            sent_on=_day(v.sent_on), decided_on=_day(v.decided_on), decline_reason=v.decline_reason,
            po_number=v.po_number,
            lines=tuple(QuoteLineView(kind=x.kind, description=x.description, quantity=x.quantity,
                                      unit_price=money(x.unit_price), discount_bp=x.discount_bp,
                                      plan_code=x.plan_code, amount=money(x.amount)) for x in v.lines),
            subtotal=money(v.subtotal), discount=money(v.discount), total=money(v.total)) for v in q.versions),
        comments=tuple(QuoteCommentView(version=c.version, author=c.author, author_name=c.author_name, kind=c.kind,
                                        body=c.body, written_at=timestamp(c.written_at)) for c in q.comments),
        valid_po_numbers=tuple(q.valid_po_numbers),
    )


def _viewer(rep: bool) -> pb.QuoteViewer.ValueType:
    return pb.QUOTE_VIEWER_REP if rep else pb.QUOTE_VIEWER_CONTACT




class QuotesClient:
    """The quote RPCs, mixed into EnterprisePortal (one channel, one client per app)."""

    @property
    def stub(self) -> enterprise_portal_pb2_grpc.EnterprisePortalServiceStub:
        raise NotImplementedError  # GrpcClient's

    def quotes(self, account_id: str, *, rep: bool, status: str = "") -> list[QuoteView]:
        answer = self.stub.ListQuotes(pb.ListQuotesRequest(account_id=account_id, viewer=_viewer(rep), status=status))
        return [_quote(q) for q in answer.quotes]

    def quote_page(self, account_id: str, *, rep: bool, status: str, size: int, after: str
                   ) -> tuple[list[QuoteView], str]:
        """A page of the quotes list and the token of the next ("" on the last)."""
        answer = self.stub.ListQuotes(pb.ListQuotesRequest(account_id=account_id, viewer=_viewer(rep), status=status,
                                                           page_size=size, page_token=after))
        return [_quote(q) for q in answer.quotes], answer.next_page_token

    def quote(self, account_id: str, number: str, *, rep: bool) -> QuoteView:
        return _quote(self.stub.GetQuote(pb.GetQuoteRequest(account_id=account_id, number=number,
                                                            viewer=_viewer(rep))).quote)

    def quote_pdf(self, account_id: str, number: str, version: int, *, rep: bool, buyer_name: str,
                  language: str) -> tuple[str, bytes]:
        answer = self.stub.GetQuotePdf(pb.GetQuotePdfRequest(
            account_id=account_id, number=number, version=version, viewer=_viewer(rep), buyer_name=buyer_name,
            language=language))
        return answer.label, answer.pdf

    def quote_plans(self, currency: str) -> list[QuotePlanView]:
        answer = self.stub.ListQuotePlans(pb.ListQuotePlansRequest(currency=currency))
        return [QuotePlanView(p.code, p.name, p.unit, money(p.unit_price)) for p in answer.plans]

    def draft_quote(self, account_id: str, *, number: str, rep_user_id: str, rep_email: str, rep_name: str,
                    currency: str, lines: Sequence[LineInput], valid_until: date, terms: str) -> QuoteView:
        return _quote(self.stub.DraftQuote(pb.DraftQuoteRequest(
            account_id=account_id, number=number, rep_user_id=rep_user_id, rep_email=rep_email, rep_name=rep_name,
            currency=currency, valid_until=valid_until.isoformat(), terms=terms,
            lines=[pb.QuoteLine(kind=x.kind, description=x.description, quantity=x.quantity,
                                unit_price=to_proto(x.unit_price), discount_bp=x.discount_bp,
                                plan_code=x.plan_code) for x in lines])).quote)

    def send_quote(self, account_id: str, number: str) -> QuoteView:
        return _quote(self.stub.SendQuote(pb.SendQuoteRequest(account_id=account_id, number=number)).quote)

    def comment_on_quote(self, account_id: str, number: str, *, rep: bool, author_name: str, body: str,
                         change_request: bool) -> None:
        self.stub.CommentOnQuote(pb.CommentOnQuoteRequest(
            account_id=account_id, number=number, author=_viewer(rep), author_name=author_name, body=body,
            change_request=change_request))

    def accept_quote(self, account_id: str, number: str, version: int, *, po_number: str, new_po: bool,
                     by_name: str) -> tuple[str, ...]:
        answer = self.stub.AcceptQuote(pb.AcceptQuoteRequest(
            account_id=account_id, number=number, version=version, po_number=po_number, new_po=new_po,
            by_name=by_name))
        return tuple(answer.invoice_numbers)

    def decline_quote(self, account_id: str, number: str, version: int, *, reason: str, by_name: str) -> None:
        self.stub.DeclineQuote(pb.DeclineQuoteRequest(
            account_id=account_id, number=number, version=version, reason=reason, by_name=by_name))
