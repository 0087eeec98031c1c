"""The change rules: what a change of plan, seats or interval does, and when (plain Python).

- A change is compared by its amount per period (per-seat price x seats):
  - same interval, a higher amount (an upgrade, more seats, or a mix that costs more): at once,
    prorated to the second: a credit for the unused rest of the period of what the
    subscription has (a negative line) and a charge for the same rest of what it changes to;
    the period stays as it is;
  - same interval, the same or a lower amount (a downgrade, fewer seats, a mix that costs the
    same or less): scheduled for the end of the period, nothing charged now;
  - monthly -> annual: at once, a credit for the unused rest of the month and a whole annual
    period of the new selection starting now;
  - annual -> monthly: scheduled for the end of the annual period.
- A change that would be immediate but charges nothing, or credits more than it charges (the
  last seconds of a period, a monthly -> annual move to a much smaller selection), is
  scheduled instead: an immediate change never leaves the account a credit to carry.
- Rounding (billing_common.money, S21): the rest of a period of N seconds from second u is
  `amount.prorate_between(u, N, N)`, rounded cumulatively, half to even; so the used part and
  the credited rest of any period add up to its price exactly, and so do the lines of a change
  and the invoice made from them.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

from billing_common.errors import FailedPrecondition
from billing_common.money import Money
from services.online_billing.domain.billing import ChargeLine, ChargePurpose, LineKind, Preview, Timing
from services.online_billing.domain.catalogue import Catalogue
from services.online_billing.domain.model import (
    BillingInterval,
    Selection,
    Subscription,
    SubscriptionStatus,
    add_months,
)


def to_second(moment: dt.datetime) -> dt.datetime:
    """Prorations count whole seconds: a preview and the change applied in the same second agree."""
    return moment.replace(microsecond=0)


def _seconds(start: dt.datetime, end: dt.datetime) -> int:
    return int((end - start).total_seconds())


def _line(kind: LineKind, catalogue: Catalogue, selection: Selection, currency: str, start: dt.datetime,
          end: dt.datetime, amount: Money) -> ChargeLine:
    plan = catalogue.plan(selection.plan_code)
    return ChargeLine(kind=kind, plan_code=plan.code, plan_name=plan.name, seats=selection.seats,
                      interval=selection.interval, period_start=start, period_end=end,
                      unit_price=catalogue.unit_price(plan.code, currency, selection.interval), amount=amount)


def require_changeable(subscription: Subscription, now: dt.datetime) -> None:
    """Changes are for a live subscription in its period; raises FailedPrecondition saying why not."""
    if subscription.has_lapsed(now):
        raise FailedPrecondition("This subscription has ended; reactivate it first.")
    if subscription.status is SubscriptionStatus.PAST_DUE:
        raise FailedPrecondition("This subscription is past due; update the card so the renewal can be paid first.")
    if subscription.cancel_at_period_end:
        raise FailedPrecondition("This subscription is set to cancel; undo the cancellation first.")
    if not subscription.current_period_start <= now < subscription.current_period_end:
        raise FailedPrecondition("This subscription is due for renewal; try again once it has renewed.")


def preview_change(subscription: Subscription, target: Selection, catalogue: Catalogue, now: dt.datetime) -> Preview:
    """What changing `subscription` to `target` at `now` does (the rules above).

    Raises InvalidArgument naming the field for a selection the catalogue does not sell, and
    FailedPrecondition when the subscription cannot change now or `target` is what it has."""
    now = to_second(now)
    require_changeable(subscription, now)
    currency = subscription.currency
    catalogue.check(target, currency)
    current = subscription.selection
    if target == current:
        raise FailedPrecondition("The subscription already has this plan, number of seats and billing frequency.")
    start, end = subscription.current_period_start, subscription.current_period_end
    period, used = _seconds(start, end), _seconds(start, now)
    old_amount = catalogue.amount(current, currency)
    new_amount = catalogue.amount(target, currency)
    credit = _line(LineKind.CREDIT, catalogue, current, currency, now, end,
                   -old_amount.prorate_between(used, period, period))

    lines: tuple[ChargeLine, ...] = ()
    new_start, new_end = start, end
    if current.interval is BillingInterval.MONTHLY and target.interval is BillingInterval.ANNUAL:
        new_start, new_end = now, add_months(now, 12)
        lines = (credit, _line(LineKind.PERIOD, catalogue, target, currency, new_start, new_end, new_amount))
    elif current.interval is target.interval and new_amount.amount_minor > old_amount.amount_minor:
        lines = (credit, _line(LineKind.PRORATED_CHARGE, catalogue, target, currency, now, end,
                               new_amount.prorate_between(used, period, period)))
    if lines and sum(line.amount.amount_minor for line in lines) > 0:
        return Preview(purpose=ChargePurpose.CHANGE, subscription_id=subscription.id, currency=currency,
                       current=current, target=target, timing=Timing.IMMEDIATE, at=now, effective_at=now,
                       lines=lines, new_recurring_amount=new_amount, next_renewal_at=new_end,
                       period_start=new_start, period_end=new_end)
    return Preview(purpose=ChargePurpose.CHANGE, subscription_id=subscription.id, currency=currency,
                   current=current, target=target, timing=Timing.SCHEDULED, at=now, effective_at=end, lines=(),
                   new_recurring_amount=new_amount, next_renewal_at=end, period_start=start, period_end=end)


def preview_reactivation(lapsed: Subscription, target: Selection | None, catalogue: Catalogue,
                         now: dt.datetime) -> Preview:
    """A lapsed subscription started again: a new subscription from `now`, its first whole
    period charged at once (by default on what it had when it ended)."""
    now = to_second(now)
    if not lapsed.has_lapsed(now):
        raise FailedPrecondition("This subscription has not ended; undo the cancellation instead.")
    currency = lapsed.currency
    target = target or lapsed.selection
    catalogue.check(target, currency)
    end = add_months(now, target.interval.months)
    amount = catalogue.amount(target, currency)
    return Preview(purpose=ChargePurpose.REACTIVATION, subscription_id=lapsed.id, currency=currency,
                   current=lapsed.selection, target=target, timing=Timing.IMMEDIATE, at=now, effective_at=now,
                   lines=(_line(LineKind.PERIOD, catalogue, target, currency, now, end, amount),),
                   new_recurring_amount=amount, next_renewal_at=end, period_start=now, period_end=end)


def changed(subscription: Subscription, preview: Preview, catalogue: Catalogue) -> Subscription:
    """The subscription once `preview` is applied: the new selection (immediate) or the
    scheduled change recorded (scheduled). A new choice replaces any scheduled one."""
    if preview.timing is Timing.SCHEDULED:
        return replace(subscription, scheduled_change=preview.target)
    target = preview.target
    return replace(
        subscription, plan=catalogue.plan(target.plan_code), seats=target.seats, interval=target.interval,
        unit_price=catalogue.unit_price(target.plan_code, preview.currency, target.interval),
        current_period_start=preview.period_start, current_period_end=preview.period_end, scheduled_change=None)


def reactivated(lapsed: Subscription, preview: Preview, catalogue: Catalogue) -> Subscription:
    """The new subscription a paid reactivation starts."""
    target = preview.target
    return Subscription(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"reactivation:{lapsed.id}:{preview.at.isoformat()}")),
        account_id=lapsed.account_id, plan=catalogue.plan(target.plan_code), seats=target.seats,
        interval=target.interval, status=SubscriptionStatus.ACTIVE,
        unit_price=catalogue.unit_price(target.plan_code, preview.currency, target.interval),
        current_period_start=preview.period_start, current_period_end=preview.period_end, created_at=preview.at)
