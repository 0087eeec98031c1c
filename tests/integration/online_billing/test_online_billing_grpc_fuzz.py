"""S24 for online_billing: random requests to every RPC (the Billing Center's, the members'
change requests included; built from the proto, so a new RPC is fuzzed too) over a real
channel to the real server on a seeded database get a status the servicer chose, never
INTERNAL or a crash, and INVALID_ARGUMENT always names its field."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.online_billing.v1 import online_billing_pb2 as pb
from billing.online_billing.v1 import online_billing_pb2_grpc
from billing_common.billing_contacts import BillingContact, FakeBillingContacts
from billing_common.clock import FakeClock
from billing_common.payments.settings import GatewaySettings
from services.devstack import demo_backends
from services.online_billing import bootstrap
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.grpc_server import ALLOWED_CALLERS, build
from tests import callers, grpc_fuzz

NOV_16_2026 = 1_794_787_200.0
KNOWN = ["acct-acme", "acct-padaria", "u-olivia", "u-mark", "starter", "business", "enterprise", "pro"]


@pytest.fixture(scope="module")
def fuzz_world(database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    s = OnlineBillingSettings(database_url=database_url("online_billing_fuzz"), grpc_bind="127.0.0.1:0",
                              maildir=tmp_path_factory.mktemp("ob-fuzz-mail"), env="test", shutdown_grace=1.0,
                              # No delivery during the run (make_msgid draws from the global random).
                              outbox_poll_interval=3600, **callers.ENV)
    bootstrap.migrate(s)
    gateway_settings = GatewaySettings(BILLING_ENV="test",
                                       SANDBOX_GATEWAY_DATABASE_URL=database_url("sandbox_gateway_ob_fuzz"))
    clock = FakeClock(NOV_16_2026)
    demo_backends.seed_online_billing(s, {"acme": "acct-acme", "padaria": "acct-padaria"}, clock=clock,
                                      gateway_settings=gateway_settings)
    contacts = FakeBillingContacts()
    contacts.add("acct-acme", BillingContact("u-olivia", "Olivia Ortega", "olivia@acme.test", "en"))
    server = build(s, gateway_settings=gateway_settings, clock=clock, contacts=contacts).start()
    channel = grpc_fuzz.channel_as_admitted_callers(f"127.0.0.1:{server.port}", ALLOWED_CALLERS,
                                                    default_timeout=30.0)
    stub = online_billing_pb2_grpc.OnlineBillingServiceStub(channel)
    try:
        yield stub, _known_ids(stub)
    finally:
        channel.close()
        server.stop()


@pytest.fixture(scope="module")
def fuzz_stub(fuzz_world):  # type: ignore[no-untyped-def]
    return fuzz_world[0]


def _known_ids(stub: Any) -> dict[str, list[str]]:
    """The seeded objects' ids, so that requests reach past "no such object" to the rules."""
    ids: dict[str, list[str]] = {"subscription_id": [], "invoice_id": [], "payment_method_id": [], "plan_code": []}
    for account in ("acct-acme", "acct-padaria"):
        ids["subscription_id"].append(stub.GetSubscription(pb.GetSubscriptionRequest(
            account_id=account)).subscription.subscription_id)
        ids["invoice_id"] += [i.invoice_id for i in stub.ListInvoices(pb.ListInvoicesRequest(
            account_id=account)).invoices[:3]]
        ids["payment_method_id"] += [m.payment_method_id for m in stub.ListPaymentMethods(
            pb.ListPaymentMethodsRequest(account_id=account)).payment_methods]
        ids["plan_code"] += [p.code for p in stub.ListPlans(pb.ListPlansRequest(account_id=account)).plans]
    return ids


SERVICE = pb.DESCRIPTOR.services_by_name["OnlineBillingService"]


def test_every_rpc_is_fuzzed_and_admits_a_caller() -> None:
    names = {m.name for m in SERVICE.methods}
    assert {"RequestChange", "ApproveChangeRequest", "DeclineChangeRequest", "ApplyChange"} <= names
    assert all(f"/{SERVICE.full_name}/{name}" in ALLOWED_CALLERS for name in names)


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(call=grpc_fuzz.requests(SERVICE, grpc_fuzz.text(KNOWN)))
def test_any_request_gets_a_clear_status_and_invalid_ones_name_their_field(fuzz_stub, call) -> None:  # type: ignore[no-untyped-def]
    grpc_fuzz.call(fuzz_stub, *call)


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(call=grpc_fuzz.requests(SERVICE, grpc_fuzz.text(KNOWN), only=lambda m: "ChangeRequest" in m.name
                               or m.name == "RequestChange"))
def test_the_change_request_rpcs_get_a_clear_status(fuzz_stub, call) -> None:  # type: ignore[no-untyped-def]
    grpc_fuzz.call(fuzz_stub, *call)


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_requests_about_existing_objects_get_a_clear_status(fuzz_world, data) -> None:  # type: ignore[no-untyped-def]
    """The same with the account and the objects' ids drawn from what exists, so the checks
    past "no such object" (seats, plans, intervals, keys, tokens, reasons, profiles) are fuzzed."""
    stub, ids = fuzz_world
    strings = grpc_fuzz.text(KNOWN)
    overrides = {"account_id": st.sampled_from(["acct-acme", "acct-padaria"]),
                 **{name: st.one_of(st.sampled_from(values), strings) for name, values in ids.items() if values},
                 "seats": st.one_of(st.integers(-2, 60), st.sampled_from([0, 2**31 - 1, -(2**31)]))}
    grpc_fuzz.call(stub, *data.draw(grpc_fuzz.requests(SERVICE, strings, overrides=overrides)))
