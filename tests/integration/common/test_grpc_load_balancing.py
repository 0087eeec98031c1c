"""Channels spread calls over every address their target resolves to (round_robin): two real
servers in-process behind one target, as a headless Service's DNS name gives one per pod."""
from __future__ import annotations

from collections import Counter

import pytest

from billing.online_billing.v1 import online_billing_pb2 as pb
from billing.online_billing.v1 import online_billing_pb2_grpc
from billing_common.grpc_client import make_channel
from billing_common.grpc_server import GrpcServer, build_server
from billing_common.service_auth import BILLING_CENTER_WEB, allow_list
from tests import callers

SERVICE = "billing.online_billing.v1.OnlineBillingService"
GATE = callers.gate(allow_list(SERVICE, {"GetSubscriptionSummary": {BILLING_CENTER_WEB}}))


class Named(online_billing_pb2_grpc.OnlineBillingServiceServicer):
    """Answers with the name of the replica that served the call."""

    def __init__(self, name: str) -> None:
        self.name = name

    def GetSubscriptionSummary(self, request, context):  # type: ignore[no-untyped-def]
        return pb.GetSubscriptionSummaryResponse(subscription=pb.SubscriptionSummary(plan_code=self.name))


def _replica(name: str) -> GrpcServer:
    servicer = Named(name)
    return build_server("127.0.0.1:0",
                        lambda s: online_billing_pb2_grpc.add_OnlineBillingServiceServicer_to_server(servicer, s),
                        [SERVICE], grace=0, gate=GATE).start()


@pytest.fixture
def replicas():  # type: ignore[no-untyped-def]
    servers = [_replica("pod-a"), _replica("pod-b")]
    yield servers
    for server in servers:
        server.stop()


def test_calls_on_one_channel_reach_both_replicas_of_a_target_with_two_addresses(replicas):
    target = "ipv4:" + ",".join(f"127.0.0.1:{server.port}" for server in replicas)
    with make_channel(target, credentials=callers.BILLING_CENTER, default_timeout=5.0) as channel:
        stub = online_billing_pb2_grpc.OnlineBillingServiceStub(channel)
        served = Counter(stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id="a"))
                         .subscription.plan_code for _ in range(200))
    # pick_first (gRPC's default) sent 200 of 200 to one pod. round_robin takes each address in
    # turn once both connections are up; the first few calls may all go to the first one ready.
    assert set(served) == {"pod-a", "pod-b"}
    assert min(served.values()) >= 50, served
