"""The quote use cases over in-memory fakes: versions, status rules, drafts hidden (S13),
acceptance through the invoice issuer port, mails in both languages, nothing half-written."""
from __future__ import annotations

import datetime as dt

import pytest

from billing_common.billing_contacts import BillingContact, FakeBillingContacts
from billing_common.clock import FakeClock
from billing_common.errors import FailedPrecondition, InvalidArgument, NotFound
from billing_common.money import Money
from billing_common.outbox import OutgoingMail
from services.enterprise_portal.adapters.memory import InMemoryUnitOfWork
from services.enterprise_portal.domain.lines import Line, LineKind
from services.enterprise_portal.domain.quotes import Author, CommentKind, Quote, QuoteStatus, QuoteVersion
from services.enterprise_portal.service_layer import mails
from services.enterprise_portal.service_layer import quotes as uc
from services.enterprise_portal.service_layer.dependencies import Dependencies
from services.enterprise_portal.service_layer.ports import UnitOfWork

# 2027-01-15 00:00 UTC
START = dt.datetime(2027, 1, 15, tzinfo=dt.UTC).timestamp()
TODAY = dt.date(2027, 1, 15)
REP = uc.Rep("user-rep", "rep@vendor.example", "Rita Rep")
# identity's people of the account: a contact reading Portuguese, one reading English, the rep.
PEOPLE = (BillingContact("user-ana", "Ana Souza", "ana@globex.example", "pt-BR"),
          BillingContact("user-bob", "Bob Finance", "bob@globex.example", "en"))
RITA = BillingContact("user-rep", "Rita Rep", "rep@vendor.example", "en")
LINES = (
    Line(LineKind.PLAN, "Enterprise, 120 seats, annual", 120, Money(26_400, "USD"), 1_500, plan_code="enterprise"),
    Line(LineKind.CUSTOM, "Onboarding workshop", 2, Money(150_000, "USD")),
)


class FakeIssuer:
    def __init__(self, pos: list[str] | None = None) -> None:
        self.pos = pos or []
        self.issued: list[tuple[str, str | None, dt.date]] = []

    def valid_po_numbers(self, uow: UnitOfWork, account_id: str, day: dt.date) -> list[str]:
        return list(self.pos)

    def issue_for_quote(self, uow: UnitOfWork, quote: Quote, version: QuoteVersion, *, issued_on: dt.date,
                        at: dt.datetime) -> list[str]:
        self.issued.append((version.label, version.po_number, issued_on))
        return [f"EBP-{len(self.issued):06d}"]


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork()


@pytest.fixture
def issuer() -> FakeIssuer:
    return FakeIssuer(["PO-7781"])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def deps(uow: InMemoryUnitOfWork, issuer: FakeIssuer, clock: FakeClock) -> Dependencies:
    return Dependencies(uow=lambda: uow, clock=clock, invoice_issuer=issuer, contacts=_people())


def _people() -> FakeBillingContacts:
    people = FakeBillingContacts()
    people.add("acct-globex", *PEOPLE, reps=(RITA,))
    return people


def sent(deps: Dependencies, uow: InMemoryUnitOfWork) -> list[OutgoingMail]:
    """The outbox's mails as the dispatcher addresses them (the use cases write them deferred)."""
    assert all(m.deferred and not m.to for m in uow.data.mails)
    return [m for each in mails.expander(deps)([m.deferred or "" for m in uow.data.mails]) for m in each]


def _sent(deps: Dependencies, account: str = "acct-globex", valid: dt.date = dt.date(2027, 2, 14)) -> Quote:
    quote = uc.draft_quote(deps, account, rep=REP, lines=LINES, valid_until=valid, terms="NET 45", currency="USD")
    return uc.send_quote(deps, account, quote.number)


