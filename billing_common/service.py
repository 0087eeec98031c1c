"""What every gRPC service process is: its server, plus the dispatcher of its mail outbox and,
when configured, its Prometheus endpoint.

One function instead of the same dozen lines in each service's entrypoint.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

import grpc
from sqlalchemy import Engine, Table

from billing_common.clock import Clock
from billing_common.config import ConfigurationError, ServiceSettings
from billing_common.grpc_server import GrpcServer, build_server
from billing_common.mail import transport_from_settings
from billing_common.metrics import OutboxCollector, serve_metrics, service_label
from billing_common.outbox import AttachmentResolver, Expander, OutboxDispatcher
from billing_common.readiness import Check, ReadinessChecker, sql_check
from billing_common.service_auth import Gatekeeper, secret_variable


def build_service(
    settings: ServiceSettings,
    *,
    service_name: str,
    register: Callable[[grpc.Server], None],
    engine: Engine,
    outbox: Table,
    clock: Clock | None = None,
    on_stop: Callable[[], None] | None = None,
    allowed_callers: Mapping[str, Collection[str]],
    quiet_methods: Iterable[str] = (),
    dependencies: Mapping[str, Check] | None = None,
    attachments: AttachmentResolver | None = None,
    expand: Expander | None = None,
) -> GrpcServer:
    """The server, built but not started (bind "127.0.0.1:0" for a free port), with the outbox
    dispatcher already polling. `server.stop()` stops taking calls, lets in-flight ones finish,
    stops the dispatcher (its poll in progress finishes first), then runs `on_stop` (close the
    engine and other connections).

    Its service name is ready (health SERVING) only while the database, and each of
    `dependencies` (name: a check that raises when it cannot be used, e.g. a Redis ping),
    answer; checked every `health_check_interval` seconds (billing_common.readiness).

    With `settings.metrics_bind` set, `server.metrics` serves /metrics there (the outbox's
    figures, read at each scrape: billing_common.metrics) until the server stops.

    `allowed_callers` ("/package.Service/Method" -> caller names, see service_auth.allow_list)
    is declared beside the servicer; the callers' secrets come from `settings`. In prod a
    service refuses to start while a caller it admits has no secret."""
    gate = caller_gate(settings, allowed_callers)
    server = build_server(
        settings.grpc_bind,
        register,
        [service_name],
        workers=settings.grpc_workers,
        grace=settings.shutdown_grace,
        reflection_enabled=settings.env == "dev",
        quiet_methods=quiet_methods,
        gate=gate,
    )
    server.readiness = ReadinessChecker(
        server.health, [service_name], {"database": sql_check(engine), **(dependencies or {})},
        settings.health_check_interval)
    transport = transport_from_settings(settings.smtp_url, settings.maildir,
                                        connect_timeout=settings.smtp_connect_timeout, timeout=settings.smtp_timeout)
    dispatcher = OutboxDispatcher(
        engine, outbox, transport, settings.mail_from, clock,
        max_delay=settings.outbox_max_delay, give_up_after=settings.outbox_give_up_after,
        lease=settings.outbox_claim_lease, status_interval=settings.outbox_status_interval,
        attachments=attachments, expand=expand,
    )
    if settings.metrics_bind:
        try:
            server.metrics = serve_metrics(
                settings.metrics_bind, OutboxCollector(engine, outbox, service_label(service_name), clock))
        except OSError as exc:  # a port in use: one line naming the variable, not a traceback
            server.server.stop(None)
            variable = f"{settings.model_config.get('env_prefix', '')}METRICS_BIND"
            raise ConfigurationError(f"{variable}: cannot serve metrics on {settings.metrics_bind}: "
                                     f"{exc.strerror or exc}") from exc
    dispatcher.start_thread(settings.outbox_poll_interval)
    # After the server: mail written by the last calls still gets its next poll.
    server.on_stop.append(lambda: dispatcher.stop_thread(settings.shutdown_grace))
    if server.metrics is not None:
        server.on_stop.append(server.metrics.stop)
    server.on_stop.append(on_stop or engine.dispose)
    return server


def caller_gate(settings: ServiceSettings, allowed_callers: Mapping[str, Collection[str]]) -> Gatekeeper:
    """The gate of a service: its allow-list with the secrets of the callers it names."""
    named = sorted({caller for callers in allowed_callers.values() for caller in callers})
    secrets = settings.caller_secrets()
    missing = [secret_variable(caller) for caller in named if caller not in secrets]
    if missing and settings.env == "prod":
        raise ConfigurationError(f"{', '.join(missing)} must be set: this service admits those callers")
    return Gatekeeper.build({c: secrets[c] for c in named if c in secrets}, allowed_callers)
