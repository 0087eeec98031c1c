"""Invoicing on terms over in-memory fakes: issuing (numbers, credit, PO flags and notices),
the paged list, S13, card payments (S19, S20, S21), offline payments and the statement."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_common.billing_contacts import BillingContact, FakeBillingContacts
from billing_common.clock import FakeClock, utc
from billing_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from billing_common.money import Money
from billing_common.outbox import OutgoingMail
from billing_common.payments.gateway import CardDetails, IdempotencyKeyReused, PaymentDeclined
from billing_common.payments.sandbox import InMemoryChargeStore, SandboxGateway, SandboxTokenizer
from services.enterprise_portal.adapters.memory import InMemoryUnitOfWork
from services.enterprise_portal.domain.lines import Line, LineKind
from services.enterprise_portal.domain.model import InvoiceState, InvoiceStatus
from services.enterprise_portal.domain.purchase_orders import PoProblem, PoStatus
from services.enterprise_portal.service_layer import invoicing, mails, payments, purchase_orders
from services.enterprise_portal.service_layer.dependencies import Dependencies
from services.enterprise_portal.service_layer.ports import CardPaymentStatus

SECRET = "unit-test-secret"
ACCOUNT = "acct-globex"
OK, DECLINED, LOST = "4242424242424242", "4000000000000002", "4000000000000408"
# identity's people of the account: a contact reading Portuguese, one reading English, the rep.
ANA = BillingContact("user-ana", "Ana Souza", "ana@globex.example", "pt-BR")
BOB = BillingContact("user-bob", "Bob Finance", "bob@globex.example", "en")
RITA = BillingContact("user-rita", "Rita Rep", "rep@vendor.example", "en")


def token(number: str = OK) -> str:
    return SandboxTokenizer(SECRET).tokenize(CardDetails(number, 12, 2040, "123", "Olivia")).token


def line(amount_minor: int, currency: str = "USD") -> Line:
    return Line(LineKind.CUSTOM, "Meetings Enterprise seats", 1, Money(amount_minor, currency))


class World:
    def __init__(self) -> None:
        self.uow = InMemoryUnitOfWork()
        self.clock = FakeClock()  # 2027-01-15
        self.store = InMemoryChargeStore()
        self.gateway = SandboxGateway(SECRET, self.store)
        self.people = FakeBillingContacts()
        self.people.add(ACCOUNT, ANA, BOB, reps=(RITA,))
        self.deps = Dependencies(uow=lambda: self.uow, clock=self.clock, gateway=self.gateway, contacts=self.people,
                                 portal_url="http://portal")

    def sent(self) -> list[OutgoingMail]:
        """The outbox's mails as the dispatcher addresses them (the written ones are deferred)."""
        assert all(m.deferred and not m.to for m in self.uow.data.mails)
        expanded = mails.expander(self.deps)([m.deferred or "" for m in self.uow.data.mails])
        return [m for each in expanded for m in each]

    @property
    def today(self) -> dt.date:
        return utc(self.clock.now()).date()

    def issue(self, amount_minor: int, po_number: str | None = None, *, account: str = ACCOUNT,
              days_ago: int = 0, terms: str = "NET 30") -> invoicing.IssuedInvoice:
        at = utc(self.clock.now()) - dt.timedelta(days=days_ago)
        with self.uow:
            issued = invoicing.issue_invoice(self.uow, account, [line(amount_minor)], terms, po_number,
                                             issued_on=at.date(), at=at)
            self.uow.commit()
        return issued

    def charges(self) -> int:
        return len(self.store.records)


@pytest.fixture
def world() -> World:
    return World()


# --- issuing -------------------------------------------------------------------------------


def test_invoices_are_numbered_gaplessly_per_year_and_due_on_their_terms(world: World) -> None:
    first = world.issue(10_000).invoice
    second = world.issue(20_000, terms="NET 45").invoice
    assert (first.number, second.number) == ("EP-2027-000001", "EP-2027-000002")
    assert second.due_on == world.today + dt.timedelta(days=45)
    assert second.lines == (line(20_000),)


