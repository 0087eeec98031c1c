"""Members' change requests over in-memory fakes, the sandbox gateway and a fake clock: the
states (pending -> approved / declined / withdrawn, nothing out of them), the approval applied
as a contact's own change (previewed fresh, charged once: S19), a decline of the card, a lost
answer (S20), the mails in each recipient's language, S13, and bad input naming the field."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_common.billing_contacts import BillingContact, FakeBillingContacts
from billing_common.clock import FakeClock
from billing_common.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from billing_common.payments.gateway import CardDetails, PaymentDeclined
from billing_common.payments.sandbox import InMemoryChargeStore, SandboxGateway, SandboxTokenizer
from services.online_billing.adapters.memory import InMemoryUnitOfWork
from services.online_billing.domain.model import BillingInterval
from services.online_billing.domain.requests import ChangeRequest, Requester, RequestStatus
from services.online_billing.service_layer import accounts, change_requests, subscriptions
from services.online_billing.service_layer.dependencies import Dependencies
from services.online_billing.service_layer.subscriptions import Result
from tests.unit.online_billing.factories import subscription

SECRET = "unit-test-online-billing-sandbox"
MONTHLY, ANNUAL = BillingInterval.MONTHLY, BillingInterval.ANNUAL
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
MID = dt.datetime(2026, 11, 16, tzinfo=dt.UTC)
MARK = Requester("u-mark", "Mark Member", "mark@acme.test", "en")
LUIZA = Requester("u-luiza", "Luiza Lima", "luiza@acme.test", "pt-BR")
OLIVIA = BillingContact("u-olivia", "Olivia Ortega", "olivia@acme.test", "en")
JOANA = BillingContact("u-joana", "Joana Souza", "joana@acme.test", "pt-BR")


class World:
    def __init__(self, number: str = "4242424242424242") -> None:
        self.clock = FakeClock(MID.timestamp())
        self.gateway = SandboxGateway(SECRET, InMemoryChargeStore())
        self.sub = subscription("acct-a", start=START)
        self.uow = InMemoryUnitOfWork([self.sub, subscription("acct-b", start=START)], catalogue=True)
        self.contacts = FakeBillingContacts()
        self.contacts.add("acct-a", OLIVIA, JOANA)
        self.deps = Dependencies(uow=lambda: self.uow, clock=self.clock, gateway=self.gateway,
                                 contacts=self.contacts, billing_center_url="https://billing.example")
        card = SandboxTokenizer(SECRET).tokenize(CardDetails(number, 12, 2030, "123", "Olivia")).token
        accounts.add_payment_method(self.deps, "acct-a", card)

    def ask(self, plan: str = "business", seats: int = 12, interval: BillingInterval = MONTHLY,
            who: Requester = MARK, note: str = "We hired two people.") -> ChangeRequest:
        return change_requests.request_change(self.deps, "acct-a", who, plan, seats, interval, note)

    def approve(self, request: ChangeRequest, key: str | None = None
                ) -> tuple[ChangeRequest, subscriptions.Outcome]:
        return change_requests.approve(self.deps, "acct-a", request.id, "u-olivia", key or str(uuid.uuid4()))

    def current(self):  # type: ignore[no-untyped-def]
        return subscriptions.get_subscription(self.deps, "acct-a").subscription

    @property
    def mails(self):  # type: ignore[no-untyped-def]
        return self.uow.data.mails


def test_a_request_is_pending_and_each_billing_contact_is_mailed_in_their_language() -> None:
    w = World()
    request = w.ask()
    assert request.status is RequestStatus.PENDING and request.target.seats == 12
    assert w.current() == w.sub  # nothing changed yet
    en, pt = w.mails
    assert en.to == ("olivia@acme.test",) and en.subject == "A member asks for a change to your subscription"
    assert en.reply_to == "mark@acme.test"
    assert "    Business, 12 seats, billed monthly\n" in en.body and "We hired two people." in en.body
    assert "https://billing.example/requests" in en.body
    assert pt.to == ("joana@acme.test",) and pt.subject == "Um membro pede uma alteração na sua assinatura"
    assert "    Business, 12 licenças, cobrança mensal\n" in pt.body
    assert change_requests.list_change_requests(w.deps, "acct-a") == [request]


def test_approval_applies_the_change_as_previewed_now_invoices_it_and_mails_the_member() -> None:
    w = World()
    request = w.ask(who=LUIZA)
    preview = subscriptions.preview(w.deps, "acct-a", w.sub.id, "business", 12, MONTHLY)
    done, outcome = w.approve(request)
    assert done.status is RequestStatus.APPROVED and done.decided_by == "u-olivia"
    assert outcome.result is Result.APPLIED and outcome.invoice is not None
    assert outcome.invoice.lines == preview.lines and done.invoice_id == outcome.invoice.id
    assert w.current().seats == 12
    mail = w.mails[-1]
    assert mail.to == ("luiza@acme.test",) and mail.subject == "Seu pedido de alteração foi aprovado"
    assert "Ela já está em vigor" in mail.body


def test_a_double_approval_charges_once_and_answers_the_same_invoice() -> None:  # S19
    w = World()
    request = w.ask()
    first = w.approve(request, key="k-1")
    second = w.approve(request, key="k-2")  # a second contact, or a double submit with a new page
    assert second[0].status is RequestStatus.APPROVED and second[1].invoice == first[1].invoice
    assert w.gateway.calls["charge"] == 1
    assert sum(m.subject == "Your change request was approved" for m in w.mails) == 1


def test_a_downgrade_request_is_scheduled_on_approval_and_the_mail_says_when() -> None:
    w = World()
    done, outcome = w.approve(w.ask("starter", 10))
    assert outcome.result is Result.SCHEDULED and done.scheduled and done.invoice_id is None
    assert "It takes effect at the next renewal, on 2026-12-01." in w.mails[-1].body
    assert w.gateway.calls.get("charge", 0) == 0


def test_a_declined_card_leaves_the_request_pending_and_a_later_approval_is_a_new_attempt() -> None:
    w = World("4000000000000341")
    request = w.ask()
    with pytest.raises(PaymentDeclined):
        w.approve(request, key="k-1")
    again = change_requests.get_change_request(w.deps, "acct-a", request.id)
    assert again.is_pending and again.approval_key is None and w.current() == w.sub
    assert not any(m.to == ("mark@acme.test",) for m in w.mails)
    declined = change_requests.decline(w.deps, "acct-a", request.id, "u-olivia", "The card is being replaced.")
    assert declined.status is RequestStatus.DECLINED


def test_a_lost_answer_keeps_the_request_pending_and_the_next_approval_finishes_it_with_one_charge() -> None:  # S20
    w = World("4000000000000408")
    request = w.ask()
    pending, outcome = w.approve(request, key="k-1")
    assert outcome.result is Result.PAYMENT_PENDING and pending.is_pending and pending.approval_key == "k-1"
    with pytest.raises(FailedPrecondition):  # the money may be moving: no withdrawal, no decline
        change_requests.withdraw(w.deps, "acct-a", request.id, "u-mark")
    subscriptions.reconcile(w.deps)
    done, outcome = w.approve(request, key="k-2")  # replays k-1, answered from the settled payment
    assert done.status is RequestStatus.APPROVED and outcome.result is Result.APPLIED
    assert w.gateway.calls["charge"] == 1 and w.current().seats == 12


def test_a_request_made_stale_by_another_change_is_previewed_fresh_at_approval() -> None:
    w = World()
    request, stale = w.ask("business", 12), w.ask("business", 12, who=LUIZA)
    subscriptions.apply_change(w.deps, "acct-a", w.sub.id, "business", 11, MONTHLY, str(uuid.uuid4()))
    fresh = subscriptions.preview(w.deps, "acct-a", w.sub.id, "business", 12, MONTHLY)
    _, outcome = w.approve(request)
    assert outcome.invoice is not None and outcome.invoice.lines == fresh.lines  # 11 -> 12, not 10 -> 12
    with pytest.raises(FailedPrecondition):  # nothing left to change: the contact declines it
        w.approve(stale)
    assert change_requests.get_change_request(w.deps, "acct-a", stale.id).approval_key is None


def test_decline_needs_a_reason_and_mails_it_to_the_member() -> None:
    w = World()
    request = w.ask()
    with pytest.raises(InvalidArgument) as caught:
        change_requests.decline(w.deps, "acct-a", request.id, "u-olivia", "   ")
    assert caught.value.field == "reason"
    done = change_requests.decline(w.deps, "acct-a", request.id, "u-olivia", "Not this quarter.")
    assert done.status is RequestStatus.DECLINED and done.decline_reason == "Not this quarter."
    mail = w.mails[-1]
    assert mail.to == ("mark@acme.test",) and mail.subject == "Your change request was declined"
    assert "Their reason:\nNot this quarter.\n" in mail.body
    again = change_requests.decline(w.deps, "acct-a", request.id, "u-olivia", "Not this quarter.")  # double submit
    assert again == done and sum(m.subject == mail.subject for m in w.mails) == 1


@pytest.mark.parametrize("move", ["approve", "decline", "withdraw"])
@pytest.mark.parametrize("end", ["approved", "declined", "withdrawn"])
def test_nothing_leaves_approved_declined_or_withdrawn(end: str, move: str) -> None:
    w = World()
    request = w.ask("starter", 10)
    {"approved": lambda: w.approve(request),
     "declined": lambda: change_requests.decline(w.deps, "acct-a", request.id, "u-olivia", "No."),
     "withdrawn": lambda: change_requests.withdraw(w.deps, "acct-a", request.id, "u-mark")}[end]()
    if (end, move) in {("approved", "approve"), ("declined", "decline"), ("withdrawn", "withdraw")}:
        return  # a repeat of the same move answers it again (tested above)
    with pytest.raises(FailedPrecondition):
        {"approve": lambda: w.approve(request),
         "decline": lambda: change_requests.decline(w.deps, "acct-a", request.id, "u-olivia", "No."),
         "withdraw": lambda: change_requests.withdraw(w.deps, "acct-a", request.id, "u-mark")}[move]()
    assert change_requests.get_change_request(w.deps, "acct-a", request.id).status.value == end


def test_only_the_asking_member_withdraws_and_then_may_ask_again() -> None:
    w = World()
    request = w.ask()
    with pytest.raises(FailedPrecondition) as caught:  # one pending request per member
        w.ask("enterprise", 10)
    assert caught.value.field == "change_request_id"
    w.ask("enterprise", 10, who=LUIZA)  # another member may
    with pytest.raises(NotFound):
        change_requests.withdraw(w.deps, "acct-a", request.id, "u-luiza")
    assert change_requests.withdraw(w.deps, "acct-a", request.id, "u-mark").status is RequestStatus.WITHDRAWN
    w.clock.advance(60)
    assert w.ask("enterprise", 10).is_pending
    mine = change_requests.list_change_requests(w.deps, "acct-a", requested_by="u-mark")
    assert [r.status for r in mine] == [RequestStatus.PENDING, RequestStatus.WITHDRAWN]
    assert len(change_requests.list_change_requests(w.deps, "acct-a", pending_only=True)) == 2


def test_another_accounts_request_is_not_found() -> None:  # S13
    w = World()
    request = w.ask()
    with pytest.raises(NotFound):
        change_requests.get_change_request(w.deps, "acct-b", request.id)
    with pytest.raises(NotFound):
        change_requests.approve(w.deps, "acct-b", request.id, "u-b", str(uuid.uuid4()))
    with pytest.raises(NotFound):
        change_requests.decline(w.deps, "acct-b", request.id, "u-b", "No.")
    assert change_requests.list_change_requests(w.deps, "acct-b") == []
    assert change_requests.get_change_request(w.deps, "acct-a", request.id).is_pending


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"plan": "platinum"}, "plan_code"), ({"seats": 0}, "seats"), ({"seats": 100_000}, "seats"),
    ({"interval": None}, "interval"), ({"note": "x" * 501}, "note"), ({"note": "a\x00b"}, "note"),
    ({"who": Requester("u-mark", "Mark", "not-an-email", "en")}, "requester_email"),
    ({"who": Requester("", "Mark", "mark@acme.test", "en")}, "requested_by"),
    ({"who": Requester("u-mark", "M" * 101, "mark@acme.test", "en")}, "requester_name"),
])
def test_bad_input_names_the_field_and_writes_nothing(kwargs: dict[str, object], field: str) -> None:
    w = World()
    with pytest.raises(InvalidArgument) as caught:
        w.ask(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert w.uow.data.requests == {} and w.mails == []


def test_what_the_subscription_has_already_or_cannot_do_is_refused() -> None:
    w = World()
    with pytest.raises(FailedPrecondition):
        w.ask("business", 10)  # what it has
    subscriptions.cancel(w.deps, "acct-a", w.sub.id)
    with pytest.raises(FailedPrecondition):
        w.ask("business", 12)  # pending cancellation: reactivate first
    with pytest.raises(NotFound):
        change_requests.request_change(w.deps, "acct-none", MARK, "business", 12, MONTHLY, "")


def test_identity_unavailable_writes_nothing() -> None:
    w = World()
    w.contacts.down = True
    with pytest.raises(Unavailable):
        w.ask()
    assert w.uow.data.requests == {} and w.mails == []


def test_without_a_billing_contacts_port_the_request_is_stored_and_nobody_is_mailed() -> None:
    w = World()
    w.deps.contacts = None
    assert w.ask().is_pending and w.mails == []


@given(note=st.text(max_size=600), seats=st.integers(-5, 2000))
def test_any_note_and_seat_count_is_a_request_or_a_refusal_naming_the_field(note: str, seats: int) -> None:
    w = World()
    try:
        w.ask(seats=seats, note=note)
    except InvalidArgument as exc:
        assert exc.field in {"note", "seats"}
    except FailedPrecondition:
        assert seats == 10
