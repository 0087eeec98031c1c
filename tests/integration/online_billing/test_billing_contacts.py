"""The shared BillingContacts port (billing_common.billing_contacts) against a real identity:
identity's ListBillingContacts answers the billing contacts and reps of many accounts in one
call, with their languages, to the callers "online-billing" and "enterprise-portal" without a
session; identity down or refusing is ContactsUnavailable, quickly."""
from __future__ import annotations

import time

import grpc
import pytest

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.billing_contacts import AccountContacts, BillingContact, ContactsUnavailable, GrpcBillingContacts
from billing_common.grpc_client import make_channel
from billing_common.service_auth import ENTERPRISE_PORTAL, ONLINE_BILLING
from tests import callers
from tests.faults import free_port
from tests.integration.online_billing.conftest import RunningIdentity


def test_the_contacts_of_a_batch_of_accounts_come_in_one_call_with_their_languages(
        identity: RunningIdentity, unique) -> None:
    padaria = identity.account("Padaria", locale="pt-BR", currency="BRL")
    acme = identity.account("Acme")
    nobody = identity.account("Nobody Inc")
    ana = identity.person(padaria, unique("ana") + "@padaria.test", "Ana Souza", locale="pt-BR")
    bob = identity.person(padaria, unique("bob") + "@padaria.test", "Bob Finance", locale="en")
    identity.person(padaria, unique("mia") + "@padaria.test", "Mia Member", role=pb.ROLE_MEMBER)
    olivia = identity.person(acme, unique("olivia") + "@acme.test", "Olivia Owner")
    contacts = GrpcBillingContacts(identity.target, callers.credentials(ONLINE_BILLING), timeout=5)
    try:
        found = contacts.for_accounts([padaria, acme, nobody, "no-such-account"])
        assert set(found) == {padaria, acme, nobody}
        assert found[padaria].locale == "pt-BR"
        assert [(c.user_id, c.name, c.locale) for c in found[padaria].contacts] == [
            (ana, "Ana Souza", "pt-BR"), (bob, "Bob Finance", "en")]
        assert [c.user_id for c in found[acme].contacts] == [olivia]
        assert found[nobody] == AccountContacts(nobody, "en", ())
        one = contacts.for_account(acme)
        assert one is not None and one.contacts == (
            BillingContact(olivia, "Olivia Owner", found[acme].contacts[0].email, "en"),)
        assert contacts.for_account("no-such-account") is None
        assert contacts.for_accounts([]) == {}
    finally:
        contacts.close()


def test_enterprise_portal_gets_the_contacts_and_the_reps_each_with_their_language(
        identity: RunningIdentity, unique) -> None:
    fabrica = identity.account("Fábrica", locale="pt-BR", currency="BRL", kind=pb.ACCOUNT_KIND_ENTERPRISE)
    ana = identity.person(fabrica, unique("ana") + "@fabrica.test", "Ana Souza", locale="pt-BR")
    rita_email = unique("rita") + "@vendor.test"
    rita = identity.rep(fabrica, rita_email, "Rita Rep", locale="en")
    contacts = GrpcBillingContacts(identity.target, callers.credentials(ENTERPRISE_PORTAL), timeout=5)
    try:
        found = contacts.for_account(fabrica)
        assert found is not None
        assert [(c.user_id, c.locale) for c in found.contacts] == [(ana, "pt-BR")]
        assert found.reps == (BillingContact(rita, "Rita Rep", rita_email, "en"),)
    finally:
        contacts.close()


@pytest.mark.parametrize(("caller", "portal", "code"), [
    (callers.BILLING_CENTER, pb.PORTAL_UNSPECIFIED, grpc.StatusCode.PERMISSION_DENIED),
    # The Enterprise portal lists one account's contacts for a signed-in person only (its Billing
    # contacts page): without a session it gets nothing.
    (callers.ENTERPRISE, pb.PORTAL_UNSPECIFIED, grpc.StatusCode.INVALID_ARGUMENT),
    (callers.ENTERPRISE, pb.PORTAL_ENTERPRISE, grpc.StatusCode.UNAUTHENTICATED),
])
def test_no_portal_may_list_billing_contacts(identity: RunningIdentity, caller, portal, code) -> None:  # type: ignore[no-untyped-def]
    with (make_channel(identity.target, credentials=caller, default_timeout=5) as channel,
          pytest.raises(grpc.RpcError) as error):
        identity_pb2_grpc.IdentityServiceStub(channel).ListBillingContacts(
            pb.ListBillingContactsRequest(account_ids=["x"], portal=portal))
    assert error.value.code() == code


def test_identity_down_or_refusing_is_contacts_unavailable_within_the_deadline(identity: RunningIdentity) -> None:
    down = GrpcBillingContacts(f"127.0.0.1:{free_port()}", callers.credentials(ONLINE_BILLING), timeout=1)
    wrong = GrpcBillingContacts(identity.target, callers.credentials(callers.BILLING_CENTER.caller), timeout=1)
    try:
        for contacts in (down, wrong):
            started = time.monotonic()
            with pytest.raises(ContactsUnavailable):
                contacts.for_accounts(["acct-1"])
            assert time.monotonic() - started < 3
            started = time.monotonic()
            with pytest.raises(ContactsUnavailable, match="moments ago"):  # not asked again for a while
                contacts.for_accounts(["acct-1"])
            assert time.monotonic() - started < 0.1
    finally:
        down.close()
        wrong.close()