def test_an_invoice_without_a_valid_po_is_flagged_and_mailed_to_contacts_and_rep(world: World) -> None:
    purchase_orders.create_po(world.deps, ACCOUNT, "PO-OLD", 100_000, "USD", dt.date(2026, 1, 1),
                              dt.date(2026, 12, 31))
    issued = world.issue(5_000, "PO-OLD")
    assert issued.po_problem is PoProblem.EXPIRED
    assert invoicing.get_invoice(world.deps, ACCOUNT, issued.invoice.id).po_problem == "expired"
    english, portuguese = world.sent()
    assert (english.to, english.subject) == (("bob@globex.example", "rep@vendor.example"),
                                              "Invoice EP-2027-000001 needs a valid purchase order")
    assert english.body == ("Invoice EP-2027-000001 of $50.00 (PO PO-OLD) was issued, but its purchase order has "
                            "expired.\nPlease add or extend a purchase order: http://portal/purchase-orders\n")
    assert (portuguese.to, portuguese.subject) == (("ana@globex.example",),
                                                    "A fatura EP-2027-000001 precisa de um pedido de compra válido")
    assert portuguese.body == ("A fatura EP-2027-000001 de US$\xa050,00 (pedido de compra PO-OLD) foi emitida, mas o "
                               "pedido de compra expirou.\nCadastre ou prorrogue um pedido de compra: "
                               "http://portal/purchase-orders\n")


def test_an_invoice_without_any_po_is_flagged_too(world: World) -> None:
    assert world.issue(5_000, None).po_problem is PoProblem.NONE_GIVEN
    assert [m.to for m in world.sent()] == [("bob@globex.example", "rep@vendor.example"), ("ana@globex.example",)]


def test_an_invoice_within_an_active_po_is_not_flagged_and_the_80_percent_notice_is_mailed_once(world: World) -> None:
    purchase_orders.create_po(world.deps, ACCOUNT, "PO-7781", 100_000, "USD", world.today,
                              world.today + dt.timedelta(days=365))
    assert world.issue(50_000, "PO-7781").po_problem is None
    assert world.uow.data.mails == []
    assert world.issue(30_000, "PO-7781").po_problem is None
    english, portuguese = world.sent()
    assert (english.to, english.subject) == (("bob@globex.example", "rep@vendor.example"),
                                              "Purchase order PO-7781 is 80% used")
    assert (portuguese.to, portuguese.subject) == (("ana@globex.example",),
                                                    "O pedido de compra PO-7781 está 80% utilizado")
    world.issue(10_000, "PO-7781")
    assert len(world.uow.data.mails) == 1
    [view] = purchase_orders.list_pos(world.deps, ACCOUNT)
    assert (view.status, view.po.remaining()) == (PoStatus.ACTIVE, Money(10_000, "USD"))


def test_an_invoice_with_no_lines_or_bad_terms_is_invalid_naming_the_field(world: World) -> None:
    with pytest.raises(InvalidArgument) as caught, world.uow:
        invoicing.issue_invoice(world.uow, ACCOUNT, [], "NET 30", None, issued_on=world.today,
                                at=utc(world.clock.now()))
    assert caught.value.field == "lines"
    with pytest.raises(InvalidArgument) as caught, world.uow:
        invoicing.issue_invoice(world.uow, ACCOUNT, [line(1)], "net thirty", None, issued_on=world.today,
                                at=utc(world.clock.now()))
    assert caught.value.field == "terms"


# --- the list and S13 ----------------------------------------------------------------------


def test_the_list_shows_the_newest_20_first_then_pages_through_all(world: World) -> None:
    for n in range(45):
        world.issue(100 + n, days_ago=45 - n)
    first = invoicing.list_invoices(world.deps, ACCOUNT)
    assert (len(first.invoices), first.total_count) == (20, 45)
    assert first.invoices[0].total == Money(144, "USD")
    second = invoicing.list_invoices(world.deps, ACCOUNT, 20, first.next_page_token)
    third = invoicing.list_invoices(world.deps, ACCOUNT, 20, second.next_page_token)
    assert (len(second.invoices), len(third.invoices), third.next_page_token) == (20, 5, "")
    seen = [i.number for page in (first, second, third) for i in page.invoices]
    assert len(set(seen)) == 45


