"""Confirm your password (S17) before changing billing contacts or deciding a handover
(web.common.reauth): billing contacts and reps, the people signed in at this door."""
from __future__ import annotations

from flask import Blueprint, url_for
from flask.typing import ResponseReturnValue

from web.common.errors import answers_failed_calls
from web.common.reauth import confirm_password
from web.common.security import signed_in

bp = Blueprint("reauth", __name__)


@bp.route("/confirm-password", methods=["GET", "POST"])
@answers_failed_calls
@signed_in
def reauth_page() -> ResponseReturnValue:
    return confirm_password("reauth.html", url_for("billing_contacts.contacts_page"))
