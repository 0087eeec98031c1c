"""Container health check of a gRPC service, through the standard grpc.health.v1 service.

    python deploy/healthcheck.py 127.0.0.1:50051 billing.identity.v1.IdentityService

Exit status 0 only when the server answers SERVING for that service name; 1 for NOT_SERVING,
an unknown service, an unreachable server or a timeout. The server flips to NOT_SERVING as
soon as it starts a graceful shutdown, so an orchestrator stops routing to it first.

It runs inside the image, where PYTHONPATH holds the project (Dockerfile), so it shares the
probe in billing_common.grpc_client with the web readiness check and `make run`.
"""
from __future__ import annotations

import argparse
import sys

from billing_common.grpc_client import health_status


def check(target: str, service: str, timeout: float = 3.0) -> tuple[bool, str]:
    """(healthy, what to print) for one Check call with a deadline."""
    status = health_status(target, service, timeout)
    return status == "SERVING", f"{target} {service or '(server)'}: {status}"


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