def test_quote_numbers_come_from_a_gapless_counter_and_a_draft_is_the_reps_alone(deps: Dependencies) -> None:
    first = uc.draft_quote(deps, "acct-globex", rep=REP, lines=LINES, valid_until=TODAY, terms="NET 30",
                           currency="USD")
    second = uc.draft_quote(deps, "acct-globex", rep=REP, lines=(), valid_until=TODAY, terms="NET 30",
                            currency="USD")
    assert (first.number, second.number) == ("QT-0001", "QT-0002")
    assert uc.list_quotes(deps, "acct-globex", customer=True) == []
    assert [s.quote.number for s in uc.list_quotes(deps, "acct-globex", customer=False)] == ["QT-0002", "QT-0001"]
    with pytest.raises(NotFound):
        uc.get_quote(deps, "acct-globex", "QT-0001", customer=True)


def test_another_accounts_quote_is_not_found_s13(deps: Dependencies) -> None:
    quote = _sent(deps)
    for customer in (True, False):
        with pytest.raises(NotFound):
            uc.get_quote(deps, "acct-initech", quote.number, customer=customer)
    with pytest.raises(NotFound):
        uc.accept_quote(deps, "acct-initech", quote.number, 1, po_number="PO-1", new_po=True, by_name="Eve")
    with pytest.raises(NotFound):
        uc.comment_on_quote(deps, "acct-initech", quote.number, author=Author.CONTACT, author_name="Eve", body="hi")


def test_sending_mails_each_contact_in_their_language(deps: Dependencies, uow: InMemoryUnitOfWork) -> None:
    _sent(deps)
    english, portuguese = sent(deps, uow)
    assert [(m.to, m.subject) for m in (english, portuguese)] == [
        (("bob@globex.example",), "Quote QT-0001-1 is ready for you"),
        (("ana@globex.example",), "A cotação QT-0001-1 está pronta para você"),
    ]
    assert english.body == (  # 120 x 264.00 less 15% + 2 x 1500.00
        "Hello,\n\nYour representative sent you quote QT-0001-1, for $29,928.00, valid until February 14, 2027\n"
        "on NET 45 terms. Open it in the Enterprise Billing Portal to accept it, decline it or\n"
        "ask for changes: http://127.0.0.1:8081/quotes/QT-0001\n")
    assert "US$\xa029.928,00, válida até\n14 de fevereiro de 2027" in portuguese.body


def test_change_request_then_revision_supersedes_and_every_version_stays_readable(
        deps: Dependencies, uow: InMemoryUnitOfWork) -> None:
    quote = _sent(deps)
    uc.comment_on_quote(deps, "acct-globex", quote.number, author=Author.CONTACT, author_name="Ana",
                        body="10% more discount, please", kind=CommentKind.CHANGE_REQUEST)
    assert (sent(deps, uow)[-1].to, sent(deps, uow)[-1].subject) == (
        ("rep@vendor.example",), "Changes requested on quote QT-0001-1")
    uc.draft_quote(deps, "acct-globex", rep=REP, lines=LINES[:1], valid_until=dt.date(2027, 2, 14), terms="NET 60",
                   number=quote.number)
    # The draft of version 2 is hidden: the customer still sees version 1 open.
    seen = uc.get_quote(deps, "acct-globex", quote.number, customer=True)
    assert [(v.label, seen.status(v)) for v in seen.quote.versions] == [("QT-0001-1", QuoteStatus.OPEN)]
    uc.send_quote(deps, "acct-globex", quote.number)
    assert [(m.to, m.subject) for m in sent(deps, uow)[-2:]] == [
        (("bob@globex.example",), "Quote QT-0001-2: a new version for you"),
        (("ana@globex.example",), "Cotação QT-0001-2: uma nova versão para você")]
    seen = uc.get_quote(deps, "acct-globex", quote.number, customer=True)
    assert [(v.label, seen.status(v)) for v in seen.quote.versions] == [
        ("QT-0001-1", QuoteStatus.SUPERSEDED), ("QT-0001-2", QuoteStatus.OPEN)]
    assert [(c.version, c.kind) for c in seen.comments] == [(1, CommentKind.CHANGE_REQUEST)]
    with pytest.raises(FailedPrecondition):
        uc.accept_quote(deps, "acct-globex", quote.number, 1, po_number="PO-7781", new_po=False, by_name="Ana")


