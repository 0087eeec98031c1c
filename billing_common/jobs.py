"""A job that runs every few seconds in a daemon thread, next to a service's gRPC server
(online_billing's billing run, enterprise_portal's reconciliation and PO notices)."""
from __future__ import annotations

import threading
from typing import Self

import structlog

log = structlog.get_logger()


class PeriodicJob:
    """Calls `run_once()` every `interval` seconds (0 or less: never; tests then call
    `run_once()` themselves). A run that fails is logged as "<name> failed" and the next
    interval tries again, so one bad run (the database down for a moment) does not stop the
    job. The jobs are written so that other replicas may run them at the same time."""

    def __init__(self, name: str, interval: float) -> None:
        self.name, self.interval = name, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> object:
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # the next interval tries again
                log.exception(f"{self.name} failed")

    def start(self) -> Self:
        if self.interval > 0:
            self._thread = threading.Thread(target=self._loop, name=self.name.replace(" ", "-"), daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stops the thread, waiting up to `timeout` seconds for a run in progress to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
