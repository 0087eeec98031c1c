"""Messages online_billing puts in the refusals the Billing Center shows (FAILED_PRECONDITION),
listed here so the catalogue translates them (like web.common.remote_messages for identity).
A message missing here is shown in English. Card declines are the payment package's own."""
from flask_babel import lazy_gettext as _l

ONLINE_BILLING_MESSAGES = (
    _l("This is the only card of an active subscription: add another card before removing it, "
       "or cancel the subscription."),
    _l("A payment for this subscription is still being confirmed; try again shortly."),
    _l("Add a card before making a change that is charged now."),
    _l("This subscription has already ended."),
    _l("This subscription is past due; it is canceled by itself if the renewal cannot be paid."),
    _l("This subscription has ended; reactivate it instead."),
    _l("This subscription is active."),
    _l("This account already has an active subscription."),
    _l("This subscription has ended; reactivate it first."),
    _l("This subscription is past due; update the card so the renewal can be paid first."),
    _l("This subscription is set to cancel; undo the cancellation first."),
    _l("This subscription is due for renewal; try again once it has renewed."),
    _l("The subscription already has this plan, number of seats and billing frequency."),
    _l("This subscription has not ended; undo the cancellation instead."),
    # Members' change requests (services/online_billing/domain/requests.py, service_layer/change_requests.py).
    _l("This request was already approved."),
    _l("This request was already declined."),
    _l("This request was withdrawn."),
    _l("This request is being approved: its payment is being confirmed."),
    _l("You already have a pending request. Withdraw it to ask for another change."),
)
