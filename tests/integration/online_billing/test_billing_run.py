"""The billing run on the real database (PostgreSQL with TEST_DATABASE_URL, else SQLite) with
the sandbox gateway on its own database: two workers renew each subscription once with gapless
invoice numbers, the same date twice changes nothing, a lost answer stays unknown until
reconciled and is charged once (S19, S20), the 0341 card goes through dunning to
cancellation, the mails go through the outbox, and the `renew` command prints its summary."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from billing.online_billing.v1 import online_billing_pb2 as pb
from billing.online_billing.v1 import online_billing_pb2_grpc
from billing_common.clock import FakeClock
from billing_common.grpc_client import make_channel
from billing_common.invoicing.profile import BillingProfile
from billing_common.payments.gateway import CardDetails
from billing_common.payments.settings import GatewaySettings, build_tokenizer
from services.online_billing import bootstrap
from services.online_billing.adapters import orm
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.domain.model import SubscriptionStatus
from services.online_billing.entrypoints.billing_run import BillingRunScheduler, run_once
from services.online_billing.entrypoints.grpc_server import build
from services.online_billing.service_layer import accounts, subscriptions
from services.online_billing.service_layer.dependencies import Dependencies
from tests import callers
from tests.unit.online_billing.factories import subscription

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock((START + 10 * DAY).timestamp())


@pytest.fixture
def deps(settings: OnlineBillingSettings, gateway_settings: GatewaySettings, engine: Engine,
         clock: FakeClock) -> Iterator[Dependencies]:
    d = bootstrap.build_dependencies(settings, engine=engine, gateway_settings=gateway_settings, clock=clock)
    yield d
    d.close()


def _subscribe(deps: Dependencies, gateway_settings: GatewaySettings, account_id: str,
               number: str = "4242424242424242") -> str:
    s = subscription(account_id, start=START)
    with deps.uow() as uow:
        uow.subscriptions.add(s)
        uow.billing_profiles.put(account_id, BillingProfile(
            company_name="Acme", address_line1="1 Main St", city="Springfield", country="US",
            invoice_emails=(f"ap@{account_id}.example.com",)), START)
        uow.commit()
    token = build_tokenizer(gateway_settings).tokenize(CardDetails(number, 12, 2030, "123", "Olivia")).token
    accounts.add_payment_method(deps, account_id, token)
    return s.id


def _status(deps: Dependencies, account_id: str, subscription_id: str):  # type: ignore[no-untyped-def]
    with deps.uow() as uow:
        return uow.subscriptions.get(account_id, subscription_id)


def _rows(engine: Engine, table) -> list:  # type: ignore[no-untyped-def,type-arg]
    with engine.connect() as conn:
        return list(conn.execute(select(table)))


def test_two_workers_in_parallel_renew_each_subscription_once_with_gapless_numbers(
        deps: Dependencies, settings: OnlineBillingSettings, gateway_settings: GatewaySettings,
        engine: Engine) -> None:
    ids = [_subscribe(deps, gateway_settings, f"acct-{n}") for n in range(24)]
    settings = settings.model_copy(update={"renewal_batch_size": 5, "renewal_charge_concurrency": 4})
    # Two processes' worth: each its own engine and dependencies, both at once.
    other = bootstrap.build_dependencies(settings, gateway_settings=gateway_settings, clock=deps.clock)
    summaries = []
    try:
        threads = [threading.Thread(target=lambda d=d: summaries.append(run_once(d, settings, END, 2)))
                   for d in (deps, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        other.close()
    assert sum(s.renewed for s in summaries) == 24 and sum(s.failed + s.unknown for s in summaries) == 0
    invoices = _rows(engine, orm.invoices)
    assert sorted(i.subscription_id for i in invoices) == sorted(ids)
    assert sorted(int(i.number.rsplit("-", 1)[1]) for i in invoices) == list(range(1, 25))
    assert {i.status for i in invoices} == {"paid"}
    assert len(_rows(engine, orm.payments)) == 24
    for n, subscription_id in enumerate(ids):
        assert _status(deps, f"acct-{n}", subscription_id).current_period_start == END


def test_running_the_same_date_twice_changes_nothing(deps: Dependencies, settings: OnlineBillingSettings,
                                                    gateway_settings: GatewaySettings, engine: Engine) -> None:
    _subscribe(deps, gateway_settings, "acct-a")
    _subscribe(deps, gateway_settings, "acct-b", "4000000000000341")
    first = run_once(deps, settings, END, 1)
    assert (first.renewed, first.failed) == (1, 1)
    tables = (orm.subscriptions, orm.invoices, orm.invoice_lines, orm.payments, orm.outbox)
    before = [sorted(map(tuple, _rows(engine, t))) for t in tables]  # type: ignore[arg-type]
    again = run_once(deps, settings, END, 2)
    assert again.processed == 0
    assert [sorted(map(tuple, _rows(engine, t))) for t in tables] == before  # type: ignore[arg-type]


def test_a_lost_answer_stays_unknown_until_reconciled_and_is_charged_once(
        deps: Dependencies, settings: OnlineBillingSettings, gateway_settings: GatewaySettings,
        engine: Engine) -> None:
    sub_id = _subscribe(deps, gateway_settings, "acct-lost", "4000000000000408")
    assert run_once(deps, settings, END, 1).unknown == 1
    (payment,) = _rows(engine, orm.payments)
    assert payment.status == "unknown"
    assert _status(deps, "acct-lost", sub_id).current_period_end == END
    assert run_once(deps, settings, END, 1).reconciled == 1  # the next run settles it first
    assert _status(deps, "acct-lost", sub_id).current_period_start == END
    (payment,) = _rows(engine, orm.payments)
    (invoice,) = _rows(engine, orm.invoices)
    assert (payment.status, invoice.status) == ("succeeded", "paid")
    assert subscriptions.reconcile(deps).settled == 0
    record = deps.payments.retrieve(payment.gateway_key)
    assert record is not None and record.succeeded and record.charge_id == payment.charge_id


def test_a_card_declined_after_it_was_added_goes_through_dunning_to_cancellation(
        deps: Dependencies, settings: OnlineBillingSettings, gateway_settings: GatewaySettings,
        engine: Engine) -> None:
    sub_id = _subscribe(deps, gateway_settings, "acct-0341", "4000000000000341")
    run_once(deps, settings, END, 1)
    s = _status(deps, "acct-0341", sub_id)
    assert s.status is SubscriptionStatus.PAST_DUE and s.dunning.next_retry_at == END + DAY
    for day in (1, 3, 5):
        assert run_once(deps, settings, END + day * DAY, 1).retried == 1
    assert _status(deps, "acct-0341", sub_id).status is SubscriptionStatus.CANCELED
    (invoice,) = _rows(engine, orm.invoices)
    assert invoice.status == "void"
    assert [p.status for p in _rows(engine, orm.payments)] == ["declined"] * 4
    mails = _rows(engine, orm.outbox)
    assert [m.to_addrs for m in mails] == ["ap@acct-0341.example.com"] * 4
    assert mails[-1].subject == "Your subscription was canceled"


def test_a_new_card_while_past_due_is_charged_at_once(deps: Dependencies, settings: OnlineBillingSettings,
                                                       gateway_settings: GatewaySettings, engine: Engine) -> None:
    sub_id = _subscribe(deps, gateway_settings, "acct-new-card", "4000000000000341")
    run_once(deps, settings, END, 1)
    token = build_tokenizer(gateway_settings).tokenize(
        CardDetails("5555555555554444", 12, 2030, "123", "Olivia")).token
    accounts.add_payment_method(deps, "acct-new-card", token, make_default=True)
    s = _status(deps, "acct-new-card", sub_id)
    assert (s.status, s.current_period_start) == (SubscriptionStatus.ACTIVE, END)
    (invoice,) = _rows(engine, orm.invoices)
    assert invoice.status == "paid"


def test_the_renew_command_prints_the_summary(settings: OnlineBillingSettings, gateway_settings: GatewaySettings,
                                              deps: Dependencies, tmp_path: Path) -> None:
    _subscribe(deps, gateway_settings, "acct-cli")
    env = {**os.environ, "BILLING_ENV": "test", "ONLINE_BILLING_DATABASE_URL": settings.database_url,
           "SANDBOX_GATEWAY_DATABASE_URL": gateway_settings.sandbox_gateway_database_url,
           "MAILDIR": str(tmp_path / "mail")}
    env["SANDBOX_GATEWAY_SECRET"] = gateway_settings.sandbox_gateway_secret or ""
    done = subprocess.run([sys.executable, "-m", "services.online_billing", "renew", "--date", "2026-12-01",
                           "--workers", "2"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "renewed 1, failed 0, retried 0, skipped 0, unknown 0" in done.stdout
    assert "\r" not in done.stderr  # not a terminal: no progress bar
    refused = subprocess.run([sys.executable, "-m", "services.online_billing", "renew", "--date", "1-2-3"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--date" in refused.stderr


def test_the_count_of_due_subscriptions_matches_what_a_run_renews(deps: Dependencies,
                                                                  settings: OnlineBillingSettings,
                                                                  gateway_settings: GatewaySettings) -> None:
    for n in range(3):
        _subscribe(deps, gateway_settings, f"acct-count-{n}")
    with deps.uow() as uow:
        assert uow.subscriptions.count_due(END) == 3
        assert uow.subscriptions.count_due(END - DAY) == 0
    assert run_once(deps, settings, END, 1).renewed == 3


def test_the_server_runs_the_billing_run_by_itself_on_its_interval(
        settings: OnlineBillingSettings, gateway_settings: GatewaySettings, deps: Dependencies) -> None:
    sub_id = _subscribe(deps, gateway_settings, "acct-scheduled")
    deps.clock.t = (END + DAY).timestamp()  # type: ignore[attr-defined]
    server = build(settings.model_copy(update={"renewal_interval": 0.2}), gateway_settings=gateway_settings,
                   clock=deps.clock).start()
    try:
        deadline = time.monotonic() + 30
        while _status(deps, "acct-scheduled", sub_id).current_period_start != END and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        server.stop()
    assert _status(deps, "acct-scheduled", sub_id).current_period_start == END



def test_with_no_interval_the_server_starts_no_billing_run_thread(settings: OnlineBillingSettings,
                                                                  deps: Dependencies) -> None:
    scheduler = BillingRunScheduler(deps, settings.model_copy(update={"renewal_interval": 0})).start()
    assert not any(t.name == "billing-run" for t in threading.enumerate())
    scheduler.stop()


def test_a_past_due_subscription_shows_its_retry_date_and_decline_over_grpc(
        settings: OnlineBillingSettings, gateway_settings: GatewaySettings, deps: Dependencies) -> None:
    _subscribe(deps, gateway_settings, "acct-grpc-past-due", "4000000000000341")
    run_once(deps, settings, END, 1)
    server = build(settings, gateway_settings=gateway_settings, clock=deps.clock).start()
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.BILLING_CENTER, default_timeout=30.0)
    try:
        stub = online_billing_pb2_grpc.OnlineBillingServiceStub(channel)
        s = stub.GetSubscription(pb.GetSubscriptionRequest(account_id="acct-grpc-past-due")).subscription
    finally:
        channel.close()
        server.stop()
    assert s.status == pb.SUBSCRIPTION_STATUS_PAST_DUE
    assert s.payment_retry_at.ToDatetime(tzinfo=dt.UTC) == END + DAY
    assert s.payment_decline_code == "card_declined"