@pytest.mark.parametrize("bad", ["nonsense", "2027-13-01|EP-1", "|"])
def test_a_page_token_not_given_by_the_service_is_invalid_argument(world: World, bad: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        invoicing.list_invoices(world.deps, ACCOUNT, 20, bad)
    assert caught.value.field == "page_token"


def test_s13_another_accounts_invoice_is_not_found_to_read_or_pay(world: World) -> None:
    theirs = world.issue(5_000, account="acct-other").invoice
    with pytest.raises(NotFound):
        invoicing.get_invoice(world.deps, ACCOUNT, theirs.id)
    with pytest.raises(NotFound):
        payments.pay_by_card(world.deps, ACCOUNT, [theirs.id], token(), "key-1")
    assert world.charges() == 0


def test_the_invoice_pdf_is_a_pdf_in_either_language(world: World) -> None:
    invoice = world.issue(5_000, "PO-1").invoice
    for language in ("en", "pt-BR"):
        assert invoicing.invoice_pdf(world.deps, ACCOUNT, invoice.id, language, "Globex").startswith(b"%PDF")


# --- card payments -------------------------------------------------------------------------


def test_two_invoices_paid_in_one_card_payment_with_a_receipt_mailed(world: World) -> None:
    a, b = world.issue(10_000, days_ago=5).invoice, world.issue(25_050).invoice
    preview = payments.preview_payment(world.deps, ACCOUNT, [a.id, b.id])
    assert preview.amount == Money(35_050, "USD")
    world.uow.data.mails.clear()  # the invoices' "no PO" flags
    outcome = payments.pay_by_card(world.deps, ACCOUNT, [a.id, b.id], token(), "key-1",
                                   payer_email="ana@globex.example")
    assert outcome.payment.status is CardPaymentStatus.SUCCEEDED
    assert {i.status for i in outcome.invoices} == {InvoiceStatus.PAID}
    # Every billing contact in their language (not the rep: it is the customer's receipt), the
    # paid invoices' PDFs attached when sent.
    english, portuguese = world.sent()
    assert (english.to, english.subject, portuguese.to, portuguese.subject) == (
        ("bob@globex.example",), "Payment received: $350.50", ("ana@globex.example",),
        "Pagamento recebido: US$\xa0350,50")
    assert "  EP-2027-000001: $100.00\n  EP-2027-000002: $250.50\n" in english.body
    assert english.attachment == f"invoices:en:{ACCOUNT}:{a.id},{b.id}"
    assert portuguese.attachment == f"invoices:pt-BR:{ACCOUNT}:{a.id},{b.id}"
    pdfs = mails.attachments(world.deps)(portuguese.attachment)
    assert [(p.filename, p.content_type, p.content[:4]) for p in pdfs] == [
        ("EP-2027-000001.pdf", "application/pdf", b"%PDF"), ("EP-2027-000002.pdf", "application/pdf", b"%PDF")]
    assert world.charges() == 1


def test_part_of_an_invoice_then_the_rest(world: World) -> None:
    invoice = world.issue(10_000).invoice
    payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], token(), "key-1", amount_minor=4_000)
    detail = invoicing.get_invoice(world.deps, ACCOUNT, invoice.id)
    assert (detail.state, detail.invoice.balance()) == (InvoiceState.PARTIALLY_PAID, Money(6_000, "USD"))
    payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], token(), "key-2")
    assert invoicing.get_invoice(world.deps, ACCOUNT, invoice.id).state is InvoiceState.PAID


def test_a_card_payment_of_more_than_the_balances_is_refused(world: World) -> None:
    invoice = world.issue(10_000).invoice
    with pytest.raises(InvalidArgument) as caught:
        payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], token(), "key-1", amount_minor=10_001)
    assert caught.value.field == "amount"
    assert world.charges() == 0


def test_a_declined_card_applies_nothing_and_says_why(world: World) -> None:
    invoice = world.issue(10_000).invoice
    with pytest.raises(PaymentDeclined) as caught:
        payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], token(DECLINED), "key-1")
    assert caught.value.reason == "card_declined"
    assert invoicing.get_invoice(world.deps, ACCOUNT, invoice.id).invoice.payments == ()


def test_s19_a_double_submitted_payment_charges_once(world: World) -> None:
    invoice = world.issue(10_000).invoice
    first = payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], token(), "key-1")
    again = payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], token(), "key-1")  # a second token, same card
    assert again.payment.id == first.payment.id
    assert world.charges() == 1
    assert len(invoicing.get_invoice(world.deps, ACCOUNT, invoice.id).invoice.payments) == 1


def test_s19_twenty_identical_requests_in_parallel_charge_once(world: World) -> None:
    invoice = world.issue(10_000).invoice
    card = token()
    results: list[str] = []
    errors: list[Exception] = []

    def pay() -> None:
        try:
            results.append(payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], card, "key-20").payment.id)
        except Exception as error:  # noqa: BLE001 - collected, asserted below
            errors.append(error)

    threads = [threading.Thread(target=pay) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(results)) == 1 and len(results) == 20
    assert world.charges() == 1


