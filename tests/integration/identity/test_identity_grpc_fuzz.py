"""S24: random requests over gRPC get a clear status, never INTERNAL and never a crash."""
from __future__ import annotations

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.clock import FakeClock
from billing_common.grpc_client import error_field
from services.identity.config import IdentitySettings
from services.identity.entrypoints.grpc_server import build
from tests import callers

text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=190, max_size=1100),
    st.sampled_from(["olivia@acme.test", "globex-billing", "", " ", "\x00", "a\x00b", "a" * 250 + "@x.y",
                     "a@" + "\u0130" * 200 + ".test", "USD", "en", "pt-BR"]),
)
enum = st.integers(min_value=0, max_value=4)

REQUESTS = st.one_of(
    st.builds(lambda a, b, p, c: ("Authenticate", pb.AuthenticateRequest(login=a, password=b, portal=p,
                                                                         client_address=c)), text, text, enum, text),
    st.builds(lambda a, p: ("ValidateSession", pb.ValidateSessionRequest(token=a, portal=p)), text, enum),
    st.builds(lambda a, p: ("RedeemHandoffTicket", pb.RedeemHandoffTicketRequest(ticket=a, portal=p)), text, enum),
    st.builds(lambda a, p, c: ("RequestPasswordReset", pb.RequestPasswordResetRequest(
        login=a, portal=p, client_address=c)), text, enum, text),
    st.builds(lambda a, b: ("CompletePasswordReset", pb.CompletePasswordResetRequest(token=a, new_password=b)),
              text, text),
    st.builds(lambda n, e, s, m, p: ("ContactCustomerCare", pb.ContactCustomerCareRequest(
        name=n, email=e, subject=s, message=m, portal=p, client_address="fuzz")), text, text, text, text, enum),
    st.builds(lambda n, k, c, loc: ("CreateAccount", pb.CreateAccountRequest(name=n, kind=k, currency=c, locale=loc)),
              text, enum, st.one_of(text, st.sampled_from(["USD", "BRL"])), st.one_of(text, st.just("en"))),
    st.builds(lambda lg, e, n, pw: ("CreateUser", pb.CreateUserRequest(login=lg, email=e, name=n, locale="en",
                                                                       password=pw)), text, text, text, text),
    st.builds(lambda u, a, r: ("AddMembership", pb.AddMembershipRequest(user_id=u, account_id=a, role=r)),
              text, text, enum),
    st.builds(lambda a: ("GetAccount", pb.GetAccountRequest(account_id=a)), text),
)

EXPECTED = {
    grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.PERMISSION_DENIED,
}


@pytest.fixture(scope="module")
def fuzz_stub(identity_database, redis_url, tmp_path_factory, drop_redis_prefix):
    import uuid

    s = IdentitySettings(env="test", database_url=identity_database, redis_url=redis_url,
                         redis_prefix=f"test-identity-fuzz-{uuid.uuid4().hex[:8]}:", grpc_bind="127.0.0.1:0",
                         maildir=tmp_path_factory.mktemp("fuzzmail"), argon2_memory_cost=1024, argon2_time_cost=1,
                         # No mail delivery during the run: delivery (email.utils.make_msgid) draws
                         # from the global `random`, which Hypothesis rightly flags mid-example.
                         outbox_poll_interval=3600, **callers.ENV)
    server = build(s, clock=FakeClock()).start()
    channel = callers.channel_as_each_caller(f"127.0.0.1:{server.port}", default_timeout=10.0)
    yield identity_pb2_grpc.IdentityServiceStub(channel)
    channel.close()
    server.stop()
    drop_redis_prefix(s.redis_url, s.redis_prefix)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=REQUESTS)
def test_any_request_gets_a_clear_status_and_invalid_ones_name_their_field(fuzz_stub, call):
    method, request = call
    try:
        getattr(fuzz_stub, method)(request)
    except grpc.RpcError as err:
        assert err.code() in EXPECTED, (err.code(), err.details())
        if err.code() == grpc.StatusCode.INVALID_ARGUMENT:
            assert error_field(err)
