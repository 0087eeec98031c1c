"""The shared server bootstrap: error mapping in one place, deadlines, graceful stop (S22, S23)."""
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from billing.online_billing.v1 import online_billing_pb2 as pb
from billing.online_billing.v1 import online_billing_pb2_grpc
from billing_common.errors import InvalidArgument, NotFound, RateLimited, Unavailable
from billing_common.grpc_client import error_field, make_channel, retry_after
from billing_common.grpc_server import build_server
from billing_common.service_auth import BILLING_CENTER_WEB, allow_list
from tests import callers

SERVICE = "billing.online_billing.v1.OnlineBillingService"
GATE = callers.gate(allow_list(SERVICE, {"GetSubscriptionSummary": {BILLING_CENTER_WEB}}))
# For calls made on a bare channel (raw bytes, explicit metadata).
AUTH = callers.BILLING_CENTER.metadata()


class Scripted(online_billing_pb2_grpc.OnlineBillingServiceServicer):
    """Behaves according to the account id it is asked about."""

    def __init__(self) -> None:
        self.started = threading.Event()

    def GetSubscriptionSummary(self, request, context):
        match request.account_id:
            case "bad":
                raise InvalidArgument("account_id is too long", field="account_id")
            case "missing":
                raise NotFound("no subscription")
            case "limited":
                raise RateLimited("slow down", retry_after=42)
            case "busy":
                raise Unavailable("Too many sign-ins at once. Try again in a few seconds.", retry_after=2)
            case "crash":
                raise RuntimeError("secret internals /etc/passwd")
            case "slow":
                self.started.set()
                time.sleep(1.0)
        return pb.GetSubscriptionSummaryResponse(subscription=pb.SubscriptionSummary(plan_code="ok"))


@pytest.fixture
def server():
    servicer = Scripted()
    srv = build_server(
        "127.0.0.1:0",
        lambda s: online_billing_pb2_grpc.add_OnlineBillingServiceServicer_to_server(servicer, s),
        [SERVICE],
        grace=5,
        gate=GATE,
    ).start()
    srv.servicer = servicer
    yield srv
    srv.stop()


def call(server, account_id, timeout=None):
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.BILLING_CENTER,
                           default_timeout=timeout or 2.0)
    stub = online_billing_pb2_grpc.OnlineBillingServiceStub(channel)
    try:
        return stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id=account_id))
    finally:
        channel.close()


def test_a_domain_error_becomes_its_status_with_the_field_named(server):
    with pytest.raises(grpc.RpcError) as err:
        call(server, "bad")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "account_id is too long"
    assert error_field(err.value) == "account_id"


def test_not_found_and_rate_limits_map_to_their_codes(server):
    with pytest.raises(grpc.RpcError) as err:
        call(server, "missing")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        call(server, "limited")
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert retry_after(err.value) == 42


def test_an_overloaded_service_answers_unavailable_with_its_message(server):
    with pytest.raises(grpc.RpcError) as err:
        call(server, "busy")
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert err.value.details() == "Too many sign-ins at once. Try again in a few seconds."
    assert retry_after(err.value) == 2


def test_an_unexpected_error_is_internal_without_its_details(server):
    with pytest.raises(grpc.RpcError) as err:
        call(server, "crash")
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "passwd" not in err.value.details()


def test_every_call_gets_a_deadline_from_the_channel(server):
    with pytest.raises(grpc.RpcError) as err:
        call(server, "slow", timeout=0.2)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_health_is_served_by_the_library_per_service_name(server):
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=2)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_a_call_in_flight_when_the_server_stops_completes_and_health_goes_not_serving(server):
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("reply", call(server, "slow", timeout=5)))
    t.start()
    assert server.servicer.started.wait(2)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        # A watcher sees what a load balancer sees: the status as the server announces it.
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=SERVICE), timeout=5)
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert "reply" not in result  # announced while the slow call was still running
        watch.cancel()
    t.join(5)
    stopper.join(10)
    assert not stopper.is_alive()
    assert result["reply"].subscription.plan_code == "ok"


@pytest.mark.parametrize("raw", [b"\x0a\x02\xff\xfe", b"\xff\xff\xff\xff", b"\x0a\x10short"],
                         ids=["invalid UTF-8 in a string", "garbage", "truncated"])
