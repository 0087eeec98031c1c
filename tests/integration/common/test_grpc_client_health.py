"""check_health / health_status against a real in-process gRPC server (grpc.health.v1)."""
from __future__ import annotations

import socket
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2

from billing_common.grpc_client import check_health, health_status, make_channel
from billing_common.grpc_server import GrpcServer, build_server

SERVICE = "billing.example.v1.ExampleService"


@pytest.fixture
def server() -> Iterator[GrpcServer]:
    s = build_server("127.0.0.1:0", lambda _server: None, [SERVICE], grace=0.5).start()
    yield s
    s.stop()


@pytest.fixture
def target(server: GrpcServer) -> str:
    return f"127.0.0.1:{server.port}"


def test_a_serving_service_is_healthy_by_target_and_by_channel(target: str) -> None:
    assert check_health(target, SERVICE, timeout=2)
    assert health_status(target, SERVICE, timeout=2) == "SERVING"
    with grpc.insecure_channel(target) as channel:
        assert check_health(channel, SERVICE, timeout=2)
        # The caller's channel is left open for its next call.
        assert check_health(channel, "", timeout=2)
    channel = make_channel(target)
    try:
        assert check_health(channel, SERVICE, timeout=2)
    finally:
        channel.close()


def test_a_service_that_is_not_serving_is_not_healthy(server: GrpcServer, target: str) -> None:
    server.health.set(SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)
    assert not check_health(target, SERVICE, timeout=2)
    assert health_status(target, SERVICE, timeout=2) == "NOT_SERVING"


def test_a_server_shutting_down_is_not_healthy(server: GrpcServer, target: str) -> None:
    server.health.enter_graceful_shutdown()
    assert not check_health(target, SERVICE, timeout=2)


def test_a_service_name_the_server_does_not_know_is_not_healthy(target: str) -> None:
    assert not check_health(target, "billing.nothing.v1.Nope", timeout=2)
    assert health_status(target, "billing.nothing.v1.Nope", timeout=2) == "NOT_FOUND"


def test_an_unreachable_server_is_not_healthy_within_the_deadline() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not check_health(f"127.0.0.1:{port}", SERVICE, timeout=1)
    assert health_status(f"127.0.0.1:{port}", SERVICE, timeout=1) in ("UNAVAILABLE", "DEADLINE_EXCEEDED")
