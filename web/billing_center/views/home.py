"""The landing page: a billing contact's subscription, or a member's "contact your billing
administrator" page (members of either kind of account belong to the Billing Center)."""
from __future__ import annotations

from flask import Blueprint, g, render_template
from flask.typing import ResponseReturnValue

from billing.identity.v1 import identity_pb2
from web.billing_center.backend import online_billing
from web.billing_center.views import member
from web.common.errors import answers_failed_calls, forbidden
from web.common.security import signed_in

bp = Blueprint("home", __name__)


@bp.route("/")
@answers_failed_calls
@signed_in
def landing() -> ResponseReturnValue:
    principal = g.principal
    if principal.role == identity_pb2.ROLE_MEMBER:
        return member.contact_page()
    if principal.role != identity_pb2.ROLE_BILLING_CONTACT:
        # Reps belong to the Enterprise portal: identity never gives them a session here.
        return forbidden()
    subscription = online_billing().subscription_summary(principal.account.account_id)
    return render_template("landing_billing_center.html", subscription=subscription)