def test_acceptance_issues_the_invoice_on_the_quotes_terms_with_the_po_and_mails_contacts_and_rep(
        deps: Dependencies, uow: InMemoryUnitOfWork, issuer: FakeIssuer) -> None:
    quote = _sent(deps)
    accepted = uc.accept_quote(deps, "acct-globex", quote.number, 1, po_number="PO-7781", new_po=False,
                               by_name="Ana")
    assert accepted.invoice_numbers == ("EBP-000001",)
    assert issuer.issued == [("QT-0001-1", "PO-7781", TODAY)]
    assert accepted.version.status is QuoteStatus.ACCEPTED
    english, portuguese = sent(deps, uow)[-2:]
    assert [(m.to, m.subject) for m in (english, portuguese)] == [
        (("bob@globex.example", "rep@vendor.example"), "Quote QT-0001-1 was accepted"),
        (("ana@globex.example",), "A cotação QT-0001-1 foi aceita")]
    assert english.body == ("Hello,\n\nAna accepted quote QT-0001-1 for $29,928.00 with purchase order PO-7781.\n"
                            "Payment terms: NET 45. Invoices: EBP-000001.\n")
    assert [s.status for s in uc.list_quotes(deps, "acct-globex", customer=True, status=QuoteStatus.ACCEPTED)] == [
        QuoteStatus.ACCEPTED]


def test_a_new_po_number_is_accepted_but_an_unknown_chosen_one_is_refused_naming_the_field(
        deps: Dependencies, uow: InMemoryUnitOfWork) -> None:
    quote = _sent(deps)
    with pytest.raises(InvalidArgument) as caught:
        uc.accept_quote(deps, "acct-globex", quote.number, 1, po_number="PO-404", new_po=False, by_name="Ana")
    assert caught.value.field == "po_number"
    for bad in ("", " PO-1", "PO\x00", "x" * 65):
        with pytest.raises(InvalidArgument) as caught:
            uc.accept_quote(deps, "acct-globex", quote.number, 1, po_number=bad, new_po=True, by_name="Ana")
        assert caught.value.field == "po_number"
    assert uc.get_quote(deps, "acct-globex", quote.number, customer=True).quote.versions[0].status is QuoteStatus.OPEN
    uc.accept_quote(deps, "acct-globex", quote.number, 1, po_number="PO-2027-NEW", new_po=True, by_name="Ana")


def test_an_expired_version_cannot_be_accepted_or_declined(deps: Dependencies, clock: FakeClock) -> None:
    quote = _sent(deps, valid=dt.date(2027, 1, 20))
    clock.advance(5 * 86_400)  # 20 January: the validity day is still valid
    assert uc.list_quotes(deps, "acct-globex", customer=True)[0].status is QuoteStatus.OPEN
    clock.advance(86_400)
    assert uc.list_quotes(deps, "acct-globex", customer=True)[0].status is QuoteStatus.EXPIRED
    assert [s.quote.number for s in uc.list_quotes(deps, "acct-globex", customer=True,
                                                   status=QuoteStatus.EXPIRED)] == [quote.number]
    with pytest.raises(FailedPrecondition):
        uc.accept_quote(deps, "acct-globex", quote.number, 1, po_number="PO-7781", new_po=False, by_name="Ana")
    with pytest.raises(FailedPrecondition):
        uc.decline_quote(deps, "acct-globex", quote.number, 1, reason="late", by_name="Ana")


