"""`make bench`'s billing run (also `python -m tests.bench.billing_run`): N generated monthly
subscriptions, each with a sandbox card and a billing profile (so a receipt goes through the
outbox), renewed by online_billing's billing run on PostgreSQL (TEST_DATABASE_URL, else the
machine's server) with the sandbox gateway on its own database, in a process of its own (its
peak memory is the run's); seconds, renewals and rows per second, against a raw COPY of the
same invoice and invoice line rows into empty tables of the same shape, in the same run; one
worker, then two, each on fresh databases; then BENCH_RENEWALS_LARGE (100,000; 0 skips it) with
one worker, for the cost per renewal as N grows and the memory; then the sandbox answering after
50 ms against what the bound on charges at once allows. BENCH_RENEWALS sets N (10,000).
Read the ratios: the machine is shared.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import multiprocessing
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psutil
from sqlalchemy import create_engine, make_url, select, text

from billing_common import logs
from billing_common.bulk import insert_rows
from billing_common.clock import FakeClock
from billing_common.db import make_engine, normalise_url, to_utc
from billing_common.payments.gateway import CardDetails
from billing_common.payments.settings import GatewaySettings, build_tokenizer
from services.online_billing import bootstrap
from services.online_billing.adapters import orm
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.billing_run import run_once

SERVER = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
BATCH, CONCURRENCY = 500, 8


@dataclass
class Figures:
    workers: int
    renewed: int
    seconds: float
    copy_seconds: float
    copied_rows: int
    peak_rss_growth_mb: float  # the run process's resident memory: growth during the run
    peak_rss_mb: float  # and its peak, imports and all


class PeakRss:
    """The process's resident memory, sampled every 20 ms: how far the run raised it."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.start) / 2**20


@contextmanager
def _databases(*names: str) -> Iterator[list[str]]:
    admin = create_engine(normalise_url(SERVER), isolation_level="AUTOCOMMIT")
    made = [f"bench_{name}_{uuid.uuid4().hex[:10]}" for name in names]
    try:
        with admin.connect() as conn:
            for db in made:
                conn.execute(text(f'CREATE DATABASE "{db}"'))
        yield [make_url(normalise_url(SERVER)).set(database=db).render_as_string(hide_password=False) for db in made]
    finally:
        with admin.connect() as conn:
            for db in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def _seed(url: str, gateway: GatewaySettings, n: int) -> None:
    """n monthly subscriptions due at END, each account with a sandbox card and a billing profile
    with one invoice recipient (so each renewal's receipt goes through the outbox)."""
    token = build_tokenizer(gateway).tokenize(CardDetails("4242424242424242", 12, 2030, "123", "Bench")).token
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            ids = [f"bench-{i:07d}" for i in range(n)]
            insert_rows(conn, orm.subscriptions, [
                {"id": str(uuid.uuid4()), "account_id": a, "plan_code": "business", "seats": 10,
                 "interval": "monthly", "status": "active", "currency": "USD",
                 "current_period_start": to_utc(START), "current_period_end": to_utc(END),
                 "cancel_at_period_end": False, "cancel_reason": "", "dunning_retries": 0} for a in ids])
            insert_rows(conn, orm.payment_methods, [
                {"id": str(uuid.uuid4()), "account_id": a, "token": token, "brand": "visa", "last4": "4242",
                 "exp_month": 12, "exp_year": 2030, "is_default": True, "created_at": to_utc(START)} for a in ids])
            insert_rows(conn, orm.billing_profiles, [
                {"account_id": a, "company_name": f"Bench {a}", "address_line1": "1 Main St", "address_line2": "",
                 "city": "Springfield", "region": "", "postal_code": "", "country": "US", "tax_id_kind": None,
                 "tax_id": None, "invoice_emails": json.dumps([f"{a}@bench.test"]), "updated_at": to_utc(START)}
                for a in ids])
    finally:
        engine.dispose()


def _copy_baseline(url: str) -> tuple[float, int]:
    """COPY of the run's invoice and line rows, as they are, into empty twin tables."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            data = {}
            for table in (orm.invoices, orm.invoice_lines):
                buffer = io.StringIO()
                for row in conn.execute(select(table)):
                    buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
                data[table.name] = buffer.getvalue()
                conn.execute(text(f"CREATE TABLE copy_{table.name} (LIKE {table.name} INCLUDING ALL)"))
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            started = time.perf_counter()
            for name, rows in data.items():
                with cursor.copy(f"COPY copy_{name} FROM STDIN") as copy:  # type: ignore[attr-defined]
                    copy.write(rows)
            raw.commit()
            seconds = time.perf_counter() - started
        finally:
            raw.close()
        return seconds, sum(rows.count("\n") for rows in data.values())
    finally:
        engine.dispose()


def _run(url: str, sandbox_url: str, latency_ms: int, workers: int, answer: Any) -> None:
    """The billing run in a process of its own (spawned: nothing inherited from the seeding),
    so its peak resident memory (sampled every 20 ms) is the run's own."""
    with service_logs():
        settings = _settings(url)
        gateway = _gateway(sandbox_url, latency_ms)
        deps = bootstrap.build_dependencies(settings, gateway_settings=gateway,
                                            clock=FakeClock((END + dt.timedelta(hours=1)).timestamp()))
        try:
            with PeakRss() as rss:
                summary = run_once(deps, settings, END, workers)
        finally:
            deps.close()
    # Not ru_maxrss: Linux carries the high-water mark across fork and exec, so it read the
    # seeding parent's size (343 MB at 100,000), not the run's.
    answer.send((summary.renewed, summary.seconds, rss.growth_mb, rss.peak / 2**20))