def test_s19_the_same_key_for_another_request_is_refused(world: World) -> None:
    a, b = world.issue(10_000).invoice, world.issue(20_000).invoice
    payments.pay_by_card(world.deps, ACCOUNT, [a.id], token(), "key-1")
    with pytest.raises(IdempotencyKeyReused):
        payments.pay_by_card(world.deps, ACCOUNT, [b.id], token(), "key-1")


def test_s20_a_lost_answer_stays_unknown_until_the_reconciler_settles_it(world: World) -> None:
    invoice = world.issue(10_000).invoice
    outcome = payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], token(LOST), "key-1")
    assert outcome.pending and outcome.payment.status is CardPaymentStatus.UNKNOWN
    assert invoicing.get_invoice(world.deps, ACCOUNT, invoice.id).invoice.payments == ()
    with pytest.raises(FailedPrecondition):  # no second payment of it meanwhile
        payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], token(), "key-2")
    assert payments.reconcile(world.deps) == payments.Reconciled(settled=1, still_unknown=0)
    assert invoicing.get_invoice(world.deps, ACCOUNT, invoice.id).state is InvoiceState.PAID
    assert world.charges() == 1


def test_s20_a_lost_answer_then_a_retry_with_the_same_key_charges_once(world: World) -> None:
    invoice = world.issue(10_000).invoice
    card = token(LOST)
    payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], card, "key-1")
    retried = payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], card, "key-1")
    assert retried.payment.status is CardPaymentStatus.SUCCEEDED
    assert world.charges() == 1
    assert invoicing.get_invoice(world.deps, ACCOUNT, invoice.id).state is InvoiceState.PAID


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(totals=st.lists(st.integers(1, 5_000_000), min_size=1, max_size=6), data=st.data())
def test_s21_a_card_payment_split_over_invoices_adds_up_exactly(totals: list[int], data: st.DataObject) -> None:
    world = World()
    invoices = [world.issue(t, days_ago=n).invoice for n, t in enumerate(totals)]
    amount = data.draw(st.integers(1, sum(totals)))
    outcome = payments.pay_by_card(world.deps, ACCOUNT, [i.id for i in invoices], token(), "key-p",
                                   amount_minor=amount)
    paid = sum(p.amount.amount_minor for i in outcome.invoices for p in i.payments)
    assert paid == amount == sum(m for _, m in outcome.payment.allocation)
    assert all(i.balance().amount_minor >= 0 for i in outcome.invoices)


# --- offline payments and credit -----------------------------------------------------------


def test_an_offline_overpayment_becomes_credit_spent_on_the_next_invoice(world: World) -> None:
    invoice = world.issue(10_000).invoice
    world.uow.data.mails.clear()  # the invoice's "no PO" flag
    outcome = payments.record_offline_payment(world.deps, ACCOUNT, [invoice.id], 15_000, "bank_transfer",
                                              "WIRE-77", None, recorded_by="rep-1")
    assert outcome.allocation.credit == Money(5_000, "USD")
    assert invoicing.get_invoice(world.deps, ACCOUNT, invoice.id).state is InvoiceState.PAID
    following = world.issue(8_000).invoice
    assert following.amount_paid() == Money(5_000, "USD")
    assert following.balance() == Money(3_000, "USD")
    assert [("WIRE-77" in m.body, m.to) for m in world.sent() if "WIRE-77" in m.body] == [
        (True, ("bob@globex.example",)), (True, ("ana@globex.example",))]


def test_an_offline_payment_needs_a_method_and_reference_and_is_recorded_once(world: World) -> None:
    invoice = world.issue(10_000).invoice
    with pytest.raises(InvalidArgument) as caught:
        payments.record_offline_payment(world.deps, ACCOUNT, [invoice.id], 1_000, "cash", "R-1", None,
                                        recorded_by="rep-1")
    assert caught.value.field == "method"
    with pytest.raises(InvalidArgument) as caught:
        payments.record_offline_payment(world.deps, ACCOUNT, [invoice.id], 1_000, "check", " ", None,
                                        recorded_by="rep-1")
    assert caught.value.field == "reference"
    payments.record_offline_payment(world.deps, ACCOUNT, [invoice.id], 1_000, "check", "CHK-1", None,
                                    recorded_by="rep-1")
    with pytest.raises(AlreadyExists):
        payments.record_offline_payment(world.deps, ACCOUNT, [invoice.id], 1_000, "check", "CHK-1", None,
                                        recorded_by="rep-1")


# --- statement -----------------------------------------------------------------------------


