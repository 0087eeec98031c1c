"""Container health check of a gRPC service, through the standard grpc.health.v1 service.

    python deploy/healthcheck.py 127.0.0.1:50051 billing.identity.v1.IdentityService

Exit status 0 only when the server answers SERVING for that service name; 1 for NOT_SERVING,
an unknown service, an unreachable server or a timeout. The server flips to NOT_SERVING as
soon as it starts a graceful shutdown, so an orchestrator stops routing to it first.
"""
from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def check(target: str, service: str, timeout: float = 3.0) -> tuple[bool, str]:
    """(healthy, what to print) for one Check call with a deadline."""
    try:
        with grpc.insecure_channel(target) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
    except grpc.RpcError as error:
        return False, f"{target} {service or '(server)'}: {error.code().name}"  # type: ignore[attr-defined]
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return reply.status == health_pb2.HealthCheckResponse.SERVING, f"{target} {service or '(server)'}: {status}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("target", help="host:port of the gRPC server")
    parser.add_argument("service", nargs="?", default="", help="full service name; empty: the server as a whole")
    parser.add_argument("--timeout", type=float, default=3.0, help="deadline of the call in seconds")
    args = parser.parse_args(argv)
    healthy, message = check(args.target, args.service, args.timeout)
    print(message, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