def _settings(url: str) -> OnlineBillingSettings:
    return OnlineBillingSettings(database_url=url, env="test", renewal_batch_size=BATCH,
                                 renewal_charge_concurrency=CONCURRENCY)


def _gateway(sandbox_url: str, latency_ms: int) -> GatewaySettings:
    return GatewaySettings(BILLING_ENV="test", SANDBOX_GATEWAY_DATABASE_URL=sandbox_url,
                           SANDBOX_GATEWAY_LATENCY_MS=str(latency_ms))


def measure(n: int, workers: int, latency_ms: int = 0) -> Figures:
    with _databases("online_billing", "sandbox") as (url, sandbox_url):
        bootstrap.migrate(_settings(url))
        _seed(url, _gateway(sandbox_url, latency_ms), n)
        spawn = multiprocessing.get_context("spawn")
        ours, theirs = spawn.Pipe(duplex=False)
        child = spawn.Process(target=_run, args=(url, sandbox_url, latency_ms, workers, theirs))
        child.start()
        try:
            renewed, seconds, growth_mb, peak_mb = ours.recv()
        finally:
            child.join(600)
        copy_seconds, rows = _copy_baseline(url)
    return Figures(workers, renewed, seconds, copy_seconds, rows, growth_mb, peak_mb)


@contextmanager
def service_logs() -> Iterator[None]:
    """The run logs as online_billing's process does (INFO, JSON lines, secrets redacted), to a
    file: what it costs is part of the run, but its lines are not the bench's output."""
    with tempfile.TemporaryFile("w") as sink:
        with contextlib.redirect_stdout(sink):
            logs.configure("online_billing", "INFO", "json")  # binds the stream it is given
        yield


def main() -> None:
    with service_logs():
        _main()


def _line(n: int, f: Figures) -> str:
    return (f"billing run, {n:,} monthly subscriptions on PostgreSQL, sandbox gateway, {f.workers} worker(s), "
            f"batches of {BATCH}, {CONCURRENCY} charges at once: {f.renewed:,} renewed in {f.seconds:.2f} s "
            f"({f.renewed / f.seconds:,.0f} renewals/s, {f.copied_rows / f.seconds:,.0f} invoice and line rows/s); "
            f"raw COPY of the same {f.copied_rows:,} rows {f.copy_seconds:.3f} s "
            f"({f.copied_rows / f.copy_seconds:,.0f} rows/s); ratio {f.seconds / f.copy_seconds:.0f}x (target <= 5x); "
            f"run process memory: peak {f.peak_rss_mb:.0f} MB, +{f.peak_rss_growth_mb:.0f} MB during the run")


def _main() -> None:
    n = int(os.environ.get("BENCH_RENEWALS", "10000"))
    large = int(os.environ.get("BENCH_RENEWALS_LARGE", "100000"))
    one, two = measure(n, 1), measure(n, 2)
    for f in (one, two):
        print(_line(n, f), flush=True)
    print(f"billing run, two workers against one, {n:,} subscriptions: {one.seconds / two.seconds:.2f}x as fast "
          f"(target >= 1)", flush=True)
    if large:
        big = measure(large, 1)
        print(_line(large, big), flush=True)
        per_small, per_large = one.seconds / one.renewed, big.seconds / big.renewed
        print(f"billing run, cost per renewal at {large:,} against {n:,}: {per_large / per_small:.2f}x (1 is linear; "
              f"target: {large:,} in <= 10 s); peak memory {big.peak_rss_mb:.0f} MB against {one.peak_rss_mb:.0f} MB "
              f"(bounded by the batch, not N)", flush=True)
    # A slow gateway: the bound on charges at once is what limits the run, not the database.
    slow_n, latency = min(n, 2000), 50
    f = measure(slow_n, 1, latency)
    limit = CONCURRENCY * 1000 / latency
    print(f"billing run with the sandbox answering after {latency} ms, {slow_n:,} subscriptions, 1 worker: "
          f"{f.renewed / f.seconds:.0f}/s against the {limit:.0f}/s that {CONCURRENCY} charges at once allow "
          f"({f.renewed / f.seconds / limit:.0%} of it)", flush=True)


if __name__ == "__main__":
    main()
