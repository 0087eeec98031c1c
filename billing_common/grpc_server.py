"""gRPC server bootstrap shared by every service (grpc examples' `serve()` shape).

- the library HealthServicer, one status per service name, NOT_SERVING on shutdown (S23);
- interceptors: request id, access log, domain-error to status mapping in one place (S22);
- graceful stop on SIGTERM/SIGINT: refuse new calls, let in-flight ones finish, then exit;
- server reflection in dev only.
"""
from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from billing_common.errors import DomainError, RateLimited

log = structlog.get_logger()

REQUEST_ID_HEADER = "x-request-id"
request_id_var: ContextVar[str] = ContextVar("request_id", default="")


def _wrap_unary(
    handler: grpc.RpcMethodHandler,
    wrapper: Callable[..., Any],
    deserializer: Callable[[Callable[[bytes], Any]], Callable[[bytes], Any]] | None = None,
) -> grpc.RpcMethodHandler:
    """Only unary-unary calls exist in our protos; other kinds pass through untouched."""
    if handler is None or handler.unary_unary is None:
        return handler
    inner = handler.unary_unary
    parse = handler.request_deserializer
    return grpc.unary_unary_rpc_method_handler(
        lambda request, context: wrapper(inner, request, context),
        request_deserializer=deserializer(parse) if deserializer and parse else parse,
        response_serializer=handler.response_serializer,
    )


# A request grpc could not parse. Left to grpc, it becomes INTERNAL "Exception deserializing
# request!" with a logged traceback; it is the caller's bad input, so INVALID_ARGUMENT (S24).
_UNDECODABLE = object()


def _lenient(parse: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def parse_or_mark(data: bytes) -> Any:
        try:
            return parse(data)
        except Exception:
            return _UNDECODABLE

    return parse_or_mark


class RequestIdInterceptor(grpc.ServerInterceptor):
    """Takes the caller's x-request-id (or makes one) and binds it to the logs of this call."""

    def intercept_service(self, continuation, details):  # type: ignore[no-untyped-def]
        incoming = dict(details.invocation_metadata or ()).get(REQUEST_ID_HEADER)

        def wrapper(inner, request, context):  # type: ignore[no-untyped-def]
            rid = incoming if incoming and len(incoming) <= 64 else str(uuid.uuid4())
            token = request_id_var.set(rid)
            structlog.contextvars.bind_contextvars(request_id=rid)
            try:
                return inner(request, context)
            finally:
                structlog.contextvars.unbind_contextvars("request_id")
                request_id_var.reset(token)

        return _wrap_unary(continuation(details), wrapper)


class AccessLogInterceptor(grpc.ServerInterceptor):
    """One line per call: method, status, milliseconds. Never the request body (S25)."""

    def intercept_service(self, continuation, details):  # type: ignore[no-untyped-def]
        method = details.method

        def wrapper(inner, request, context):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                response = inner(request, context)
            except BaseException:
                code = context.code() if hasattr(context, "code") else None
                log.info("rpc", method=method, code=_name(code) or "ABORTED_OR_ERROR",
                         ms=round((time.perf_counter() - start) * 1000, 2))
                raise
            log.info("rpc", method=method, code=_name(context.code()) or "OK",
                     ms=round((time.perf_counter() - start) * 1000, 2))
            return response

        return _wrap_unary(continuation(details), wrapper)


def _name(code: Any) -> str | None:
    return getattr(code, "name", None) if code is not None else None


class DomainErrorInterceptor(grpc.ServerInterceptor):
    """The one place domain errors become statuses; anything unexpected is INTERNAL.

    The field a bad argument concerns travels in trailing metadata `x-error-field`, and a
    rate limit's delay in `retry-after`, so the web tier can name the field and the wait.
    """

    def intercept_service(self, continuation, details):  # type: ignore[no-untyped-def]
        def wrapper(inner, request, context):  # type: ignore[no-untyped-def]
            if request is _UNDECODABLE:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                              "the request is not a valid message (malformed bytes or invalid UTF-8)")
            try:
                return inner(request, context)
            except DomainError as exc:
                trailers = []
                if exc.field:
                    trailers.append(("x-error-field", exc.field))
                if isinstance(exc, RateLimited):
                    trailers.append(("retry-after", str(exc.retry_after)))
                if trailers:
                    context.set_trailing_metadata(tuple(trailers))
                context.abort(getattr(grpc.StatusCode, exc.code), exc.message)
            except grpc.RpcError:
                raise
            except Exception:
                if _already_aborted(context):
                    raise
                log.exception("unhandled error")
                context.abort(grpc.StatusCode.INTERNAL, "internal error")

        return _wrap_unary(continuation(details), wrapper, _lenient)


def _already_aborted(context: Any) -> bool:
    code = context.code() if hasattr(context, "code") else None
    return code not in (None, grpc.StatusCode.OK)


def default_interceptors() -> list[grpc.ServerInterceptor]:
    # Outermost first: the request id is bound before the access log and error mapping run.
    return [RequestIdInterceptor(), AccessLogInterceptor(), DomainErrorInterceptor()]


@dataclass
class GrpcServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    service_names: Sequence[str]
    grace: float
    _stopped: threading.Event = field(default_factory=threading.Event)
    on_stop: list[Callable[[], None]] = field(default_factory=list)

    def start(self) -> GrpcServer:
        self.server.start()
        for name in (*self.service_names, ""):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return self

    def stop(self) -> None:
        """NOT_SERVING first so load balancers drain us, then finish in-flight calls."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.health.enter_graceful_shutdown()
        self.server.stop(self.grace).wait()
        for hook in self.on_stop:
            hook()

    def serve_forever(self) -> None:
        """Run until SIGTERM or SIGINT (main thread only)."""
        done = threading.Event()

        def _handle(signum: int, _frame: Any) -> None:
            log.info("shutting down", signal=signal.Signals(signum).name, grace_seconds=self.grace)
            threading.Thread(target=lambda: (self.stop(), done.set()), daemon=True).start()

        signal.signal(signal.SIGTERM, _handle)
        signal.signal(signal.SIGINT, _handle)
        log.info("serving", port=self.port, services=list(self.service_names))
        done.wait()
        log.info("stopped")


def build_server(
    bind: str,
    register: Callable[[grpc.Server], None],
    service_names: Iterable[str],
    *,
    workers: int = 16,
    grace: float = 10.0,
    reflection_enabled: bool = False,
    interceptors: Sequence[grpc.ServerInterceptor] | None = None,
) -> GrpcServer:
    """Build (not start) a server; bind "127.0.0.1:0" picks a free port for tests."""
    names = list(service_names)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers),
        interceptors=list(interceptors if interceptors is not None else default_interceptors()),
        options=[("grpc.max_receive_message_length", 4 * 1024 * 1024)],
    )
    register(server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in names:
        health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    if reflection_enabled:
        reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    port = server.add_insecure_port(bind)
    if port == 0:
        raise RuntimeError(f"could not bind {bind}")
    return GrpcServer(server=server, port=port, health=health_servicer, service_names=names, grace=grace)
