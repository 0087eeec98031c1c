"""What every gRPC service process is: its server, plus the dispatcher of its mail outbox.

One function instead of the same dozen lines in each service's entrypoint.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import grpc
from sqlalchemy import Engine, Table

from billing_common.clock import Clock
from billing_common.config import ServiceSettings
from billing_common.grpc_server import GrpcServer, build_server
from billing_common.mail import transport_from_settings
from billing_common.outbox import OutboxDispatcher
from billing_common.readiness import Check, ReadinessChecker, sql_check


def build_service(
    settings: ServiceSettings,
    *,
    service_name: str,
    register: Callable[[grpc.Server], None],
    engine: Engine,
    outbox: Table,
    clock: Clock | None = None,
    on_stop: Callable[[], None] | None = None,
    quiet_methods: Iterable[str] = (),
    dependencies: Mapping[str, Check] | None = None,
) -> GrpcServer:
    """The server, built but not started (bind "127.0.0.1:0" for a free port), with the outbox
    dispatcher already polling. `server.stop()` stops taking calls, lets in-flight ones finish,
    stops the dispatcher (its poll in progress finishes first), then runs `on_stop` (close the
    engine and other connections).

    Its service name is ready (health SERVING) only while the database, and each of
    `dependencies` (name: a check that raises when it cannot be used, e.g. a Redis ping),
    answer; checked every `health_check_interval` seconds (billing_common.readiness)."""
    server = build_server(
        settings.grpc_bind,
        register,
        [service_name],
        workers=settings.grpc_workers,
        grace=settings.shutdown_grace,
        reflection_enabled=settings.env == "dev",
        quiet_methods=quiet_methods,
    )
    server.readiness = ReadinessChecker(
        server.health, [service_name], {"database": sql_check(engine), **(dependencies or {})},
        settings.health_check_interval)
    dispatcher = OutboxDispatcher(
        engine, outbox, transport_from_settings(settings.smtp_url, settings.maildir), settings.mail_from, clock
    )
    dispatcher.start_thread(settings.outbox_poll_interval)
    # After the server: mail written by the last calls still gets its next poll.
    server.on_stop.append(lambda: dispatcher.stop_thread(settings.shutdown_grace))
    server.on_stop.append(on_stop or engine.dispose)
    return server