def test_bytes_that_are_not_a_valid_request_are_invalid_argument_not_internal(server, raw):
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        call = channel.unary_unary(f"/{SERVICE}/GetSubscriptionSummary")  # no serializers: raw bytes
        with pytest.raises(grpc.RpcError) as err:
            call(raw, timeout=2, metadata=AUTH)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _listed_services(port, metadata=AUTH):
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                            timeout=2, metadata=metadata)
        return {s.name for r in replies for s in r.list_services_response.service}


@pytest.mark.parametrize("enabled", [True, False], ids=["dev", "prod"])
def test_server_reflection_is_served_only_when_enabled(enabled):
    srv = build_server(
        "127.0.0.1:0",
        lambda s: online_billing_pb2_grpc.add_OnlineBillingServiceServicer_to_server(Scripted(), s),
        [SERVICE],
        reflection_enabled=enabled,
        gate=GATE,
    ).start()
    try:
        if enabled:
            assert SERVICE in _listed_services(srv.port)
            # Only for known callers, as every method but health.
            with pytest.raises(grpc.RpcError) as err:
                _listed_services(srv.port, metadata=())
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        else:
            with pytest.raises(grpc.RpcError) as err:
                _listed_services(srv.port)
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        srv.stop()


def test_each_call_logs_one_access_line_with_the_callers_request_id_and_its_status(server, capsys):
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = online_billing_pb2_grpc.OnlineBillingServiceStub(channel)
        stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id="ok"), timeout=2,
                                    metadata=(("x-request-id", "req-from-the-web-1"), *AUTH))
        with pytest.raises(grpc.RpcError):
            stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id="missing"), timeout=2,
                                        metadata=(("x-request-id", "req-from-the-web-2"), *AUTH))
        with pytest.raises(grpc.RpcError):
            stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id="crash"), timeout=2,
                                        metadata=AUTH)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if " rpc " in ln and "GetSubscription" in ln]
    assert len(lines) == 3
    assert "req-from-the-web-1" in lines[0] and "code=OK" in lines[0]
    assert "req-from-the-web-2" in lines[1] and "code=NOT_FOUND" in lines[1]
    assert "request_id=" in lines[2] and "code=INTERNAL" in lines[2]


def test_quiet_methods_and_health_checks_log_only_their_failures(capsys):
    srv = build_server(
        "127.0.0.1:0",
        lambda s: online_billing_pb2_grpc.add_OnlineBillingServiceServicer_to_server(Scripted(), s),
        [SERVICE],
        quiet_methods=[f"/{SERVICE}/GetSubscriptionSummary"],
        gate=GATE,
    ).start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{srv.port}") as channel:
            stub = online_billing_pb2_grpc.OnlineBillingServiceStub(channel)
            stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id="ok"), timeout=2,
                                        metadata=AUTH)
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=2)
            with pytest.raises(grpc.RpcError):
                stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id="missing"), timeout=2,
                                            metadata=AUTH)
    finally:
        srv.stop()
    lines = [ln for ln in capsys.readouterr().out.splitlines() if " rpc " in ln and "[debug" not in ln]
    assert len(lines) == 1 and "code=NOT_FOUND" in lines[0] and "GetSubscriptionSummary" in lines[0]


def test_a_call_whose_deadline_passed_while_it_waited_for_a_worker_is_not_run():
    servicer = Scripted()
    ran: list[str] = []
    release = threading.Event()
    inner = servicer.GetSubscriptionSummary

    def counting(request, context):
        ran.append(request.account_id)
        if request.account_id == "hold":
            servicer.started.set()
            release.wait(5)
        return inner(request, context)

    servicer.GetSubscriptionSummary = counting
    srv = build_server(
        "127.0.0.1:0",
        lambda s: online_billing_pb2_grpc.add_OnlineBillingServiceServicer_to_server(servicer, s),
        [SERVICE], workers=1, grace=5, gate=GATE,
    ).start()
    try:
        holder = threading.Thread(target=call, args=(srv, "hold", 10))
        holder.start()
        assert servicer.started.wait(5)
        for _ in range(3):  # each waits for the one worker, and its caller gives up
            with pytest.raises(grpc.RpcError) as err:
                call(srv, "late", timeout=0.2)
            assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        release.set()
        holder.join(5)
        assert call(srv, "ok").subscription.plan_code == "ok"  # after those queued before it
        assert ran == ["hold", "ok"]
    finally:
        srv.stop()
