"""`python -m services.online_billing renew --date ... --workers N` as a newcomer runs it, in a
subprocess on a real database: in dev a future date is a test clock (nothing is due today; the
renewal happens on the day after the period ends; a card declined on renewal is retried on the
schedule's first day), the summary printed on stdout; in prod the same future date is refused
naming --date and changes nothing."""
from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from billing_common.clock import FakeClock
from billing_common.payments.settings import GatewaySettings
from services.online_billing import bootstrap
from services.online_billing.adapters import orm
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.service_layer.dependencies import Dependencies
from tests.integration.online_billing.test_billing_run import _subscribe

TODAY = dt.datetime.now(dt.UTC).date()
SUMMARY = re.compile(r"renewed (\d+), failed (\d+), retried (\d+), skipped (\d+), unknown (\d+)")


@pytest.fixture
def deps(settings: OnlineBillingSettings, gateway_settings: GatewaySettings, engine: Engine
         ) -> Iterator[Dependencies]:
    # The subscriptions start today (factories.subscription: a monthly period from `start`).
    d = bootstrap.build_dependencies(settings, engine=engine, gateway_settings=gateway_settings,
                                     clock=FakeClock(dt.datetime.now(dt.UTC).timestamp()))
    yield d
    d.close()


def _renew(settings: OnlineBillingSettings, gateway_settings: GatewaySettings, tmp_path: Path, date: dt.date,
           env: str = "dev", workers: int = 2) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BILLING_ENV": env, "ONLINE_BILLING_DATABASE_URL": settings.database_url,
                   "SANDBOX_GATEWAY_DATABASE_URL": gateway_settings.sandbox_gateway_database_url,
                   "SANDBOX_GATEWAY_SECRET": gateway_settings.sandbox_gateway_secret or "",
                   "MAILDIR": str(tmp_path / "mail")}
    return subprocess.run([sys.executable, "-m", "services.online_billing", "renew", "--date", date.isoformat(),
                           "--workers", str(workers)], env=environment, capture_output=True, text=True, timeout=120)


def _summary(done: subprocess.CompletedProcess[str]) -> tuple[int, ...]:
    assert done.returncode == 0, done.stderr
    found = SUMMARY.search(done.stdout)
    assert found, done.stdout
    return tuple(int(n) for n in found.groups())


def test_a_future_date_in_dev_is_a_test_clock_for_renewals_and_dunning(
        settings: OnlineBillingSettings, gateway_settings: GatewaySettings, deps: Dependencies, engine: Engine,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.integration.online_billing.test_billing_run.START",
                        dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.UTC))
    _subscribe(deps, gateway_settings, "acct-good")
    _subscribe(deps, gateway_settings, "acct-0341", "4000000000000341")
    # (renewed, failed, retried, skipped, unknown)
    assert _summary(_renew(settings, gateway_settings, tmp_path, TODAY + dt.timedelta(days=1))) == (0, 0, 0, 0, 0)
    renewal_day = TODAY + dt.timedelta(days=40)  # past the end of the first monthly period
    assert _summary(_renew(settings, gateway_settings, tmp_path, renewal_day)) == (1, 1, 0, 0, 0)
    assert _summary(_renew(settings, gateway_settings, tmp_path, renewal_day)) == (0, 0, 0, 0, 0)  # again: nothing
    retry = _renew(settings, gateway_settings, tmp_path, renewal_day + dt.timedelta(days=1), workers=1)
    assert _summary(retry) == (0, 1, 1, 0, 0)  # retried, and declined again
    assert f"billing run as of {(renewal_day + dt.timedelta(days=1)).isoformat()}T23:59:59" in retry.stdout
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(orm.subscriptions.c.account_id, orm.subscriptions.c.status)).all())
    assert statuses == {"acct-good": "active", "acct-0341": "past_due"}


def test_a_future_date_in_prod_is_refused_naming_the_flag_and_changes_nothing(
        settings: OnlineBillingSettings, gateway_settings: GatewaySettings, deps: Dependencies, engine: Engine,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.integration.online_billing.test_billing_run.START",
                        dt.datetime.combine(TODAY - dt.timedelta(days=60), dt.time(), tzinfo=dt.UTC))
    _subscribe(deps, gateway_settings, "acct-due")  # due now: a run would renew it
    refused = _renew(settings, gateway_settings, tmp_path, TODAY + dt.timedelta(days=1), env="prod")
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    assert "--date cannot be in the future when BILLING_ENV=prod" in refused.stderr
    with engine.connect() as conn:
        assert conn.execute(select(orm.invoices.c.id)).all() == []
