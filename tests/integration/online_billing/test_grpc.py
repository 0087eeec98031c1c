"""GetSubscriptionSummary over a real channel to an in-process server on a free port."""
from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from billing.online_billing.v1 import online_billing_pb2 as pb
from billing.online_billing.v1 import online_billing_pb2_grpc
from billing_common.clock import FakeClock
from billing_common.grpc_client import error_field, make_channel
from services.devstack import demo_backends
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.grpc_server import SERVICE_NAME, build
from tests import callers

NOV_26_2026 = 1_795_700_000.0


@pytest.fixture
def channel(settings: OnlineBillingSettings) -> Iterator[grpc.Channel]:
    accounts = {"acme": "acct-acme", "padaria": "acct-padaria"}
    demo_backends.seed_online_billing(settings, accounts, clock=FakeClock(NOV_26_2026))
    server = build(settings).start()
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.BILLING_CENTER, default_timeout=5.0)
    try:
        yield channel
    finally:
        channel.close()
        server.stop()


@pytest.fixture
def stub(channel: grpc.Channel) -> online_billing_pb2_grpc.OnlineBillingServiceStub:
    return online_billing_pb2_grpc.OnlineBillingServiceStub(channel)


def test_the_summary_of_acme_is_ten_business_seats_renewing_at_160_dollars_a_month(stub) -> None:  # type: ignore[no-untyped-def]
    s = stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id="acct-acme")).subscription
    assert (s.plan_code, s.plan_name, s.seats) == ("business", "Business", 10)
    assert s.interval == pb.BILLING_INTERVAL_MONTHLY and s.status == pb.SUBSCRIPTION_STATUS_ACTIVE
    assert (s.renewal_amount.amount_minor, s.renewal_amount.currency) == (16_000, "USD")
    assert s.current_period_end.ToDatetime().date().isoformat() == "2026-12-01"
    assert s.subscription_id and not s.cancel_at_period_end


def test_the_summary_of_padaria_is_in_reais_per_year(stub) -> None:  # type: ignore[no-untyped-def]
    s = stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id="acct-padaria")).subscription
    assert (s.plan_name, s.seats, s.interval) == ("Starter", 3, pb.BILLING_INTERVAL_ANNUAL)
    assert (s.renewal_amount.amount_minor, s.renewal_amount.currency) == (179_700, "BRL")


def test_an_account_without_a_subscription_is_not_found(stub) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id="acct-unknown"))
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("bad", ["", "x" * 65, "acct\x00id", "acct\nid"], ids=["empty", "long", "nul", "newline"])
def test_a_bad_account_id_is_invalid_argument_naming_the_field(stub, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id=bad))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_field(caught.value) == "account_id"
    assert "Traceback" not in (caught.value.details() or "")


def test_the_server_reports_serving_on_the_health_service(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
    assert SERVICE_NAME == "billing.online_billing.v1.OnlineBillingService"
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
