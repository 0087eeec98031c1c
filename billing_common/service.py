"""What every gRPC service process is: its server, plus the dispatcher of its mail outbox.

One function instead of the same dozen lines in each service's entrypoint.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import grpc
from sqlalchemy import Engine, Table

from billing_common.clock import Clock
from billing_common.config import ServiceSettings
from billing_common.grpc_server import GrpcServer, build_server
from billing_common.mail import transport_from_settings
from billing_common.outbox import OutboxDispatcher


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
) -> GrpcServer:
    """The server, built but not started (bind "127.0.0.1:0" for a free port), with the outbox
    dispatcher already polling. `server.stop()` stops taking calls, lets in-flight ones finish,
    stops the dispatcher (its poll in progress finishes first), then runs `on_stop` (close the
    engine and other connections)."""
    server = build_server(
        settings.grpc_bind,
        register,
        [service_name],
        workers=settings.grpc_workers,
        grace=settings.shutdown_grace,
        reflection_enabled=settings.env == "dev",
        quiet_methods=quiet_methods,
    )
    transport = transport_from_settings(settings.smtp_url, settings.maildir,
                                        connect_timeout=settings.smtp_connect_timeout, timeout=settings.smtp_timeout)
    dispatcher = OutboxDispatcher(
        engine, outbox, transport, settings.mail_from, clock,
        max_delay=settings.outbox_max_delay, give_up_after=settings.outbox_give_up_after,
        lease=settings.outbox_claim_lease, status_interval=settings.outbox_status_interval,
    )
    dispatcher.start_thread(settings.outbox_poll_interval)
    # After the server: mail written by the last calls still gets its next poll.
    server.on_stop.append(lambda: dispatcher.stop_thread(settings.shutdown_grace))
    server.on_stop.append(on_stop or engine.dispose)
    return server
