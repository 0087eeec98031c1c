"""GetOpenInvoiceSummary over a real channel to an in-process server on a free port."""
from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from billing.enterprise_portal.v1 import enterprise_portal_pb2 as pb
from billing.enterprise_portal.v1 import enterprise_portal_pb2_grpc
from billing_common.grpc_client import error_field, make_channel
from billing_common.payments.settings import GatewaySettings
from services.devstack import demo_backends
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.entrypoints.grpc_server import SERVICE_NAME, build
from tests import callers


@pytest.fixture
def channel(settings: EnterprisePortalSettings, gateway_settings: GatewaySettings) -> Iterator[grpc.Channel]:
    demo_backends.seed_enterprise_portal(settings, {"globex": "acct-globex"})
    server = build(settings, gateway_settings=gateway_settings).start()
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.ENTERPRISE, default_timeout=5.0)
    try:
        yield channel
    finally:
        channel.close()
        server.stop()


@pytest.fixture
def stub(channel: grpc.Channel) -> enterprise_portal_pb2_grpc.EnterprisePortalServiceStub:
    return enterprise_portal_pb2_grpc.EnterprisePortalServiceStub(channel)


def test_globex_has_two_open_invoices_and_9150_dollars_50_due(stub) -> None:  # type: ignore[no-untyped-def]
    reply = stub.GetOpenInvoiceSummary(pb.GetOpenInvoiceSummaryRequest(account_id="acct-globex"))
    assert reply.open_count == 2
    assert (reply.total_due.amount_minor, reply.total_due.currency) == (915_050, "USD")


def test_an_account_without_invoices_has_none_open_rather_than_not_found(stub) -> None:  # type: ignore[no-untyped-def]
    # enterprise_portal does not own accounts (identity does), so it cannot say one is unknown.
    reply = stub.GetOpenInvoiceSummary(pb.GetOpenInvoiceSummaryRequest(account_id="acct-new"))
    assert reply.open_count == 0
    assert (reply.total_due.amount_minor, reply.total_due.currency) == (0, "USD")


@pytest.mark.parametrize("bad", ["", "x" * 65, "acct\x00id", "acct\tid"], ids=["empty", "long", "nul", "tab"])
def test_a_bad_account_id_is_invalid_argument_naming_the_field(stub, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetOpenInvoiceSummary(pb.GetOpenInvoiceSummaryRequest(account_id=bad))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error_field(caught.value) == "account_id"


def test_an_unknown_method_is_unimplemented_not_internal(channel: grpc.Channel) -> None:
    call = channel.unary_unary(f"/{SERVICE_NAME}/NoSuchMethod")
    with pytest.raises(grpc.RpcError) as caught:
        call(b"")
    assert caught.value.code() is grpc.StatusCode.UNIMPLEMENTED


def test_the_server_reports_serving_on_the_health_service(channel: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
    assert SERVICE_NAME == "billing.enterprise_portal.v1.EnterprisePortalService"
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