def test_decline_needs_a_reason_and_mails_the_rep(deps: Dependencies, uow: InMemoryUnitOfWork) -> None:
    quote = _sent(deps)
    with pytest.raises(InvalidArgument) as caught:
        uc.decline_quote(deps, "acct-globex", quote.number, 1, reason="  ", by_name="Ana")
    assert caught.value.field == "reason"
    declined = uc.decline_quote(deps, "acct-globex", quote.number, 1, reason="Budget cut", by_name="Ana")
    assert declined.versions[0].decline_reason == "Budget cut"
    assert [(m.to, m.subject) for m in sent(deps, uow)[-2:]] == [
        (("bob@globex.example", "rep@vendor.example"), "Quote QT-0001-1 was declined"),
        (("ana@globex.example",), "A cotação QT-0001-1 foi recusada")]


def test_a_customer_cannot_decide_on_a_draft_version_it_does_not_see(deps: Dependencies) -> None:
    quote = _sent(deps)
    uc.draft_quote(deps, "acct-globex", rep=REP, lines=LINES, valid_until=TODAY, terms="EOM", number=quote.number)
    with pytest.raises(InvalidArgument) as caught:
        uc.accept_quote(deps, "acct-globex", quote.number, 2, po_number="PO-7781", new_po=False, by_name="Ana")
    assert caught.value.field == "version"


def test_a_failed_acceptance_writes_nothing(deps: Dependencies, uow: InMemoryUnitOfWork, issuer: FakeIssuer) -> None:
    quote = _sent(deps)
    written = len(uow.data.mails)

    def broken(*args: object, **kwargs: object) -> list[str]:
        raise RuntimeError("invoices down")

    issuer.issue_for_quote = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        uc.accept_quote(deps, "acct-globex", quote.number, 1, po_number="PO-7781", new_po=False, by_name="Ana")
    assert uc.get_quote(deps, "acct-globex", quote.number, customer=True).quote.versions[0].status is QuoteStatus.OPEN
    assert len(uow.data.mails) == written


@pytest.mark.parametrize(("field", "kwargs"), [
    ("currency", {"currency": "XXY"}),
    ("valid_until", {"valid_until": dt.date(2026, 1, 1)}),
    ("terms", {"terms": "NET 7"}),
    ("terms", {"terms": "net 30"}),
    ("rep_user_id", {"rep": uc.Rep("", "rep@vendor.example", "Rita")}),
])
def test_a_bad_draft_is_invalid_argument_naming_the_field(deps: Dependencies, field: str, kwargs: dict) -> None:  # type: ignore[type-arg]
    args = {"rep": REP, "lines": LINES, "valid_until": TODAY, "terms": "NET 30", "currency": "USD", **kwargs}
    with pytest.raises(InvalidArgument) as caught:
        uc.draft_quote(deps, "acct-globex", **args)
    assert caught.value.field == field
    assert uc.list_quotes(deps, "acct-globex", customer=False) == []


def test_the_pdf_of_a_version_prints_its_label_lines_discount_and_terms(deps: Dependencies) -> None:
    import io

    from pypdf import PdfReader
    quote = _sent(deps)
    version, pdf = uc.quote_pdf(deps, "acct-globex", quote.number, 1, customer=True, buyer_name="Globex Corporation",
                                language="pt-BR")
    [page] = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    assert version.label == "QT-0001-1"
    assert "QT-0001-1" in page and "Globex Corporation" in page and "(-15%)" in page and "NET 45" in page
    assert "US$ 29.928,00" in page
    with pytest.raises(InvalidArgument) as caught:
        uc.quote_pdf(deps, "acct-globex", quote.number, 2, customer=True, buyer_name="Globex")
    assert caught.value.field == "version"


