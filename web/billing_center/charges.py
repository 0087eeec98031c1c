"""What the Billing Center says about a change charged to the card (a contact's own plan change,
or a member's request the contact approves): refused, or paid but still being confirmed."""
from __future__ import annotations

import grpc
import structlog
from flask import flash
from flask_babel import gettext as _

from billing_common.grpc_client import error_reason
from billing_common.payments import messages as card_messages

log = structlog.get_logger()


def change_refusal(error: grpc.RpcError, event: str) -> tuple[str, int]:
    """The message (in the page's language) and HTTP status for a FAILED_PRECONDITION of a
    change: a card decline (402) is the payment package's message of its code; anything else (a
    rule the preview could not foresee, 409) is the service's message. Nothing changed either
    way; `event` names the refusal in the log."""
    reason = error_reason(error)
    log.info(event, reason=reason or "failed_precondition")
    if reason in card_messages.MESSAGES:
        return _(card_messages.message(reason)), 402
    return _(error.details() or "") or _("The change could not be made."), 409  # type: ignore[attr-defined]


def flash_change_pending() -> None:
    """The change was charged but the bank's answer is not in yet (S20): it takes effect once
    the payment is confirmed, and a retry charges nothing more (S19)."""
    flash(_("We're confirming your payment with your bank. The change takes effect as soon as it is "
            "confirmed; you will not be charged twice."), "info")
