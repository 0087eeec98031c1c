"""Each service's /metrics endpoint (billing_common.metrics), scraped over HTTP as Prometheus
would, from a service built in-process (build_service) on a real database: SQLite or
PostgreSQL with a real outbox, and a PostgreSQL port that refuses."""
from __future__ import annotations

import datetime as dt
import socket
import urllib.error
import urllib.request
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlalchemy import MetaData, insert

from billing_common.clock import FakeClock, utc
from billing_common.config import ConfigurationError, ServiceSettings, describe
from billing_common.db import make_engine
from billing_common.grpc_server import GrpcServer
from billing_common.outbox import outbox_table
from billing_common.service import build_service
from services.identity.config import IdentitySettings
from tests import callers
from tests.faults import refusing_url

START = 1_800_000_000.0
SERVICE = "billing.identity.v1.IdentityService"


@pytest.fixture
def db(database_url, unique):
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = make_engine(database_url(unique("metrics").replace("-", "_")))
    metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def settings(tmp_path, **values) -> ServiceSettings:
    values = {"metrics_bind": "127.0.0.1:0", **values}
    return ServiceSettings(maildir=tmp_path / "mail", shutdown_grace=1.0, outbox_poll_interval=0.05, **callers.ENV,
                           **values)


def start(settings_, engine, table, clock=None, service_name=SERVICE) -> GrpcServer:
    return build_service(settings_, service_name=service_name, register=lambda s: None, engine=engine,
                         outbox=table, clock=clock, on_stop=lambda: None, allowed_callers={}).start()


def scrape(url: str) -> tuple[int, dict[str, dict[tuple[tuple[str, str], ...], float]]]:
    """(HTTP status, {sample name: {labels: value}}) of one scrape."""
    with urllib.request.urlopen(url, timeout=30) as reply:
        status, text = reply.status, reply.read().decode()
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return status, samples


def add(engine, table, *, age: float, now: float, attempts: int = 0, error: str | None = None,
        sent: bool = False, given_up: bool = False, n: int = 1) -> None:
    """Outbox rows as the dispatcher leaves them; none is due (the service's dispatcher polls)."""
    created = utc(now - age)
    with engine.begin() as conn:
        for _ in range(n):
            conn.execute(insert(table).values(
                message_id=str(uuid.uuid4()), to_addrs="a@example.test",
                subject="Reset your password", body="" if sent or given_up else "Open this link",
                created_at=created, attempts=attempts, next_attempt_at=utc(now) + dt.timedelta(hours=1),
                last_error=error, sent_at=utc(now) if sent else None, failed_at=utc(now) if given_up else None))


def test_a_scrape_gives_exactly_the_outbox_s_waiting_retrying_oldest_and_given_up_figures(db, tmp_path):
    engine, table = db
    clock = FakeClock(START)
    add(engine, table, age=30, now=START, n=2)  # written, not tried yet
    add(engine, table, age=125.5, now=START, attempts=3, error="ConnectionRefusedError()")  # retrying
    add(engine, table, age=90_000, now=START, attempts=40, error="SMTPDataError()", given_up=True, n=3)
    add(engine, table, age=600, now=START, attempts=1, sent=True, n=4)  # delivered: in no figure
    server = start(settings(tmp_path), engine, table, clock)
    try:
        status, samples = scrape(server.metrics.url)
    finally:
        server.stop()
    label = (("service", "identity"),)
    assert status == 200
    assert samples["billing_outbox_up"] == {label: 1}
    assert samples["billing_outbox_waiting"] == {label: 3}
    assert samples["billing_outbox_retrying"] == {label: 1}
    assert samples["billing_outbox_oldest_waiting_seconds"] == {label: 125.5}
    assert samples["billing_outbox_given_up_total"] == {label: 3}
    assert "process_cpu_seconds_total" in samples  # the process's own figures come along


