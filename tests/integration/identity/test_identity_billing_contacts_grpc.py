"""The billing-contact and handover RPCs over real gRPC to an in-process identity on the real
database (PostgreSQL with TEST_DATABASE_URL) and the real Redis: each RPC, S13, S14, S17, the
caller check, the mails through the outbox to the Maildir, the audit log's rows."""
from __future__ import annotations

import uuid

import grpc
import pytest
from sqlalchemy import select

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.clock import FakeClock
from billing_common.db import make_engine
from billing_common.grpc_client import error_field, make_channel
from billing_common.service_auth import ONLINE_BILLING
from services.identity.adapters import orm
from tests import callers
from tests.integration.identity.test_identity_grpc import Demo, _error, _wait_for_mail

ENT, BC = pb.PORTAL_ENTERPRISE, pb.PORTAL_BILLING_CENTER


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def demo(stub, unique) -> Demo:
    return Demo(stub, unique)


@pytest.fixture
def other(stub, unique):
    """Another enterprise account with a contact of its own (S13)."""
    account = stub.CreateAccount(pb.CreateAccountRequest(
        name=unique("Initech"), kind=pb.ACCOUNT_KIND_ENTERPRISE, currency="BRL", locale="pt-BR")).account
    login = unique("initech-ap")
    user_id = stub.CreateUser(pb.CreateUserRequest(login=login, email=f"{login}@initech.test", name="Initech AP",
                                                   locale="pt-BR", password="Initech-demo-2026!")).user_id
    stub.AddMembership(pb.AddMembershipRequest(user_id=user_id, account_id=account.account_id,
                                               role=pb.ROLE_BILLING_CONTACT))
    return account, {"id": user_id, "login": login, "password": "Initech-demo-2026!"}


def _token(demo, who) -> str:
    return demo.sign_in(who, ENT).session.token


def _add(stub, token, account_id, login, name="Dana New"):
    return stub.AddBillingContact(pb.AddBillingContactRequest(
        session_token=token, portal=ENT, account_id=account_id, login=login, email=login, name=name))


def _audit(server_settings, account_id):
    engine = make_engine(server_settings.database_url)
    try:
        with engine.connect() as conn:
            a = orm.audit_log.c
            return [(r.actor, r.caller, r.action, r.user_id) for r in conn.execute(
                select(a.actor, a.caller, a.action, a.user_id, a.details).where(a.account_id == account_id)
                .order_by(a.id))]
    finally:
        engine.dispose()


def test_list_add_primary_remove_with_mails_and_audit(stub, demo, unique, server_settings):
    account_id = demo.enterprise.account_id
    token = _token(demo, demo.globex)
    listed = stub.ListBillingContacts(pb.ListBillingContactsRequest(session_token=token, portal=ENT,
                                                                   account_ids=[account_id])).accounts[0].contacts
    assert [(c.name, c.primary, c.has_password, c.HasField("last_sign_in_at")) for c in listed] == [
        ("Globex AP", False, True, True)]
    dana = unique("dana") + "@globex.test"
    new_id = _add(stub, token, account_id, dana).user_id
    welcome = _wait_for_mail(server_settings.maildir, dana, "/reset/")
    assert welcome["Subject"] == "Create your password for the Enterprise Billing Portal"
    notice = _wait_for_mail(server_settings.maildir, demo.globex["email"], "added Dana New")
    assert notice["Subject"] == f"The billing contacts of {demo.enterprise.name} changed"

    stub.SetPrimaryBillingContact(pb.SetPrimaryBillingContactRequest(
        session_token=token, portal=ENT, account_id=account_id, user_id=new_id))
    listed = stub.ListBillingContacts(pb.ListBillingContactsRequest(session_token=token, portal=ENT,
                                                                   account_ids=[account_id])).accounts[0].contacts
    assert [(c.name, c.primary, c.has_password, c.login) for c in listed] == [
        ("Dana New", True, False, dana), ("Globex AP", False, True, demo.globex["login"])]
    err = _error(stub.RemoveBillingContact, pb.RemoveBillingContactRequest(
        session_token=token, portal=ENT, account_id=account_id, user_id=new_id))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and error_field(err) == "user_id"
    stub.SetPrimaryBillingContact(pb.SetPrimaryBillingContactRequest(
        session_token=token, portal=ENT, account_id=account_id, user_id=demo.globex["id"]))
    stub.RemoveBillingContact(pb.RemoveBillingContactRequest(
        session_token=token, portal=ENT, account_id=account_id, user_id=new_id))
    err = _error(stub.RemoveBillingContact, pb.RemoveBillingContactRequest(  # the last one now
        session_token=token, portal=ENT, account_id=account_id, user_id=demo.globex["id"]))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    actions = [(actor, caller, action) for actor, caller, action, _ in _audit(server_settings, account_id)
               if action.startswith("billing_contact.")]
    me = demo.globex["id"]
    assert actions == [(me, "enterprise-portal-web", "billing_contact.added"),
                       (me, "enterprise-portal-web", "billing_contact.made_primary"),
                       (me, "enterprise-portal-web", "billing_contact.made_primary"),
                       (me, "enterprise-portal-web", "billing_contact.removed")]