def test_with_the_invoicing_use_cases_acceptance_issues_one_invoice_on_the_quotes_terms_with_its_po(
        uow: InMemoryUnitOfWork, clock: FakeClock) -> None:
    from services.enterprise_portal.domain.purchase_orders import PurchaseOrder
    from services.enterprise_portal.service_layer.quote_invoicing import InvoicingIssuer

    deps = Dependencies(uow=lambda: uow, clock=clock, invoice_issuer=InvoicingIssuer())
    with uow:
        uow.purchase_orders.add(PurchaseOrder("po-1", "acct-globex", "PO-7781", Money(5_000_000, "USD"),
                                              dt.date(2027, 1, 1), dt.date(2027, 12, 31)))
        uow.purchase_orders.add(PurchaseOrder("po-2", "acct-globex", "PO-OLD", Money(5_000_000, "USD"),
                                              dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
        uow.commit()
    quote = _sent(deps)
    assert uc.get_quote(deps, "acct-globex", quote.number, customer=True).valid_po_numbers == ("PO-7781",)
    with pytest.raises(InvalidArgument):  # expired: not one to choose
        uc.accept_quote(deps, "acct-globex", quote.number, 1, po_number="PO-OLD", new_po=False, by_name="Ana")
    accepted = uc.accept_quote(deps, "acct-globex", quote.number, 1, po_number="PO-7781", new_po=False,
                               by_name="Ana")
    assert accepted.invoice_numbers == ("EP-2027-000001",)
    [invoice] = uow.invoices.open_for_account("acct-globex")
    assert (invoice.number, invoice.terms, invoice.po_number, invoice.issued_on, invoice.due_on) == (
        "EP-2027-000001", "NET 45", "PO-7781", TODAY, dt.date(2027, 3, 1))
    assert invoice.lines == LINES and invoice.total == Money(2_992_800, "USD")


def test_a_new_po_number_typed_at_acceptance_becomes_a_po_of_the_order_so_the_invoice_is_covered(
        uow: InMemoryUnitOfWork, clock: FakeClock) -> None:
    from services.enterprise_portal.domain.purchase_orders import PoStatus
    from services.enterprise_portal.service_layer.quote_invoicing import InvoicingIssuer

    deps = Dependencies(uow=lambda: uow, clock=clock, invoice_issuer=InvoicingIssuer())
    quote = _sent(deps)
    uc.accept_quote(deps, "acct-globex", quote.number, 1, po_number="PO-2027-NEW", new_po=True, by_name="Ana")
    with uow:
        [po] = uow.purchase_orders.for_account("acct-globex")
        [invoice] = uow.invoices.open_for_account("acct-globex")
        problem = uow.invoices.po_problem(invoice.id)
    assert (po.number, po.amount, po.valid_from, po.valid_to, po.notes) == (
        "PO-2027-NEW", Money(2_992_800, "USD"), TODAY, dt.date(2028, 1, 14), f"Entered when accepting {quote.number}-1")
    assert po.status(TODAY) is PoStatus.EXHAUSTED  # the order used all of it: the contact may raise it later
    assert (invoice.po_number, problem) == ("PO-2027-NEW", None)


def test_a_new_po_number_that_is_already_a_po_of_the_account_is_refused_naming_the_field(
        uow: InMemoryUnitOfWork, clock: FakeClock) -> None:
    from billing_common.errors import AlreadyExists
    from services.enterprise_portal.domain.purchase_orders import PurchaseOrder
    from services.enterprise_portal.service_layer.quote_invoicing import InvoicingIssuer

    deps = Dependencies(uow=lambda: uow, clock=clock, invoice_issuer=InvoicingIssuer())
    with uow:
        uow.purchase_orders.add(PurchaseOrder("po-1", "acct-globex", "PO-7781", Money(5_000_000, "USD"),
                                              dt.date(2026, 1, 1), dt.date(2026, 12, 31)))
        uow.commit()
    quote = _sent(deps)
    with pytest.raises(AlreadyExists) as caught:
        uc.accept_quote(deps, "acct-globex", quote.number, 1, po_number="PO-7781", new_po=True, by_name="Ana")
    assert caught.value.field == "po_number"
    assert uc.get_quote(deps, "acct-globex", quote.number, customer=True).quote.versions[0].status_on(TODAY) \
        is QuoteStatus.OPEN
