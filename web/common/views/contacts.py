"""Who is my account's billing contact? (the seed's question, for any signed-in user)."""
from __future__ import annotations

from flask import Blueprint, g, render_template
from flask.typing import ResponseReturnValue

from web.common.errors import answers_failed_calls
from web.common.runtime import identity
from web.common.security import signed_in

bp = Blueprint("contacts", __name__)


@bp.route("/billing-contacts")
@answers_failed_calls
@signed_in
def billing_contacts() -> ResponseReturnValue:
    account = None
    if g.principal.account.account_id:  # reps belong to no account
        account = identity().get_account(g.principal.account.account_id)
    return render_template("billing_contacts.html", account=account)