def test_s13_another_account_is_not_found_and_s14_a_rep_serves_only_their_own(stub, demo, other, unique):
    account, initech = other
    token = _token(demo, demo.globex)
    for call, request in (
        (stub.ListBillingContacts, pb.ListBillingContactsRequest(session_token=token, portal=ENT,
                                                                 account_ids=[account.account_id])),
        (stub.AddBillingContact, pb.AddBillingContactRequest(
            session_token=token, portal=ENT, account_id=account.account_id, login=unique("x") + "@x.test",
            email=unique("x") + "@x.test", name="X")),
        (stub.SetPrimaryBillingContact, pb.SetPrimaryBillingContactRequest(
            session_token=token, portal=ENT, account_id=account.account_id, user_id=initech["id"])),
        (stub.ListHandovers, pb.ListHandoversRequest(session_token=token, portal=ENT,
                                                     account_id=account.account_id)),
    ):
        assert _error(call, request).code() == grpc.StatusCode.NOT_FOUND
    rita = _token(demo, demo.rita)
    assert _error(stub.ListBillingContacts, pb.ListBillingContactsRequest(
        session_token=rita, portal=ENT, account_ids=[account.account_id])).code() == grpc.StatusCode.NOT_FOUND
    assert len(stub.ListBillingContacts(pb.ListBillingContactsRequest(
        session_token=rita, portal=ENT, account_ids=[demo.enterprise.account_id])).accounts[0].contacts) == 1
    err = _error(_add, stub, rita, demo.enterprise.account_id, unique("y") + "@y.test")
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


def test_s17_a_change_needs_a_sign_in_within_fifteen_minutes(stub, demo, clock, unique):
    token = _token(demo, demo.globex)
    clock.advance(16 * 60)
    stub.ValidateSession(pb.ValidateSessionRequest(token=token, portal=ENT))
    err = _error(_add, stub, token, demo.enterprise.account_id, unique("z") + "@z.test")
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION and error_field(err) == "session_token"
    assert _add(stub, _token(demo, demo.globex), demo.enterprise.account_id, unique("z") + "@z.test").user_id


@pytest.mark.parametrize(("field", "changes"), [
    ("login", {"login": "bad id"}), ("email", {"email": "nope"}), ("name", {"name": " "}),
    ("locale", {"locale": "xx"}), ("account_id", {"account_id": ""}), ("login", {"login": "x" * 300}),
])
def test_bad_input_is_invalid_argument_naming_the_field(stub, demo, unique, field, changes):
    token = _token(demo, demo.globex)
    email = unique("ok") + "@ok.test"
    request = {"session_token": token, "portal": ENT, "account_id": demo.enterprise.account_id,
               "login": email, "email": email, "name": "Someone", **changes}
    err = _error(stub.AddBillingContact, pb.AddBillingContactRequest(**request))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and error_field(err) == field


def test_only_the_enterprise_portal_may_call_and_only_for_itself(server, demo):
    token = _token(demo, demo.globex)
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.BILLING_CENTER, default_timeout=10)
    try:
        bc_stub = identity_pb2_grpc.IdentityServiceStub(channel)
        err = _error(bc_stub.ListBillingContacts, pb.ListBillingContactsRequest(
            session_token=token, portal=BC, account_ids=[demo.enterprise.account_id]))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        channel.close()
    ent = make_channel(f"127.0.0.1:{server.port}", credentials=callers.ENTERPRISE, default_timeout=10)
    try:
        err = _error(identity_pb2_grpc.IdentityServiceStub(ent).ListBillingContacts, pb.ListBillingContactsRequest(
            session_token=token, portal=BC, account_ids=[demo.enterprise.account_id]))
        assert err.code() == grpc.StatusCode.PERMISSION_DENIED  # check_own_portal
    finally:
        ent.close()


