"""Confirm your password (S17) before adding or removing a card (web.common.reauth)."""
from __future__ import annotations

from flask import Blueprint, url_for
from flask.typing import ResponseReturnValue

from web.billing_center.access import billing_contact
from web.common.errors import answers_failed_calls
from web.common.reauth import confirm_password

bp = Blueprint("reauth", __name__)


@bp.route("/confirm-password", methods=["GET", "POST"])
@answers_failed_calls
@billing_contact
def reauth_page() -> ResponseReturnValue:
    return confirm_password("reauth.html", url_for("subscription.subscription_page"))
