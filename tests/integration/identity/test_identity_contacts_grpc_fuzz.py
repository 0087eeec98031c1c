"""S24 for identity's billing-contact and handover RPCs (added with the Enterprise portal's
Billing contacts page): random requests, and requests with a real contact's session and
account, over real gRPC to identity on the real database and Redis get a status the servicer
chose, never INTERNAL or a crash, and INVALID_ARGUMENT always names its field."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.clock import FakeClock
from services.identity.config import IdentitySettings
from services.identity.entrypoints.grpc_server import ALLOWED_CALLERS, build
from tests import callers, grpc_fuzz

SERVICE = pb.DESCRIPTOR.services_by_name["IdentityService"]
NEW = {"ListBillingContacts", "AddBillingContact", "RemoveBillingContact", "SetPrimaryBillingContact",
       "ProposeHandover", "ListHandovers", "DecideHandover", "ListRepAccounts"}
PASSWORD = "Globex-demo-2026!"


@pytest.fixture(scope="module")
def fuzz_world(identity_database, redis_url, tmp_path_factory, drop_redis_prefix):  # type: ignore[no-untyped-def]
    s = IdentitySettings(env="test", database_url=identity_database, redis_url=redis_url,
                         redis_prefix=f"test-identity-cfuzz-{uuid.uuid4().hex[:8]}:", grpc_bind="127.0.0.1:0",
                         maildir=tmp_path_factory.mktemp("cfuzzmail"), argon2_memory_cost=1024, argon2_time_cost=1,
                         # No delivery during the run (make_msgid draws from the global random).
                         outbox_poll_interval=3600, **callers.ENV)
    server = build(s, clock=FakeClock()).start()
    operator = identity_pb2_grpc.IdentityServiceStub(
        callers.channel_as_each_caller(f"127.0.0.1:{server.port}", default_timeout=10.0))
    suffix = uuid.uuid4().hex[:8]
    account = operator.CreateAccount(pb.CreateAccountRequest(
        name=f"Globex {suffix}", kind=pb.ACCOUNT_KIND_ENTERPRISE, currency="USD", locale="en")).account.account_id
    people = {}
    for who in ("ana", "bo"):
        login = f"{who}-{suffix}@globex.test"
        people[who] = operator.CreateUser(pb.CreateUserRequest(login=login, email=login, name=who.title(),
                                                               locale="en", password=PASSWORD)).user_id
        operator.AddMembership(pb.AddMembershipRequest(user_id=people[who], account_id=account,
                                                       role=pb.ROLE_BILLING_CONTACT))
    token = operator.Authenticate(pb.AuthenticateRequest(
        login=f"ana-{suffix}@globex.test", password=PASSWORD, portal=pb.PORTAL_ENTERPRISE,
        client_address="fuzz")).session.token
    channel = grpc_fuzz.channel_as_admitted_callers(f"127.0.0.1:{server.port}", ALLOWED_CALLERS,
                                                    default_timeout=10.0)
    yield identity_pb2_grpc.IdentityServiceStub(channel), {
        "session_token": [token], "account_id": [account], "account_ids": [account],
        "user_id": list(people.values()), "replaced_user_id": list(people.values())}
    channel.close()
    server.stop()
    drop_redis_prefix(s.redis_url, s.redis_prefix)


def test_every_new_rpc_is_in_the_service_and_admits_a_caller() -> None:
    names = {m.name for m in SERVICE.methods}
    assert names >= NEW
    assert all(f"/{SERVICE.full_name}/{name}" in ALLOWED_CALLERS for name in NEW)


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(call=grpc_fuzz.requests(SERVICE, grpc_fuzz.text(), only=lambda m: m.name in NEW))
def test_any_request_gets_a_clear_status_and_invalid_ones_name_their_field(fuzz_world, call) -> None:  # type: ignore[no-untyped-def]
    grpc_fuzz.call(fuzz_world[0], *call)


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_requests_from_a_signed_in_contact_get_a_clear_status(fuzz_world, data) -> None:  # type: ignore[no-untyped-def]
    """With a real contact's session, account and users, so the checks past the session and
    the account (logins, emails, names, handover ids and decisions) are fuzzed."""
    stub, ids = fuzz_world
    strings = grpc_fuzz.text()
    overrides: dict[str, Any] = {name: st.one_of(st.sampled_from(values), strings) for name, values in ids.items()}
    overrides["session_token"] = st.sampled_from(ids["session_token"])
    overrides["portal"] = st.just(pb.PORTAL_ENTERPRISE)
    grpc_fuzz.call(stub, *data.draw(grpc_fuzz.requests(SERVICE, strings, only=lambda m: m.name in NEW,
                                                       overrides=overrides)))
