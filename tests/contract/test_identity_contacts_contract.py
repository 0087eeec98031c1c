"""The billing-contact and handover RPCs of identity.v1, against the web tests' fake AND the real
service (tests/contract/conftest.py): statuses, the fields errors name, what the lists hold."""

from __future__ import annotations

import uuid

import grpc
import pytest

from billing.identity.v1 import identity_pb2 as pb
from billing_common.grpc_client import error_field
from tests.contract.identity_sides import BC, EBP, Cast, Side, rpc_error
from tests.contract.test_identity_contract import session_token, sign_in


def contacts(identity: Side, token: str, account_id: str) -> list[pb.Contact]:
    (account,) = identity.stub.ListBillingContacts(pb.ListBillingContactsRequest(
        session_token=token, portal=EBP, account_ids=[account_id])).accounts
    return list(account.contacts)


def add(identity: Side, token: str, account_id: str, login: str, name: str = "Dana New") -> str:
    return identity.stub.AddBillingContact(pb.AddBillingContactRequest(
        session_token=token, portal=EBP, account_id=account_id, login=login, email=login, name=name)).user_id


def new_login() -> str:
    return f"dana-{uuid.uuid4().hex[:8]}@globex.test"


def test_a_contact_lists_their_accounts_contacts_in_name_order(identity, cast, addr):
    token = session_token(identity, cast, "globex", EBP, addr)
    listed = contacts(identity, token, cast.account_ids["globex"])
    assert [(c.user_id, c.name, c.email, c.primary, c.has_password) for c in listed] == [
        (cast.user_ids["carlos"], "Carlos Silva", cast["carlos"].email, False, False),
        (cast.user_ids["globex"], "Globex Accounts Payable", cast["globex"].email, False, True),
    ]
    assert listed[1].HasField("last_sign_in_at") and not listed[0].HasField("last_sign_in_at")


def test_an_added_contact_gets_a_create_password_link_to_the_enterprise_portal_and_signs_in(
        identity, cast, addr):
    token = session_token(identity, cast, "globex", EBP, addr)
    login = new_login()
    user_id = add(identity, token, cast.account_ids["globex"], login)
    portal, link = identity.reset_links(login)[-1]
    assert portal == EBP
    identity.stub.CompletePasswordReset(pb.CompletePasswordResetRequest(token=link, new_password="Dana-new-2026!"))
    answer = identity.stub.Authenticate(pb.AuthenticateRequest(login=login, password="Dana-new-2026!", portal=EBP,
                                                               client_address=addr))
    assert answer.WhichOneof("result") == "session" and answer.principal.user_id == user_id
    assert answer.principal.role == pb.ROLE_BILLING_CONTACT


@pytest.mark.parametrize(("field", "changes"), [
    ("login", {"login": "not a user id"}), ("email", {"email": "nope"}), ("name", {"name": ""}),
    ("locale", {"locale": "fr"}), ("account_id", {"account_id": ""}),
])
def test_bad_input_is_invalid_argument_naming_the_field(identity, cast, addr, field, changes):
    token = session_token(identity, cast, "globex", EBP, addr)
    login = new_login()
    request = {"session_token": token, "portal": EBP, "account_id": cast.account_ids["globex"], "login": login,
               "email": login, "name": "Dana", **changes}
    error = rpc_error(identity.stub.AddBillingContact, pb.AddBillingContactRequest(**request))
    assert (error.code(), error_field(error)) == (grpc.StatusCode.INVALID_ARGUMENT, field)


def test_a_taken_user_id_is_already_exists_naming_login(identity, cast, addr):
    token = session_token(identity, cast, "globex", EBP, addr)
    error = rpc_error(add, identity, token, cast.account_ids["globex"], cast["olivia"].login)
    assert (error.code(), error_field(error)) == (grpc.StatusCode.ALREADY_EXISTS, "login")


@pytest.mark.parametrize(("who", "account", "code"), [
    ("globex", "initech", grpc.StatusCode.NOT_FOUND),  # S13: another account
    ("globex", "acme", grpc.StatusCode.NOT_FOUND),  # not an enterprise account
    ("rita", "acme", grpc.StatusCode.NOT_FOUND),  # S14: not an account Rita serves
])
def test_another_accounts_contacts_are_not_found(identity, cast, addr, who, account, code):
    token = session_token(identity, cast, who, EBP, addr)
    assert rpc_error(contacts, identity, token, cast.account_ids[account]).code() == code


