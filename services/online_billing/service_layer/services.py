"""online_billing's use cases, one function each."""
from __future__ import annotations

from billing_common.errors import NotFound
from billing_common.validation import require_id
from services.online_billing.domain.model import Subscription, current_subscription
from services.online_billing.service_layer.dependencies import Dependencies


def get_subscription_summary(deps: Dependencies, account_id: str) -> Subscription:
    """The account's current subscription (see domain.current_subscription).

    Raises InvalidArgument(field="account_id") for a malformed id and NotFound when the
    account has no subscription.
    """
    require_id(account_id, "account_id")
    with deps.uow() as uow:
        subscription = current_subscription(uow.subscriptions.for_account(account_id))
    if subscription is None:
        raise NotFound("this account has no subscription")
    return subscription
