"""Two rules of the billing run the issue states and only the bench measured: the charges of a
run go out concurrently up to the configured bound (a gateway taking 200 ms per call does not
make the run serial), and no gateway call is made while the calling thread has a database
transaction open (a unit of work entered and not left)."""
from __future__ import annotations

import datetime as dt
import threading
import time

from billing_common.clock import FakeClock
from billing_common.payments.sandbox import InMemoryChargeStore, SandboxGateway
from services.online_billing.adapters.memory import InMemoryUnitOfWork
from services.online_billing.service_layer import accounts, renewals, subscriptions
from services.online_billing.service_layer.dependencies import Dependencies
from tests.unit.online_billing.factories import subscription
from tests.unit.online_billing.test_renewals import DAY, END, SECRET, START, _card

N, BOUND, LATENCY = 12, 4, 0.2


class _Transactions(threading.local):
    depth = 0


class WatchedUnitOfWork(InMemoryUnitOfWork):
    """Counts, per thread, the units of work entered and not yet left."""

    open = _Transactions()

    def __enter__(self):  # type: ignore[no-untyped-def]
        self.open.depth += 1
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        try:
            super().__exit__(*exc)
        finally:
            self.open.depth -= 1


class Remote:
    """The sandbox's `sleep`, called on the calling thread for every gateway call."""

    def __init__(self) -> None:
        self.armed = False
        self.lock = threading.Lock()
        self.in_flight = self.peak = self.calls = 0
        self.inside_transaction: list[int] = []

    def __call__(self, seconds: float) -> None:
        if not self.armed:
            return
        if WatchedUnitOfWork.open.depth:
            self.inside_transaction.append(WatchedUnitOfWork.open.depth)
        with self.lock:
            self.in_flight += 1
            self.calls += 1
            self.peak = max(self.peak, self.in_flight)
        time.sleep(LATENCY)
        with self.lock:
            self.in_flight -= 1


def test_charges_run_concurrently_up_to_the_bound_and_never_inside_a_transaction() -> None:
    remote = Remote()
    gateway = SandboxGateway(SECRET, InMemoryChargeStore(), latency_ms=(200, 200), sleep=remote)
    subs = [subscription(f"acct-{n}", start=START) for n in range(N)]
    uow = InMemoryUnitOfWork(subs, catalogue=True)
    uow.__class__ = WatchedUnitOfWork
    deps = Dependencies(uow=lambda: uow, clock=FakeClock((START + 10 * DAY).timestamp()), gateway=gateway)
    for n in range(N):
        accounts.add_payment_method(deps, f"acct-{n}", _card("4242424242424242"))
    remote.armed = True
    started = time.monotonic()
    summary = renewals.billing_run(deps, END + dt.timedelta(hours=1), batch_size=N, concurrency=BOUND,
                                   reconcile=lambda d: subscriptions.reconcile(d).settled)
    elapsed = time.monotonic() - started
    assert summary.renewed == N and remote.calls == N
    assert remote.inside_transaction == []  # every charge with no transaction open on its thread
    assert remote.peak == BOUND  # concurrent, and never more than the bound
    serial = N * LATENCY
    assert elapsed < serial / 2, (elapsed, serial)  # 12 x 200 ms in about 3 rounds, not 12


def test_the_watch_sees_a_call_made_inside_a_transaction() -> None:  # so the rule above is not vacuous
    remote = Remote()
    remote.armed = True
    uow = InMemoryUnitOfWork([], catalogue=True)
    uow.__class__ = WatchedUnitOfWork
    with uow:
        remote(0)
    remote(0)
    assert remote.inside_transaction == [1]
