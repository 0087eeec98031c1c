"""gRPC server bootstrap shared by every service (grpc examples' `serve()` shape).

- the library HealthServicer, one status per service name, NOT_SERVING on shutdown (S23);
- every method wrapped once: request id, access log, domain-error to status mapping (S22),
  and the caller's credentials checked against the method's allow-list (service_auth);
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
from typing import TYPE_CHECKING, Any

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from billing_common import deadlines
from billing_common.errors import DeadlineExceeded, DomainError, RateLimited, Unavailable
from billing_common.faults import DEPENDENCY_DOWN, dependency_failure, describe
from billing_common.readiness import ReadinessChecker
from billing_common.service_auth import REFUSED_HEADER, Gatekeeper, Refused, caller_var

if TYPE_CHECKING:
    from billing_common.metrics import MetricsServer

log = structlog.get_logger()

REQUEST_ID_HEADER = "x-request-id"
request_id_var: ContextVar[str] = ContextVar("request_id", default="")


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


# Called on every page view or every few seconds by probes: a successful call is logged at
# debug level only (failures still at info). Each line cost about 0.1 ms of the call's latency
# here, and the web tier's own access line already carries the page view's request id.
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
REFLECTION_SERVICES = ("grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection")


# A server built without callers: every method but health refuses every call.
NOBODY = Gatekeeper.build({}, {})


def observed(
    method: str, handler: grpc.RpcMethodHandler | None, quiet: bool = False, gate: Gatekeeper = NOBODY
) -> grpc.RpcMethodHandler | None:
    """`handler` as every call of `method` runs it:

    - the caller authenticated and admitted by `gate` before anything else: UNAUTHENTICATED
      or PERMISSION_DENIED otherwise (health checks answer anyone); its name is in the access
      line and in `service_auth.caller_var` for the audit log;
    - the caller's x-request-id (or a new one) bound to the logs of the call;
    - one access-log line: method, status, milliseconds, never the request body (S25); at
      debug level when the call succeeded and the method is `quiet`;
    - domain errors become their status in this one place; a dependency that failed (Redis,
      the database, SMTP) UNAVAILABLE; anything unexpected INTERNAL without its details (S22,
      S15); a request that does not parse is INVALID_ARGUMENT (S24);
    - the caller's deadline is known to the work below it (billing_common.deadlines), and a
      call whose deadline passed before it got a worker is answered DEADLINE_EXCEEDED undone.
      The field a bad argument concerns travels in trailing metadata `x-error-field`, an
      error's stable code when it has one (a card decline's) in `x-error-reason`, and the
      wait of a rate limit or of shed load in `retry-after`, so the web tier can name them.

    It wraps each method once, when the service registers, instead of being grpc
    ServerInterceptors: those rebuild the handler chain on every call, which cost about a
    tenth of a millisecond per call here, a fifth of a bare round trip. Only unary-unary calls
    exist in our protos; other kinds pass through untouched (health Watch) or behind the
    same gate only (reflection, in dev).
    """
    if handler is None:
        return handler
    if handler.unary_unary is None:
        return handler if gate.is_open(method) else _guarded_stream(method, handler, gate)
    inner = handler.unary_unary
    open_method = gate.is_open(method)

    def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
        start = time.perf_counter()
        rid = next((v for k, v in context.invocation_metadata() if k == REQUEST_ID_HEADER), "")
        rid = rid if rid and len(rid) <= 64 else str(uuid.uuid4())
        token = request_id_var.set(rid)
        structlog.contextvars.bind_contextvars(request_id=rid)
        code = "OK"
        remaining = context.time_remaining()
        deadline = deadlines.start(remaining)
        caller = ""
        caller_token = caller_var.set("")
        try:
            if not open_method:
                try:
                    caller = gate.admit(method, context.invocation_metadata())
                except Refused as refused:
                    code = refused.code
                    context.set_trailing_metadata(((REFUSED_HEADER, refused.code),))
                    context.abort(getattr(grpc.StatusCode, refused.code), refused.message)
                caller_var.set(caller)
            if request is _UNDECODABLE:
                code = "INVALID_ARGUMENT"
                context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                              "the request is not a valid message (malformed bytes or invalid UTF-8)")
            if remaining is not None and remaining <= 0:
                # The caller gave up while the call waited for a worker: nobody reads the answer.
                raise DeadlineExceeded("The caller's deadline passed before the call was handled.")
            return inner(request, context)
        except DomainError as exc:
            code = exc.code
            trailers = []
            if exc.field:
                trailers.append(("x-error-field", exc.field))
            reason = getattr(exc, "reason", None)
            if isinstance(reason, str) and reason:
                trailers.append(("x-error-reason", reason))
            if isinstance(exc, (RateLimited, Unavailable)):
                trailers.append(("retry-after", str(exc.retry_after)))
            if trailers:
                context.set_trailing_metadata(tuple(trailers))
            context.abort(getattr(grpc.StatusCode, exc.code), exc.message)
        except Exception as exc:
            if code != "OK" or _already_aborted(context):
                raise  # context.abort() raised it: the status is set already
            if dependency_failure(exc):
                code = "UNAVAILABLE"
                log.warning("dependency unavailable", error=describe(exc))
                context.abort(grpc.StatusCode.UNAVAILABLE, DEPENDENCY_DOWN)
            code = "INTERNAL"
            log.exception("unhandled error")
            context.abort(grpc.StatusCode.INTERNAL, "internal error")
        finally:
            if code == "OK":  # or the status the servicer set itself
                code = _name(context.code()) or code
            (log.debug if quiet and code == "OK" else log.info)(
                "rpc", method=method, code=code, ms=round((time.perf_counter() - start) * 1000, 2),
                **({"caller": caller} if caller else {}))
            structlog.contextvars.unbind_contextvars("request_id")
            request_id_var.reset(token)
            deadlines.reset(deadline)
            caller_var.reset(caller_token)

    return grpc.unary_unary_rpc_method_handler(
        behaviour,
        request_deserializer=_lenient(handler.request_deserializer) if handler.request_deserializer else None,
        response_serializer=handler.response_serializer,
    )


def _guarded_stream(method: str, handler: grpc.RpcMethodHandler, gate: Gatekeeper) -> grpc.RpcMethodHandler:
    """A streaming method (reflection, in dev) behind the same gate; no access line."""

    def check(context: grpc.ServicerContext) -> None:
        try:
            gate.admit(method, context.invocation_metadata())
        except Refused as refused:
            context.set_trailing_metadata(((REFUSED_HEADER, refused.code),))
            context.abort(getattr(grpc.StatusCode, refused.code), refused.message)

    if handler.unary_stream is not None:
        unary_stream = handler.unary_stream

        def unary_stream_guarded(request: Any, context: grpc.ServicerContext) -> Any:
            check(context)
            yield from unary_stream(request, context)

        return grpc.unary_stream_rpc_method_handler(
            unary_stream_guarded, handler.request_deserializer, handler.response_serializer)
    if handler.stream_unary is not None:
        stream_unary = handler.stream_unary

        def stream_unary_guarded(requests: Any, context: grpc.ServicerContext) -> Any:
            check(context)
            return stream_unary(requests, context)

        return grpc.stream_unary_rpc_method_handler(
            stream_unary_guarded, handler.request_deserializer, handler.response_serializer)
    stream_stream = handler.stream_stream

    def stream_stream_guarded(requests: Any, context: grpc.ServicerContext) -> Any:
        check(context)
        yield from stream_stream(requests, context)

    return grpc.stream_stream_rpc_method_handler(
        stream_stream_guarded, handler.request_deserializer, handler.response_serializer)


def _name(code: Any) -> str | None:
    return getattr(code, "name", None) if code is not None else None


def _already_aborted(context: grpc.ServicerContext) -> bool:
    return context.code() not in (None, grpc.StatusCode.OK)


class _ObservedGeneric(grpc.GenericRpcHandler):
    """A generic handler whose answers are `observed`, wrapped once per method and kept."""

    def __init__(self, inner: grpc.GenericRpcHandler, quiet: frozenset[str], gate: Gatekeeper) -> None:
        self._inner = inner
        self._quiet = quiet
        self._gate = gate
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler | None]] = {}

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        handler = self._inner.service(details)
        if handler is None:
            return None
        known = self._wrapped.get(details.method)
        if known is None or known[0] is not handler:
            wrapped = observed(details.method, handler, details.method in self._quiet, self._gate)
            known = self._wrapped[details.method] = (handler, wrapped)
        return known[1]


class _Registrar:
    """The server as the generated `add_*_to_server` functions see it: everything they register
    is `observed`. Those functions call exactly these two methods."""

    def __init__(self, server: grpc.Server, quiet: frozenset[str], gate: Gatekeeper) -> None:
        self._server = server
        self._quiet = quiet
        self._gate = gate

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers(tuple(_ObservedGeneric(h, self._quiet, self._gate) for h in handlers))

    def add_registered_method_handlers(self, service: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self._server.add_registered_method_handlers(service, {
            name: observed(f"/{service}/{name}", h, f"/{service}/{name}" in self._quiet, self._gate)
            for name, h in handlers.items()
        })


@dataclass
class GrpcServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    service_names: Sequence[str]
    grace: float
    _stopped: threading.Event = field(default_factory=threading.Event)
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    # Sets the service names' status from the dependencies (readiness); None: SERVING once started.
    readiness: ReadinessChecker | None = None
    # Its /metrics endpoint (billing_common.metrics), when the settings ask for one.
    metrics: MetricsServer | None = None

    def start(self) -> GrpcServer:
        """Serve. "" (the process, liveness) is SERVING from now on; the service names
        (readiness) too, or, with `readiness`, whenever its dependencies answer."""
        self.server.start()
        self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        if self.readiness is not None:
            self.readiness.start()
        else:
            for name in self.service_names:
                self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return self

    def stop(self) -> None:
        """NOT_SERVING first so load balancers drain us, then finish in-flight calls."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.readiness is not None:
            self.readiness.stop()
        self.health.enter_graceful_shutdown()
        self.server.stop(self.grace).wait()
        for hook in self.on_stop:
            hook()

    def serve_forever(self) -> None:
        """Run until SIGTERM or SIGINT (main thread only)."""
        done = threading.Event()

        def _stop() -> None:
            self.stop()
            done.set()

        def _handle(signum: int, _frame: Any) -> None:
            log.info("shutting down", signal=signal.Signals(signum).name, grace_seconds=self.grace)
            threading.Thread(target=_stop, daemon=True).start()

        signal.signal(signal.SIGTERM, _handle)
        signal.signal(signal.SIGINT, _handle)
        log.info("serving", port=self.port, services=list(self.service_names),
                 **({"metrics": self.metrics.url} if self.metrics else {}))
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
    quiet_methods: Iterable[str] = (),
    gate: Gatekeeper = NOBODY,
) -> GrpcServer:
    """Build (not start) a server; bind "127.0.0.1:0" picks a free port for tests.

    `quiet_methods` ("/package.Service/Method") log their successful calls at debug level, as
    the health Check always does (see `observed`). `gate` says which callers may call which
    method (billing_common.service_auth); without one only health checks are answered."""
    names = list(service_names)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers),
        options=[("grpc.max_receive_message_length", 4 * 1024 * 1024)],
    )
    registrar: Any = _Registrar(server, frozenset({HEALTH_CHECK, *quiet_methods}), gate)
    register(registrar)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, registrar)
    for name in names:
        health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    if reflection_enabled:
        # A developer's tool (dev only), for any known caller: grpcurl -H "authorization: ...".
        everyone = frozenset(gate.digests)
        gate = Gatekeeper(gate.digests, {**gate.allowed, **{
            f"/{name}/ServerReflectionInfo": everyone for name in REFLECTION_SERVICES}})
        registrar = _Registrar(server, frozenset({HEALTH_CHECK, *quiet_methods}), gate)
        reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], registrar)
    port = server.add_insecure_port(bind)
    if port == 0:
        raise RuntimeError(f"could not bind {bind}")
    return GrpcServer(server=server, port=port, health=health_servicer, service_names=names, grace=grace)