def test_an_empty_outbox_reports_zeros_and_an_oldest_age_of_zero(db, tmp_path):
    engine, table = db
    server = start(settings(tmp_path), engine, table, FakeClock(START))
    try:
        status, samples = scrape(server.metrics.url)
    finally:
        server.stop()
    label = (("service", "identity"),)
    assert status == 200
    assert {name: samples[name] for name in ("billing_outbox_up", "billing_outbox_waiting", "billing_outbox_retrying",
                                             "billing_outbox_oldest_waiting_seconds",
                                             "billing_outbox_given_up_total")} == {
        "billing_outbox_up": {label: 1}, "billing_outbox_waiting": {label: 0}, "billing_outbox_retrying": {label: 0},
        "billing_outbox_oldest_waiting_seconds": {label: 0}, "billing_outbox_given_up_total": {label: 0}}


def test_with_the_database_unreachable_a_scrape_still_answers_200_with_the_outbox_down(tmp_path):
    metadata = MetaData()
    table = outbox_table(metadata)
    engine = make_engine(refusing_url())
    server = start(settings(tmp_path), engine, table)
    try:
        status, samples = scrape(server.metrics.url)
    finally:
        server.stop()
        engine.dispose()
    assert status == 200
    assert samples["billing_outbox_up"] == {(("service", "identity"),): 0}
    assert not any(name.startswith("billing_outbox_") and name != "billing_outbox_up" for name in samples)
    assert "process_cpu_seconds_total" in samples


def test_two_services_in_one_process_each_serve_their_own_figures(db, database_url, unique, tmp_path):
    engine, table = db
    metadata = MetaData()
    other_table = outbox_table(metadata)
    other = make_engine(database_url(unique("metrics_other").replace("-", "_")))
    metadata.create_all(other)
    add(engine, table, age=10, now=START, n=2)
    add(other, other_table, age=10, now=START, n=5)
    first = start(settings(tmp_path), engine, table, FakeClock(START))
    second = start(settings(tmp_path), other, other_table, FakeClock(START),
                   service_name="billing.enterprise_portal.v1.EnterprisePortalService")
    try:
        _, mine = scrape(first.metrics.url)
        _, theirs = scrape(second.metrics.url)
    finally:
        first.stop()
        second.stop()
        other.dispose()
    assert mine["billing_outbox_waiting"] == {(("service", "identity"),): 2}
    assert theirs["billing_outbox_waiting"] == {(("service", "enterprise_portal"),): 5}


def test_the_metrics_endpoint_stops_with_the_server(db, tmp_path):
    engine, table = db
    server = start(settings(tmp_path), engine, table, FakeClock(START))
    url = server.metrics.url
    assert scrape(url)[0] == 200
    server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)


def test_without_a_metrics_bind_a_service_serves_no_metrics(db, tmp_path):
    engine, table = db
    server = start(settings(tmp_path, metrics_bind=None), engine, table, FakeClock(START))
    try:
        assert server.metrics is None
    finally:
        server.stop()


def test_each_service_reads_its_metrics_address_from_its_prefixed_variable(monkeypatch):
    monkeypatch.setenv("IDENTITY_METRICS_BIND", "0.0.0.0:9100")
    assert IdentitySettings(**callers.ENV).metrics_bind == "0.0.0.0:9100"
    monkeypatch.setenv("IDENTITY_METRICS_BIND", "")
    assert IdentitySettings(**callers.ENV).metrics_bind is None


@pytest.mark.parametrize("bind", ["9100", "localhost", "0.0.0.0:http", "127.0.0.1:70000", ":9100"])
def test_a_metrics_address_that_is_not_host_and_port_is_refused_naming_the_variable(monkeypatch, bind):
    monkeypatch.setenv("IDENTITY_METRICS_BIND", bind)
    with pytest.raises(ValidationError) as refused:
        IdentitySettings(**callers.ENV)
    assert describe(refused.value, IdentitySettings).startswith("IDENTITY_METRICS_BIND: ")


def test_a_metrics_port_in_use_stops_the_service_with_one_line_naming_the_variable(db, tmp_path, monkeypatch):
    engine, table = db
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("IDENTITY_METRICS_BIND", f"127.0.0.1:{taken.getsockname()[1]}")
        with pytest.raises(ConfigurationError, match=r"^IDENTITY_METRICS_BIND: cannot serve metrics on 127\.0\.0\.1:"):
            build_service(IdentitySettings(grpc_bind="127.0.0.1:0", maildir=tmp_path / "mail", **callers.ENV),
                          service_name=SERVICE,
                          register=lambda s: None, engine=engine, outbox=table, on_stop=lambda: None,
                          allowed_callers={})
