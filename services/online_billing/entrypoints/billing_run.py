"""The billing run's entrypoints: `python -m services.online_billing renew [--date YYYY-MM-DD]
[--workers N]` (an operator, a Kubernetes CronJob, a newcomer's test clock), and the thread
that runs it on a schedule inside the server (several replicas may: claims skip locked rows).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

import structlog
from tqdm import tqdm

from billing_common.cli import Command
from billing_common.clock import Clock, SystemClock, utc
from billing_common.config import settings_or_exit
from billing_common.jobs import PeriodicJob
from billing_common.payments.settings import GatewaySettings
from services.online_billing import bootstrap
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.service_layer import renewals, subscriptions
from services.online_billing.service_layer.dependencies import Dependencies

log = structlog.get_logger()


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--date must be a date as YYYY-MM-DD, not {text!r}") from None


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"--workers must be a whole number from 1 to 64, not {text!r}")
    return int(text)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--date", type=_date, default=None,
                        help="renew what is due by the end of this UTC day (default: now); a future date is "
                             "a test clock, refused when BILLING_ENV=prod")
    parser.add_argument("--workers", type=_workers, default=None,
                        help="batches claimed in parallel (default: ONLINE_BILLING_RENEWAL_WORKERS)")


def as_of_for(date: dt.date | None, now: dt.datetime, env: str) -> dt.datetime:
    """The instant a run acts as of: now for today (or no date), the end of an earlier or later
    day otherwise. Raises ValueError naming --date for a future day in prod."""
    if date is None or date == now.date():
        return now
    if date > now.date() and env == "prod":
        raise ValueError("--date cannot be in the future when BILLING_ENV=prod (a test clock is for dev and test)")
    return dt.datetime.combine(date, dt.time(23, 59, 59), tzinfo=dt.UTC)


def run_once(deps: Dependencies, settings: OnlineBillingSettings, as_of: dt.datetime, workers: int,
             progress: Any = None) -> renewals.RunSummary:
    return renewals.billing_run(
        deps, as_of, batch_size=settings.renewal_batch_size, concurrency=settings.renewal_charge_concurrency,
        workers=workers, progress=progress, reconcile=lambda d: subscriptions.reconcile(d).settled)


def format_summary(summary: renewals.RunSummary) -> str:
    return (f"renewed {summary.renewed}, failed {summary.failed}, retried {summary.retried}, "
            f"skipped {summary.skipped}, unknown {summary.unknown}, canceled {summary.canceled}, "
            f"reconciled {summary.reconciled}, {summary.seconds:.2f} seconds")


def renew(settings: OnlineBillingSettings, args: argparse.Namespace, clock: Clock | None = None) -> int:
    clock = clock or SystemClock()
    try:
        as_of = as_of_for(args.date, utc(clock.now()).replace(microsecond=0), settings.env)
    except ValueError as error:
        print(f"online_billing renew: {error}", file=sys.stderr)
        return 2
    gateway_settings = settings_or_exit("online_billing", GatewaySettings)
    deps = bootstrap.build_dependencies(settings, gateway_settings=gateway_settings, clock=clock)
    try:
        with deps.uow() as uow:
            due = uow.subscriptions.count_due(as_of)
        # A bar for people at a terminal; logs and CronJobs get only the summary.
        with tqdm(total=due, unit="sub", desc="billing run", disable=not sys.stderr.isatty(),
                  file=sys.stderr) as bar:
            summary = run_once(deps, settings, as_of, args.workers or settings.renewal_workers,
                               progress=lambda batch: bar.update(batch.processed))
    finally:
        deps.close()
    print(f"billing run as of {as_of.isoformat()}: {format_summary(summary)}")
    return 0


RENEW = Command[OnlineBillingSettings](help="run the billing run (renewals, dunning retries, reconciliation)",
                                       add_arguments=_arguments, run=renew)


class BillingRunScheduler(PeriodicJob):
    """Runs the billing run every `renewal_interval` seconds, as of now. A failed run leaves
    nothing half-done (batches); other replicas may run at the same time."""

    def __init__(self, deps: Dependencies, settings: OnlineBillingSettings) -> None:
        super().__init__("billing run", settings.renewal_interval)
        self.deps, self.settings = deps, settings

    def run_once(self) -> renewals.RunSummary:
        now = utc(self.deps.clock.now()).replace(microsecond=0)
        return run_once(self.deps, self.settings, now, self.settings.renewal_workers)
