"""Readiness from the dependencies a service cannot work without (S15).

A background thread runs each check (ping Redis, SELECT 1) every `interval` seconds and sets
the library HealthServicer's status of the service's names: SERVING while every check passes,
NOT_SERVING while any fails, SERVING again once they pass. The server-wide status "" is left
alone: it is the liveness probe's, and a process whose database is down needs no restart.
Health Checks are answered from the stored status, so a probe never waits on a dependency.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence

import structlog
from grpc_health.v1 import health, health_pb2
from sqlalchemy import Engine, text

from billing_common.faults import describe

log = structlog.get_logger()

Check = Callable[[], object]  # raises when the dependency cannot be used


def sql_check(engine: Engine) -> Check:
    """SELECT 1 through the service's own pool (a connection that died is replaced first)."""

    def check() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return check


class ReadinessChecker:
    def __init__(self, servicer: health.HealthServicer, names: Sequence[str], checks: Mapping[str, Check],
                 interval: float) -> None:
        self.servicer = servicer
        self.names = list(names)
        self.checks = dict(checks)
        self.interval = interval
        self.failing: list[str] = []
        self._first = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check_once(self) -> bool:
        """Runs every check and sets the status; True when all passed."""
        failing = []
        for name, check in self.checks.items():
            try:
                check()
            except Exception as exc:  # any failure means "not ready"; the reason is logged
                failing.append(name)
                if name not in self.failing:
                    log.warning("dependency unreachable", dependency=name, error=describe(exc))
        if self._stop.is_set():
            return not failing  # stopping: the status is the shutdown's (NOT_SERVING)
        if failing != self.failing or self._first:
            status = health_pb2.HealthCheckResponse.NOT_SERVING if failing else health_pb2.HealthCheckResponse.SERVING
            for service in self.names:
                self.servicer.set(service, status)
            if failing or not self._first:
                log.info("readiness", serving=not failing, failing=failing)
        self.failing, self._first = failing, False
        return not failing

    def start(self) -> None:
        """One round now (a service that starts with its database down is not ready), then the thread."""
        self.check_once()
        self._thread = threading.Thread(target=self._run, name="readiness", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check_once()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