def test_the_statement_ages_what_is_owed_and_balances(world: World) -> None:
    world.issue(10_000, days_ago=100)  # due 70 days ago: 61-90
    world.issue(20_000, days_ago=45)  # due 15 days ago: 1-30
    current = world.issue(30_000).invoice  # not yet due
    payments.pay_by_card(world.deps, ACCOUNT, [current.id], token(), "key-1", amount_minor=5_000)
    st_ = invoicing.account_statement(world.deps, ACCOUNT, world.today - dt.timedelta(days=120), world.today)
    aging = st_.aging
    assert (aging.current, aging.days_1_30, aging.days_31_60, aging.days_61_90, aging.over_90) == (
        Money(25_000, "USD"), Money(20_000, "USD"), Money(0, "USD"), Money(10_000, "USD"), Money(0, "USD"))
    assert st_.closing_balance == Money(55_000, "USD") == aging.total
    assert [e.kind.value for e in st_.entries] == ["invoice", "invoice", "invoice", "payment"]


def test_a_statement_period_that_ends_before_it_starts_is_invalid(world: World) -> None:
    with pytest.raises(InvalidArgument) as caught:
        invoicing.account_statement(world.deps, ACCOUNT, world.today, world.today - dt.timedelta(days=1))
    assert caught.value.field == "end"


# --- purchase orders -----------------------------------------------------------------------


def test_a_po_is_created_edited_and_listed_with_status_and_remaining(world: World) -> None:
    po = purchase_orders.create_po(world.deps, ACCOUNT, "PO-1", 100_000, "USD", world.today,
                                   world.today + dt.timedelta(days=90), "annual").po
    with pytest.raises(AlreadyExists):
        purchase_orders.create_po(world.deps, ACCOUNT, "PO-1", 1, "USD", world.today, world.today)
    world.issue(40_000, "PO-1")
    with pytest.raises(InvalidArgument) as caught:
        purchase_orders.edit_po(world.deps, ACCOUNT, po.id, 30_000, "USD", world.today, world.today)
    assert caught.value.field == "amount"
    edited = purchase_orders.edit_po(world.deps, ACCOUNT, po.id, 40_000, "USD", world.today, world.today)
    assert (edited.status, edited.po.remaining()) == (PoStatus.EXHAUSTED, Money(0, "USD"))
    with pytest.raises(NotFound):  # S13
        purchase_orders.get_po(world.deps, "acct-other", po.id)


@pytest.mark.parametrize(("field", "kwargs"), [
    ("number", {"number": " PO"}), ("amount", {"amount_minor": 0}), ("currency", {"currency": "XXXX"}),
    ("valid_to", {"valid_to": dt.date(2020, 1, 1)}), ("valid_from", {"valid_from": None}),
])
def test_a_bad_po_is_invalid_naming_the_field(world: World, field: str, kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"number": "PO-9", "amount_minor": 100, "currency": "USD",
                               "valid_from": dt.date(2027, 1, 1), "valid_to": dt.date(2027, 12, 31)}
    args.update(kwargs)
    with pytest.raises(InvalidArgument) as caught:
        purchase_orders.create_po(world.deps, ACCOUNT, **args)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_the_expiry_notice_is_mailed_once_30_days_before(world: World) -> None:
    purchase_orders.create_po(world.deps, ACCOUNT, "PO-SOON", 100_000, "USD", world.today - dt.timedelta(days=300),
                              world.today + dt.timedelta(days=30))
    purchase_orders.create_po(world.deps, ACCOUNT, "PO-LATER", 100_000, "USD", world.today,
                              world.today + dt.timedelta(days=31))
    assert purchase_orders.send_po_notices(world.deps) == 1
    assert purchase_orders.send_po_notices(world.deps) == 0
    english, portuguese = world.sent()
    assert (english.to, english.subject) == (("bob@globex.example", "rep@vendor.example"),
                                              "Purchase order PO-SOON expires on February 14, 2027")
    assert (portuguese.to, portuguese.subject) == (("ana@globex.example",),
                                                    "O pedido de compra PO-SOON vence em 14 de fevereiro de 2027")


def test_a_card_payment_above_the_gateways_limit_is_refused_before_anything_is_stored(world: World) -> None:
    invoice = world.issue(150_000_000).invoice
    with pytest.raises(InvalidArgument) as caught:
        payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], token(), "key-1")
    assert caught.value.field == "amount"
    assert world.charges() == 0 and world.uow.data.card_payments == {}
    payments.pay_by_card(world.deps, ACCOUNT, [invoice.id], token(), "key-2", amount_minor=99_999_999)
    assert invoicing.get_invoice(world.deps, ACCOUNT, invoice.id).state is InvoiceState.PARTIALLY_PAID
