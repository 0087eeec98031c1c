"""The members' change request RPCs of online_billing against the real server in-process on
port 0, the real database (PostgreSQL with TEST_DATABASE_URL) and the sandbox gateway: ask
(the contacts mailed through the outbox), list, get, withdraw, decline (the member mailed),
approve (applied as previewed, invoiced, charged once under 20 parallel approvals: S19), S13,
the callers allowed, and bad input naming the field."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from sqlalchemy import select

from billing.online_billing.v1 import online_billing_pb2 as pb
from billing.online_billing.v1 import online_billing_pb2_grpc
from billing_common.billing_contacts import BillingContact, FakeBillingContacts
from billing_common.clock import FakeClock
from billing_common.db import make_engine
from billing_common.grpc_client import error_field, make_channel
from billing_common.mail import read_maildir
from billing_common.payments.settings import GatewaySettings
from services.devstack import demo_backends
from services.online_billing.adapters import orm
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.grpc_server import build
from tests import callers

NOV_16_2026 = 1_794_787_200.0
MARK = pb.Requester(user_id="u-mark", name="Mark Lee", email="mark@acme.test", locale="en")
LUIZA = pb.Requester(user_id="u-luiza", name="Luiza Lima", email="luiza@acme.test", locale="pt-BR")


@pytest.fixture
def stub(settings: OnlineBillingSettings, gateway_settings: GatewaySettings
         ) -> Iterator[online_billing_pb2_grpc.OnlineBillingServiceStub]:
    clock = FakeClock(NOV_16_2026)
    demo_backends.seed_online_billing(settings, {"acme": "acct-acme", "padaria": "acct-padaria"}, clock=clock,
                                      gateway_settings=gateway_settings)
    contacts = FakeBillingContacts()
    contacts.add("acct-acme", BillingContact("u-olivia", "Olivia Ortega", "olivia@acme.test", "en"))
    server = build(settings, gateway_settings=gateway_settings, clock=clock, contacts=contacts).start()
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.BILLING_CENTER, default_timeout=30.0)
    try:
        yield online_billing_pb2_grpc.OnlineBillingServiceStub(channel)
    finally:
        channel.close()
        server.stop()


def _ask(stub, seats: int = 12, who: pb.Requester = MARK, account: str = "acct-acme", note: str = "Two new hires.",  # type: ignore[no-untyped-def]
         plan: str = "business") -> pb.MemberChangeRequest:
    return stub.RequestChange(pb.RequestChangeRequest(
        account_id=account, requester=who, plan_code=plan, seats=seats, interval=pb.BILLING_INTERVAL_MONTHLY,
        note=note)).change_request


def _outbox(settings: OnlineBillingSettings) -> list[tuple[str, str]]:
    """(to, subject) of every mail written, in order (the body is blanked once delivered)."""
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(orm.outbox.c.to_addrs, orm.outbox.c.subject).order_by(orm.outbox.c.id))
            return [(r.to_addrs, r.subject) for r in rows]
    finally:
        engine.dispose()


def _delivered(settings: OnlineBillingSettings, to: str, timeout: float = 15.0) -> tuple[str, str]:
    """(subject, body) of the newest mail to `to` in the Maildir, once the dispatcher sent it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in read_maildir(settings.maildir, newest=50):
            if message["To"] == to:
                return str(message["Subject"]), message.get_content()  # type: ignore[attr-defined]
        time.sleep(0.05)
    raise AssertionError(f"no mail to {to}")


def _code(call) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code()  # type: ignore[no-any-return]


def test_a_request_is_pending_listed_and_the_contact_is_mailed(stub, settings) -> None:  # type: ignore[no-untyped-def]
    asked = _ask(stub)
    assert asked.status == pb.CHANGE_REQUEST_STATUS_PENDING
    assert (asked.target.plan_name, asked.target.seats, asked.target.amount.amount_minor) == ("Business", 12, 19_200)
    assert asked.requester == MARK and asked.note == "Two new hires."
    listed = stub.ListChangeRequests(pb.ListChangeRequestsRequest(account_id="acct-acme")).change_requests
    assert [r.change_request_id for r in listed] == [asked.change_request_id]
    got = stub.GetChangeRequest(pb.GetChangeRequestRequest(account_id="acct-acme",
                                                           change_request_id=asked.change_request_id))
    assert got.change_request == asked
    assert _outbox(settings) == [("olivia@acme.test", "A member asks for a change to your subscription")]
    subject, body = _delivered(settings, "olivia@acme.test")
    assert "Business, 12 seats, billed monthly" in body and "Two new hires." in body


