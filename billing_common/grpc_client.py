"""gRPC client channels: a deadline on every call, retries for UNAVAILABLE only (S22), the
caller's credentials on every call (billing_common.service_auth), calls spread over replicas.

Retries are the channel's own (gRPC service config), limited to the methods a caller names
as idempotent, so a non-idempotent call is never sent twice behind anyone's back.

Load balancing is round_robin: the channel keeps a connection to every address its target
resolves to (`dns:///identity:50051` against a headless Service: one per pod) and sends each
call to the next. gRPC's default, pick_first, sends every call of a channel to one of them.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any, NamedTuple

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from billing_common.grpc_server import REQUEST_ID_HEADER, request_id_var
from billing_common.service_auth import AUTHORIZATION_HEADER, REFUSED_HEADER, CallerCredentials


class _CallDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: Any
    credentials: Any
    wait_for_ready: Any
    compression: Any


class DeadlineInterceptor(grpc.UnaryUnaryClientInterceptor):
    """Gives every call a deadline (unless it has one), forwards the request id and adds the
    caller's credentials (unless the call brings its own)."""

    def __init__(self, default_timeout: float, credentials: CallerCredentials | None = None) -> None:
        self.default_timeout = default_timeout
        self._credentials = credentials.metadata() if credentials else ()

    def __repr__(self) -> str:  # the credentials stay out of any log line (S25)
        return f"DeadlineInterceptor(default_timeout={self.default_timeout})"

    def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        metadata = list(details.metadata or ())
        if not any(k == REQUEST_ID_HEADER for k, _ in metadata):
            metadata.append((REQUEST_ID_HEADER, request_id_var.get() or str(uuid.uuid4())))
        if self._credentials and not any(k == AUTHORIZATION_HEADER for k, _ in metadata):
            metadata.extend(self._credentials)
        new = _CallDetails(
            details.method,
            details.timeout if details.timeout is not None else self.default_timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )
        return continuation(new, request)


# Every call to the next address the target resolved to (see the module's docstring).
LOAD_BALANCING: list[dict[str, dict[str, str]]] = [{"round_robin": {}}]


def service_config(idempotent: Iterable[tuple[str, str]]) -> str:
    names = [{"service": s, "method": m} for s, m in idempotent]
    if not names:
        return json.dumps({"loadBalancingConfig": LOAD_BALANCING, "methodConfig": []})
    return json.dumps(
        {
            "loadBalancingConfig": LOAD_BALANCING,
            "methodConfig": [
                {
                    "name": names,
                    "retryPolicy": {
                        "maxAttempts": 3,
                        "initialBackoff": "0.05s",
                        "maxBackoff": "0.5s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ]
        }
    )


def make_channel(
    target: str,
    *,
    credentials: CallerCredentials | None = None,
    idempotent: Iterable[tuple[str, str]] = (),
    default_timeout: float = 2.0,
) -> grpc.Channel:
    """An insecure channel (services talk on a private network, NetworkPolicies keep others
    off) with deadline, retry and round_robin set, sending `credentials` on every call."""
    channel = grpc.insecure_channel(
        target,
        options=[
            ("grpc.service_config", service_config(idempotent)),
            ("grpc.enable_retries", 1),
            ("grpc.keepalive_time_ms", 30_000),
        ],
    )
    return grpc.intercept_channel(channel, DeadlineInterceptor(default_timeout, credentials))


def error_field(error: grpc.RpcError) -> str | None:
    """The field a server named for INVALID_ARGUMENT (see grpc_server.observed)."""
    for key, value in getattr(error, "trailing_metadata", lambda: ())() or ():
        if key == "x-error-field":
            return value
    return None


def error_reason(error: grpc.RpcError) -> str | None:
    """The stable code a server gave for a refusal (a card decline's, e.g. "insufficient_funds")."""
    for key, value in getattr(error, "trailing_metadata", lambda: ())() or ():
        if key == "x-error-reason":
            return value
    return None


def retry_after(error: grpc.RpcError) -> int | None:
    for key, value in getattr(error, "trailing_metadata", lambda: ())() or ():
        if key == "retry-after":
            return int(value)
    return None


def refused_caller(error: grpc.RpcError) -> bool:
    """Whether the server's gate refused this process's service credentials (a deployment
    fault: a missing or wrong CALLER_SECRET_*), rather than the method answering the status."""
    return any(key == REFUSED_HEADER for key, _ in getattr(error, "trailing_metadata", lambda: ())() or ())


def health_status(target_or_channel: str | grpc.Channel, service: str, timeout: float) -> str:
    """One grpc.health.v1 Check with a deadline: the serving status's name (SERVING,
    NOT_SERVING...) or, when the call fails, the status code's name (NOT_FOUND for a service
    the server does not know, UNAVAILABLE, DEADLINE_EXCEEDED...).

    A target string gets its own channel, closed afterwards; a channel is used as it is.
    """
    if isinstance(target_or_channel, str):
        with grpc.insecure_channel(target_or_channel) as channel:
            return health_status(channel, service, timeout)
    try:
        reply = health_pb2_grpc.HealthStub(target_or_channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    except grpc.RpcError as error:
        return error.code().name  # type: ignore[attr-defined]
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def check_health(target_or_channel: str | grpc.Channel, service: str, timeout: float) -> bool:
    """True only when the server answers SERVING for `service` ("" means the whole server)."""
    return health_status(target_or_channel, service, timeout) == "SERVING"
