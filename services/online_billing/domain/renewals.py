"""The renewal and dunning rules of the billing run (plain Python; no I/O).

- A subscription renews when its period has ended: one invoice for the next whole period,
  starting where the last one ended (the renewal date stays anchored), of what the
  subscription will be on then: a scheduled change (a downgrade, fewer seats, annual ->
  monthly) takes effect here, at the price the catalogue says today.
- A subscription set to cancel at the period's end is canceled instead: nothing is invoiced.
- A paid renewal starts the next period. A declined one makes the subscription past due: the
  same invoice is retried `retry_days` after the first failure (days 1, 3 and 5 by default);
  a retry that pays starts the next period from the old anchor; after the last retry fails,
  the subscription is canceled (and its invoice voided).
- A retry triggered by a new default card while past due is an extra attempt: it does not use
  up the schedule, and when it fails the next scheduled retry stays where it was.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from services.online_billing.domain.billing import ChargeLine, ChargePurpose, LineKind, Preview, Timing
from services.online_billing.domain.catalogue import Catalogue
from services.online_billing.domain.model import Dunning, Subscription, SubscriptionStatus

# Dunning's decline code when the account has no card at all to charge.
NO_PAYMENT_METHOD = "no_payment_method"


@dataclass(frozen=True, slots=True)
class DunningSchedule:
    """Days after the first failed renewal charge on which it is retried."""

    retry_days: tuple[int, ...] = (1, 3, 5)

    def __post_init__(self) -> None:
        if not self.retry_days or any(b <= a for a, b in zip(self.retry_days, self.retry_days[1:], strict=False)) \
                or self.retry_days[0] < 0:
            raise ValueError("retry days must be increasing whole days, at least one")

    def retry_at(self, failed_at: dt.datetime, retries_done: int) -> dt.datetime | None:
        """When the next scheduled retry is due, or None once every retry was made."""
        if retries_done >= len(self.retry_days):
            return None
        return failed_at + dt.timedelta(days=self.retry_days[retries_done])


def is_due(subscription: Subscription, as_of: dt.datetime) -> bool:
    """Whether the billing run has something to do with it as of that instant."""
    if subscription.renewal_payment_id is not None:
        return False
    if subscription.status is SubscriptionStatus.ACTIVE:
        return subscription.current_period_end <= as_of
    if subscription.status is SubscriptionStatus.PAST_DUE:
        return (subscription.dunning is not None and subscription.dunning.next_retry_at is not None
                and subscription.dunning.next_retry_at <= as_of)
    return False


def renewal_preview(subscription: Subscription, catalogue: Catalogue, at: dt.datetime) -> Preview:
    """The renewal of `subscription`'s next period, charged at `at`: one line for the whole
    period of what it will be on (its scheduled change, if any). Raises InvalidArgument when the
    catalogue no longer sells that selection in the subscription's currency."""
    target = subscription.scheduled_change or subscription.selection
    currency = subscription.currency
    catalogue.check(target, currency)
    start = subscription.current_period_end
    end = target.interval.period_end(start)
    plan = catalogue.plan(target.plan_code)
    amount = catalogue.amount(target, currency)
    line = ChargeLine(kind=LineKind.PERIOD, plan_code=plan.code, plan_name=plan.name, seats=target.seats,
                      interval=target.interval, period_start=start, period_end=end,
                      unit_price=catalogue.unit_price(plan.code, currency, target.interval), amount=amount)
    return Preview(purpose=ChargePurpose.RENEWAL, subscription_id=subscription.id, currency=currency,
                   current=subscription.selection, target=target, timing=Timing.IMMEDIATE, at=at, effective_at=start,
                   lines=(line,), new_recurring_amount=amount, next_renewal_at=end, period_start=start,
                   period_end=end)


def renewal_key(subscription_id: str, period_end: dt.datetime) -> str:
    """The idempotency key of a renewal: one per (subscription, period), so a second run of the
    same date finds the renewal it made and charges nothing again (S19)."""
    return f"renewal:{subscription_id}:{period_end.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def renewed(subscription: Subscription, preview: Preview, catalogue: Catalogue) -> Subscription:
    """The subscription once its renewal is paid: the next period, on its scheduled selection."""
    target = preview.target
    return replace(subscription, plan=catalogue.plan(target.plan_code), seats=target.seats,
                   interval=target.interval,
                   unit_price=catalogue.unit_price(target.plan_code, preview.currency, target.interval),
                   status=SubscriptionStatus.ACTIVE, current_period_start=preview.period_start,
                   current_period_end=preview.period_end, scheduled_change=None, dunning=None,
                   renewal_payment_id=None)


def canceled_at_period_end(subscription: Subscription) -> Subscription:
    """A subscription set to cancel, once its period has ended."""
    return replace(subscription, status=SubscriptionStatus.CANCELED, scheduled_change=None,
                   canceled_at=subscription.current_period_end, dunning=None, renewal_payment_id=None)


def declined(subscription: Subscription, schedule: DunningSchedule, invoice_id: str, at: dt.datetime,
             decline_code: str, *, extra_attempt: bool = False) -> Subscription:
    """The subscription after a failed renewal charge at `at`: past due with its next retry,
    or canceled when that was the last scheduled retry. `extra_attempt` (a new card's retry)
    leaves the schedule as it was."""
    d = subscription.dunning
    if d is None:
        dunning = Dunning(invoice_id=invoice_id, failed_at=at, retries=0,
                          next_retry_at=schedule.retry_at(at, 0), decline_code=decline_code)
    elif extra_attempt:
        dunning = replace(d, decline_code=decline_code)
    else:
        retries = d.retries + 1
        dunning = replace(d, retries=retries, next_retry_at=schedule.retry_at(d.failed_at, retries),
                          decline_code=decline_code)
    if dunning.next_retry_at is None:
        return replace(subscription, status=SubscriptionStatus.CANCELED, canceled_at=at, scheduled_change=None,
                       dunning=None, renewal_payment_id=None)
    return replace(subscription, status=SubscriptionStatus.PAST_DUE, dunning=dunning, renewal_payment_id=None)