def test_approval_is_invoiced_as_previewed_once_under_twenty_parallel_approvals(stub, settings) -> None:  # type: ignore[no-untyped-def]  # noqa: E501  # S19
    asked = _ask(stub, who=LUIZA)
    sub_id = stub.GetSubscription(pb.GetSubscriptionRequest(account_id="acct-acme")).subscription.subscription_id
    preview = stub.PreviewChange(pb.PreviewChangeRequest(change=pb.ChangeRequest(
        account_id="acct-acme", subscription_id=sub_id, plan_code="business", seats=12,
        interval=pb.BILLING_INTERVAL_MONTHLY))).preview

    def approve(_: int) -> pb.ApproveChangeRequestResponse:
        return stub.ApproveChangeRequest(pb.ApproveChangeRequestRequest(  # type: ignore[no-any-return]
            account_id="acct-acme", change_request_id=asked.change_request_id, decided_by="u-olivia",
            idempotency_key=str(uuid.uuid4())))

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(approve, range(20)))
    assert {a.invoice.invoice_id for a in answers} == {answers[0].invoice.invoice_id}
    assert all(a.change_request.status == pb.CHANGE_REQUEST_STATUS_APPROVED for a in answers)
    assert list(answers[0].invoice.lines) == list(preview.lines) and answers[0].invoice.total == preview.amount_due
    assert answers[0].subscription.current.seats == 12
    invoices = stub.ListInvoices(pb.ListInvoicesRequest(account_id="acct-acme", page_size=100)).invoices
    assert sum(i.kind == pb.INVOICE_KIND_PRORATION for i in invoices) == 1
    outcome = [m for m in _outbox(settings) if m[0] == "luiza@acme.test"]
    assert [m[1] for m in outcome] == ["Seu pedido de alteração foi aprovado"]
    assert "Ela já está em vigor" in _delivered(settings, "luiza@acme.test")[1]


def test_decline_with_a_reason_mails_the_member_and_withdraw_is_the_members_own(stub, settings) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    mark, luiza = _ask(stub), _ask(stub, 13, who=LUIZA)
    request = pb.DeclineChangeRequestRequest(account_id="acct-acme", change_request_id=mark.change_request_id,
                                             decided_by="u-olivia", reason="")
    with pytest.raises(grpc.RpcError) as caught:
        stub.DeclineChangeRequest(request)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT and error_field(caught.value) == "reason"
    request.reason = "Not this quarter."
    declined = stub.DeclineChangeRequest(request).change_request
    assert declined.status == pb.CHANGE_REQUEST_STATUS_DECLINED and declined.decline_reason == "Not this quarter."
    assert declined.HasField("decided_at")
    assert [m for m in _outbox(settings) if m[0] == "mark@acme.test"] == [
        ("mark@acme.test", "Your change request was declined")]
    assert "Not this quarter." in _delivered(settings, "mark@acme.test")[1]
    withdraw = pb.WithdrawChangeRequestRequest(account_id="acct-acme", change_request_id=luiza.change_request_id,
                                               requested_by="u-mark")
    assert _code(lambda: stub.WithdrawChangeRequest(withdraw)) is grpc.StatusCode.NOT_FOUND  # not Mark's
    withdraw.requested_by = "u-luiza"
    assert stub.WithdrawChangeRequest(withdraw).change_request.status == pb.CHANGE_REQUEST_STATUS_WITHDRAWN
    assert _code(lambda: stub.DeclineChangeRequest(pb.DeclineChangeRequestRequest(
        account_id="acct-acme", change_request_id=luiza.change_request_id, decided_by="u-olivia",
        reason="No."))) is grpc.StatusCode.FAILED_PRECONDITION
    mine = stub.ListChangeRequests(pb.ListChangeRequestsRequest(account_id="acct-acme", requested_by="u-luiza"))
    assert [r.status for r in mine.change_requests] == [pb.CHANGE_REQUEST_STATUS_WITHDRAWN]
    assert stub.ListChangeRequests(pb.ListChangeRequestsRequest(account_id="acct-acme",
                                                                pending_only=True)).change_requests == []