def test_a_rep_reads_the_contacts_of_an_account_they_serve_but_does_not_change_them(identity, cast, addr):
    token = session_token(identity, cast, "rita", EBP, addr)
    assert len(contacts(identity, token, cast.account_ids["globex"])) == 2
    error = rpc_error(add, identity, token, cast.account_ids["globex"], new_login())
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_last_and_the_primary_contact_cannot_be_removed(identity, cast, addr):
    token = session_token(identity, cast, "globex", EBP, addr)
    account_id = cast.account_ids["globex"]
    identity.stub.SetPrimaryBillingContact(pb.SetPrimaryBillingContactRequest(
        session_token=token, portal=EBP, account_id=account_id, user_id=cast.user_ids["globex"]))
    assert [c.primary for c in contacts(identity, token, account_id)] == [False, True]
    error = rpc_error(identity.stub.RemoveBillingContact, pb.RemoveBillingContactRequest(
        session_token=token, portal=EBP, account_id=account_id, user_id=cast.user_ids["globex"]))
    assert (error.code(), error_field(error)) == (grpc.StatusCode.FAILED_PRECONDITION, "user_id")
    identity.stub.RemoveBillingContact(pb.RemoveBillingContactRequest(
        session_token=token, portal=EBP, account_id=account_id, user_id=cast.user_ids["carlos"]))
    assert [c.name for c in contacts(identity, token, account_id)] == ["Globex Accounts Payable"]
    error = rpc_error(identity.stub.RemoveBillingContact, pb.RemoveBillingContactRequest(
        session_token=token, portal=EBP, account_id=account_id, user_id=cast.user_ids["erin"]))
    assert (error.code(), error_field(error)) == (grpc.StatusCode.NOT_FOUND, "user_id")


def _propose(identity: Side, cast: Cast, token: str, replaced: str) -> pb.Handover:
    login = new_login()
    return identity.stub.ProposeHandover(pb.ProposeHandoverRequest(
        session_token=token, portal=EBP, account_id=cast.account_ids["globex"],
        replaced_user_id=cast.user_ids[replaced], login=login, email=login, name="Hana Handover")).handover


def _decide(identity: Side, cast: Cast, token: str, handover_id: str, approve: bool) -> pb.Handover:
    return identity.stub.DecideHandover(pb.DecideHandoverRequest(
        session_token=token, portal=EBP, account_id=cast.account_ids["globex"], handover_id=handover_id,
        approve=approve)).handover


def test_a_handover_waits_for_the_rep_who_approves_it(identity, cast, addr):
    token = session_token(identity, cast, "globex", EBP, addr)
    proposed = _propose(identity, cast, token, "globex")
    assert proposed.status == "pending"
    error = rpc_error(_decide, identity, cast, token, proposed.handover_id, True)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    rita = session_token(identity, cast, "rita", EBP, addr)
    waiting = identity.stub.ListHandovers(pb.ListHandoversRequest(session_token=rita, portal=EBP)).handovers
    assert [(h.handover_id, h.replaced_user_id, h.new_name, h.status) for h in waiting] == [
        (proposed.handover_id, cast.user_ids["globex"], "Hana Handover", "pending")]
    assert _decide(identity, cast, rita, proposed.handover_id, True).status == "approved"
    assert [c.name for c in contacts(identity, rita, cast.account_ids["globex"])] == [
        "Carlos Silva", "Hana Handover"]
    assert rpc_error(identity.stub.ValidateSession, pb.ValidateSessionRequest(token=token, portal=EBP)).code() \
        == grpc.StatusCode.UNAUTHENTICATED
    again = rpc_error(_decide, identity, cast, rita, proposed.handover_id, False)
    assert (again.code(), error_field(again)) == (grpc.StatusCode.FAILED_PRECONDITION, "handover_id")


def test_a_declined_handover_changes_nothing(identity, cast, addr):
    token = session_token(identity, cast, "globex", EBP, addr)
    proposed = _propose(identity, cast, token, "carlos")
    assert _decide(identity, cast, token, proposed.handover_id, False).status == "declined"  # withdrawn
    assert [c.name for c in contacts(identity, token, cast.account_ids["globex"])] == [
        "Carlos Silva", "Globex Accounts Payable"]


def test_from_a_portal_the_list_names_exactly_one_account(identity, cast, addr):
    token = session_token(identity, cast, "globex", EBP, addr)
    for ids in ([], [cast.account_ids["globex"], cast.account_ids["globex"]]):
        error = rpc_error(identity.stub.ListBillingContacts, pb.ListBillingContactsRequest(
            session_token=token, portal=EBP, account_ids=ids))
        assert (error.code(), error_field(error)) == (grpc.StatusCode.INVALID_ARGUMENT, "account_ids")


def test_the_calls_need_a_live_session_at_the_enterprise_portal(identity, cast, addr):
    token = sign_in(identity, cast, "olivia", BC, addr).session.token
    error = rpc_error(identity.stub.ListHandovers, pb.ListHandoversRequest(session_token=token, portal=EBP))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
