"""Prometheus metrics of a gRPC service process: the outbox's operator view, read at scrape time.

Each service process serves `/metrics` over HTTP on `<PREFIX>METRICS_BIND` (off when unset) with
prometheus_client's own WSGI server in a daemon thread and a registry of its own (never the
library's global one, so a test can build several services in one process). What it exposes:

- `billing_outbox_up{service}`: 1 when the figures below were read, 0 when the database did
  not answer (then the outbox figures are left out rather than reported as stale or zero);
- `billing_outbox_waiting{service}`: messages neither delivered nor given up;
- `billing_outbox_retrying{service}`: of those, the ones that failed at least once;
- `billing_outbox_oldest_waiting_seconds{service}`: age of the oldest waiting message, 0 when
  none waits (a series that comes and goes breaks `rate()`, `for:` clauses and graphs, and
  `billing_outbox_waiting == 0` tells "nothing waits" apart from "a message just written");
- `billing_outbox_given_up_total{service}`: messages given up on, ever (a counter);
- the library's `process_*` figures (CPU, memory, open files) of the process.

The outbox figures come from `billing_common.outbox.outbox_status`, one short query per scrape,
instead of gauges a background thread keeps updating: a scrape never shows figures older than
itself, and nothing runs between scrapes. A failing database never makes the endpoint answer
500: the scrape answers 200 with `billing_outbox_up 0` (Prometheus' own `up` stays for "the
process did not answer").
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, Table

from billing_common.clock import Clock, SystemClock, utc
from billing_common.config import parse_bind
from billing_common.faults import describe
from billing_common.outbox import outbox_status

log = structlog.get_logger()


def service_label(service_name: str) -> str:
    """The `service` label of a gRPC service's metrics: the package part of its full name
    (billing.identity.v1.IdentityService -> identity); any other name as it is."""
    parts = service_name.split(".")
    return parts[-3] if len(parts) >= 4 and parts[-2].startswith("v") else service_name


class OutboxCollector(Collector):
    """The outbox figures of one service, read when Prometheus scrapes (module docstring)."""

    def __init__(self, engine: Engine, table: Table, service: str, clock: Clock | None = None) -> None:
        self.engine = engine
        self.table = table
        self.service = service
        self.clock = clock or SystemClock()

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("billing_outbox_up", "1 when the outbox's figures could be read from the "
                               "database at this scrape, else 0 (and no outbox figures)", labels=["service"])
        try:
            status = outbox_status(self.engine, self.table, utc(self.clock.now()))
        except Exception as exc:  # the database is down: say so, and answer what we can
            log.warning("metrics: the outbox's figures could not be read", error=describe(exc))
            up.add_metric([self.service], 0)
            yield up
            return
        up.add_metric([self.service], 1)
        yield up
        for name, documentation, value in (
            ("billing_outbox_waiting", "Messages neither delivered nor given up", status.waiting),
            ("billing_outbox_retrying", "Waiting messages that failed at least once", status.retrying),
            ("billing_outbox_oldest_waiting_seconds", "Age of the oldest waiting message; 0 when none waits",
             status.oldest_waiting_seconds or 0.0),
        ):
            gauge = GaugeMetricFamily(name, documentation, labels=["service"])
            gauge.add_metric([self.service], value)
            yield gauge
        given_up = CounterMetricFamily("billing_outbox_given_up", "Messages given up on, ever (bodies blanked)",
                                       labels=["service"])
        given_up.add_metric([self.service], status.given_up)
        yield given_up


@dataclass
class MetricsServer:
    """A running /metrics endpoint; `port` is the one bound (a bind of port 0 picks a free one)."""

    host: str
    port: int
    registry: CollectorRegistry
    _httpd: WSGIServer
    _thread: threading.Thread

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


def serve_metrics(bind: str, *collectors: Collector) -> MetricsServer:
    """Serve `collectors` (and the process's figures) at http://`bind`/metrics from a daemon
    thread, with a registry of their own. OSError when the address cannot be bound."""
    host, port = parse_bind(bind)
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    for collector in collectors:
        registry.register(collector)
    httpd, thread = start_http_server(port, addr=host, registry=registry)
    thread.name = "metrics"
    return MetricsServer(host, int(httpd.server_port), registry, httpd, thread)