def test_another_accounts_request_is_not_found_and_changes_nothing(stub) -> None:  # type: ignore[no-untyped-def]  # S13
    asked = _ask(stub)
    rid, other = asked.change_request_id, "acct-padaria"
    assert _code(lambda: stub.GetChangeRequest(pb.GetChangeRequestRequest(
        account_id=other, change_request_id=rid))) is grpc.StatusCode.NOT_FOUND
    assert _code(lambda: stub.ApproveChangeRequest(pb.ApproveChangeRequestRequest(
        account_id=other, change_request_id=rid, decided_by="u-joana",
        idempotency_key=str(uuid.uuid4())))) is grpc.StatusCode.NOT_FOUND
    assert _code(lambda: stub.DeclineChangeRequest(pb.DeclineChangeRequestRequest(
        account_id=other, change_request_id=rid, decided_by="u-joana", reason="x"))) is grpc.StatusCode.NOT_FOUND
    assert _code(lambda: stub.WithdrawChangeRequest(pb.WithdrawChangeRequestRequest(
        account_id=other, change_request_id=rid, requested_by="u-mark"))) is grpc.StatusCode.NOT_FOUND
    assert stub.ListChangeRequests(pb.ListChangeRequestsRequest(account_id=other)).change_requests == []
    again = stub.GetChangeRequest(pb.GetChangeRequestRequest(account_id="acct-acme", change_request_id=rid))
    assert again.change_request.status == pb.CHANGE_REQUEST_STATUS_PENDING


@pytest.mark.parametrize(("change", "field"), [
    ({"plan_code": "platinum"}, "plan_code"), ({"seats": 0}, "seats"), ({"seats": 5000}, "seats"),
    ({"interval": pb.BILLING_INTERVAL_UNSPECIFIED}, "interval"), ({"note": "x" * 501}, "note"),
    ({"requester": pb.Requester(user_id="u-mark", name="Mark", email="nope", locale="en")}, "requester_email"),
    ({"account_id": ""}, "account_id"),
])
def test_bad_input_is_invalid_argument_naming_the_field_and_writes_nothing(stub, settings, change, field) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    request = pb.RequestChangeRequest(account_id="acct-acme", requester=MARK, plan_code="business", seats=12,
                                      interval=pb.BILLING_INTERVAL_MONTHLY)
    for name, value in change.items():
        if isinstance(value, pb.Requester):
            request.requester.CopyFrom(value)
        else:
            setattr(request, name, value)
    with pytest.raises(grpc.RpcError) as caught:
        stub.RequestChange(request)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT and error_field(caught.value) == field
    assert stub.ListChangeRequests(pb.ListChangeRequestsRequest(account_id="acct-acme")).change_requests == []
    assert _outbox(settings) == []


def test_a_caller_other_than_the_billing_center_is_refused(settings, gateway_settings) -> None:  # type: ignore[no-untyped-def]
    server = build(settings, gateway_settings=gateway_settings).start()
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.ENTERPRISE, default_timeout=10.0)
    try:
        other = online_billing_pb2_grpc.OnlineBillingServiceStub(channel)
        # online_billing holds only the Billing Center's secret: the Enterprise portal is unknown to it
        # (tests/integration/common/test_who_may_call_each_service.py checks every method and caller).
        assert _code(lambda: other.ListChangeRequests(pb.ListChangeRequestsRequest(
            account_id="acct-acme"))) is grpc.StatusCode.UNAUTHENTICATED
    finally:
        channel.close()
        server.stop()