def test_a_handover_proposed_then_approved_by_the_rep(stub, demo, unique, server_settings, clock):
    account_id = demo.enterprise.account_id
    token = _token(demo, demo.globex)
    hana = unique("hana") + "@globex.test"
    proposed = stub.ProposeHandover(pb.ProposeHandoverRequest(
        session_token=token, portal=ENT, account_id=account_id, replaced_user_id=demo.globex["id"],
        login=hana, email=hana, name="Hana Handover")).handover
    assert proposed.status == "pending"
    assert proposed.expires_at.seconds - proposed.proposed_at.seconds == 7 * 24 * 3600
    err = _error(stub.DecideHandover, pb.DecideHandoverRequest(
        session_token=token, portal=ENT, account_id=account_id, handover_id=proposed.handover_id, approve=True))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED  # not the proposer
    rep_mail = _wait_for_mail(server_settings.maildir, demo.rita["email"], "rep console")
    assert rep_mail["Subject"] == f"A billing contact handover of {demo.enterprise.name} waits for your approval"
    rita = _token(demo, demo.rita)
    waiting = stub.ListHandovers(pb.ListHandoversRequest(session_token=rita, portal=ENT)).handovers
    assert [(h.handover_id, h.account_name, h.replaced_name, h.new_name, h.proposer_name) for h in waiting] == [
        (proposed.handover_id, demo.enterprise.name, "Globex AP", "Hana Handover", "Globex AP")]
    done = stub.DecideHandover(pb.DecideHandoverRequest(
        session_token=rita, portal=ENT, account_id=account_id, handover_id=proposed.handover_id,
        approve=True)).handover
    assert done.status == "approved"
    assert [c.name for c in stub.ListBillingContacts(pb.ListBillingContactsRequest(
        session_token=rita, portal=ENT, account_ids=[account_id])).accounts[0].contacts] == ["Hana Handover"]
    # The replaced contact's session ended with the commit.
    assert _error(stub.ValidateSession, pb.ValidateSessionRequest(token=token, portal=ENT)).code() == \
        grpc.StatusCode.UNAUTHENTICATED
    _wait_for_mail(server_settings.maildir, hana, "/reset/")
    _wait_for_mail(server_settings.maildir, demo.globex["email"], "Rita Rep approved the handover")
    assert stub.ListHandovers(pb.ListHandoversRequest(session_token=rita, portal=ENT)).handovers == []


def test_a_pending_handover_expires_after_seven_days(stub, demo, unique, clock):
    account_id = demo.enterprise.account_id
    token = _token(demo, demo.globex)
    other = unique("o") + "@globex.test"
    proposed = stub.ProposeHandover(pb.ProposeHandoverRequest(
        session_token=token, portal=ENT, account_id=account_id, replaced_user_id=demo.globex["id"],
        login=other, email=other, name="Otto")).handover
    clock.advance(7 * 24 * 3600)
    rita = _token(demo, demo.rita)
    assert [h.handover_id for h in stub.ListHandovers(pb.ListHandoversRequest(
        session_token=rita, portal=ENT, account_id=account_id)).handovers] == []
    err = _error(stub.DecideHandover, pb.DecideHandoverRequest(
        session_token=rita, portal=ENT, account_id=account_id, handover_id=proposed.handover_id, approve=True))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    err = _error(stub.DecideHandover, pb.DecideHandoverRequest(
        session_token=rita, portal=ENT, account_id=account_id, handover_id=str(uuid.uuid4()), approve=False))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_online_billing_lists_several_accounts_contacts_with_the_primary_one(server, stub, demo, other):
    """The same RPC from online_billing (no session, a batch): whom invoices are addressed to."""
    token = _token(demo, demo.globex)
    stub.SetPrimaryBillingContact(pb.SetPrimaryBillingContactRequest(
        session_token=token, portal=ENT, account_id=demo.enterprise.account_id, user_id=demo.globex["id"]))
    account, _initech = other
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.credentials(ONLINE_BILLING),
                           default_timeout=10)
    try:
        answer = identity_pb2_grpc.IdentityServiceStub(channel).ListBillingContacts(pb.ListBillingContactsRequest(
            account_ids=[demo.enterprise.account_id, account.account_id]))
    finally:
        channel.close()
    found = {a.account_id: [(c.name, c.primary) for c in a.contacts] for a in answer.accounts}
    assert found == {demo.enterprise.account_id: [("Globex AP", True)], account.account_id: [("Initech AP", False)]}
