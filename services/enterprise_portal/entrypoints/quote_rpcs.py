"""The quote RPCs of enterprise_portal's servicer (a mixin of EnterprisePortalServicer, kept
apart from the invoicing ones): thin translations between the protos and service_layer.quotes."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from billing.common.v1 import money_pb2
from billing.enterprise_portal.v1 import enterprise_portal_pb2 as pb
from billing_common.errors import InvalidArgument
from billing_common.money import Money, is_currency
from billing_common.money_proto import to_proto
from services.enterprise_portal.domain.lines import Line, LineKind
from services.enterprise_portal.domain.price_list import PRICE_LIST
from services.enterprise_portal.domain.quotes import Author, CommentKind, Quote, QuoteComment, QuoteStatus, QuoteVersion
from services.enterprise_portal.domain.terms import DEFAULT_TERMS
from services.enterprise_portal.service_layer import quotes
from services.enterprise_portal.service_layer.dependencies import Dependencies

QUOTE_METHODS = ("DraftQuote", "SendQuote", "ListQuotes", "GetQuote", "GetQuotePdf", "CommentOnQuote",
                 "AcceptQuote", "DeclineQuote", "ListQuotePlans")


class QuoteRpcs:
    deps: Dependencies

    def DraftQuote(self, request: pb.DraftQuoteRequest, context: grpc.ServicerContext) -> pb.QuoteResponse:
        quote = quotes.draft_quote(
            self.deps, request.account_id,
            rep=quotes.Rep(request.rep_user_id, request.rep_email, request.rep_name),
            lines=_lines(request.lines), valid_until=_day(request.valid_until, "valid_until"),
            terms=request.terms or str(DEFAULT_TERMS), currency=request.currency, number=request.number)
        return pb.QuoteResponse(quote=_quote(quote, quote.versions, quote.versions[-1].status))

    def SendQuote(self, request: pb.SendQuoteRequest, context: grpc.ServicerContext) -> pb.QuoteResponse:
        quote = quotes.send_quote(self.deps, request.account_id, request.number)
        return pb.QuoteResponse(quote=_quote(quote, quote.versions, quote.versions[-1].status))

    def ListQuotes(self, request: pb.ListQuotesRequest, context: grpc.ServicerContext) -> pb.ListQuotesResponse:
        status = None
        if request.status:
            try:
                status = QuoteStatus(request.status)
            except ValueError:
                raise InvalidArgument("status is draft, open, accepted, declined, expired or superseded",
                                      field="status") from None
        customer = _customer(request.viewer, "viewer")
        if request.page_size:
            page = quotes.quote_page(self.deps, request.account_id, customer=customer, status=status,
                                     size=request.page_size, after=request.page_token)
            return pb.ListQuotesResponse(quotes=[_quote(s.quote, [s.version], s.status, today=None)
                                                 for s in page.summaries], next_page_token=page.next_after or "")
        summaries = quotes.list_quotes(self.deps, request.account_id, customer=customer, status=status)
        return pb.ListQuotesResponse(quotes=[_quote(s.quote, [s.version], s.status, today=None) for s in summaries])

    def GetQuote(self, request: pb.GetQuoteRequest, context: grpc.ServicerContext) -> pb.QuoteResponse:
        detail = quotes.get_quote(self.deps, request.account_id, request.number,
                                  customer=_customer(request.viewer, "viewer"))
        versions = detail.quote.versions
        message = _quote(detail.quote, versions, detail.status(versions[-1]), today=detail.today,
                         comments=detail.comments)
        message.valid_po_numbers.extend(detail.valid_po_numbers)
        return pb.QuoteResponse(quote=message)

    def GetQuotePdf(self, request: pb.GetQuotePdfRequest, context: grpc.ServicerContext) -> pb.GetQuotePdfResponse:
        version, pdf = quotes.quote_pdf(self.deps, request.account_id, request.number, request.version,
                                        customer=_customer(request.viewer, "viewer"),
                                        buyer_name=request.buyer_name, language=request.language)
        return pb.GetQuotePdfResponse(pdf=pdf, label=version.label)

    def CommentOnQuote(self, request: pb.CommentOnQuoteRequest, context: grpc.ServicerContext) -> pb.QuoteResponse:
        customer = _customer(request.author, "author")
        quotes.comment_on_quote(
            self.deps, request.account_id, request.number, author=Author.CONTACT if customer else Author.REP,
            author_name=request.author_name, body=request.body,
            kind=CommentKind.CHANGE_REQUEST if request.change_request else CommentKind.COMMENT)
        return self.GetQuote(pb.GetQuoteRequest(account_id=request.account_id, number=request.number,
                                                viewer=request.author), context)

    def AcceptQuote(self, request: pb.AcceptQuoteRequest, context: grpc.ServicerContext) -> pb.AcceptQuoteResponse:
        accepted = quotes.accept_quote(
            self.deps, request.account_id, request.number, request.version, po_number=request.po_number,
            new_po=request.new_po, by_name=request.by_name)
        visible = accepted.quote.visible_versions()
        return pb.AcceptQuoteResponse(quote=_quote(accepted.quote, visible, visible[-1].status),
                                      invoice_numbers=accepted.invoice_numbers)

    def DeclineQuote(self, request: pb.DeclineQuoteRequest, context: grpc.ServicerContext) -> pb.QuoteResponse:
        quote = quotes.decline_quote(self.deps, request.account_id, request.number, request.version,
                                     reason=request.reason, by_name=request.by_name)
        visible = quote.visible_versions()
        return pb.QuoteResponse(quote=_quote(quote, visible, visible[-1].status))

    def ListQuotePlans(self, request: pb.ListQuotePlansRequest, context: grpc.ServicerContext
                       ) -> pb.ListQuotePlansResponse:
        if not is_currency(request.currency):
            raise InvalidArgument("currency is an ISO 4217 code", field="currency")
        plans = []
        for plan in PRICE_LIST:
            price = plan.price_in(request.currency)
            if price is not None:
                plans.append(pb.QuotePlan(code=plan.code, name=plan.name, unit=plan.unit, unit_price=to_proto(price)))
        return pb.ListQuotePlansResponse(plans=plans)


def _customer(viewer: int, field: str) -> bool:
    if viewer == pb.QUOTE_VIEWER_CONTACT:
        return True
    if viewer == pb.QUOTE_VIEWER_REP:
        return False
    raise InvalidArgument(f"{field} is the rep or a contact", field=field)


def _day(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else dt.date.fromisoformat("bad")
    except ValueError:
        raise InvalidArgument(f"{field} is a date, YYYY-MM-DD", field=field) from None


def _money(message: money_pb2.Money, field: str) -> Money:
    if not is_currency(message.currency):
        raise InvalidArgument(f"{field} needs an ISO 4217 currency", field=field)
    return Money(message.amount_minor, message.currency)


def _lines(lines: Iterable[pb.QuoteLine]) -> tuple[Line, ...]:
    out = []
    for line in lines:
        try:
            kind = LineKind(line.kind)
        except ValueError:
            raise InvalidArgument("a line's kind is plan or custom", field="kind") from None
        if len(line.plan_code) > 64 or not line.plan_code.isprintable():
            raise InvalidArgument("a plan code is at most 64 printable characters", field="plan_code")
        out.append(Line(kind=kind, description=line.description, quantity=line.quantity,
                        unit_price=_money(line.unit_price, "unit_price"), discount_bp=line.discount_bp,
                        plan_code=line.plan_code or None))
    return tuple(out)


def _ts(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _version(v: QuoteVersion, status: QuoteStatus) -> pb.QuoteVersion:
    t = v.totals
    return pb.QuoteVersion(
        version=v.version, label=v.label, status=status.value, valid_until=v.valid_until.isoformat(), terms=v.terms,
        sent_on=v.sent_on.isoformat() if v.sent_on else "",
        decided_on=v.decided_on.isoformat() if v.decided_on else "",
        decline_reason=v.decline_reason, po_number=v.po_number or "",
        lines=[pb.QuoteLine(kind=line.kind.value, description=line.description, quantity=line.quantity,
                            unit_price=to_proto(line.unit_price), discount_bp=line.discount_bp,
                            plan_code=line.plan_code or "", amount=to_proto(line.amount)) for line in v.lines],
        subtotal=to_proto(t.subtotal), discount=to_proto(t.discount), total=to_proto(t.total))


def _quote(quote: Quote, versions: Sequence[QuoteVersion], status: QuoteStatus, *,
           today: dt.date | None = None, comments: Sequence[QuoteComment] = ()) -> pb.Quote:
    """`status` is the newest version's as of today; the older ones' come from `today` when
    given (their stored status otherwise, which only differs for an open one past validity)."""
    def status_of(v: QuoteVersion) -> QuoteStatus:
        if v is versions[-1]:
            return status
        return v.status_on(today) if today is not None else v.status
    return pb.Quote(
        number=quote.number, account_id=quote.account_id, currency=quote.currency, status=status.value,
        versions=[_version(v, status_of(v)) for v in versions], rep_email=quote.rep_email,
        comments=[pb.QuoteComment(version=c.version, author=c.author.value, author_name=c.author_name,
                                  kind=c.kind.value, body=c.body, written_at=_ts(c.written_at)) for c in comments])
