"""The landing page: a billing contact's open invoices, or a rep's accounts (the rep console's
first page). Members are refused at this door by identity, as the seed says."""
from __future__ import annotations

from flask import Blueprint, g, render_template
from flask.typing import ResponseReturnValue

from billing.identity.v1 import identity_pb2
from web.common.errors import answers_failed_calls, forbidden
from web.common.runtime import identity
from web.common.security import signed_in
from web.enterprise_portal.backend import enterprise_portal

bp = Blueprint("home", __name__)


@bp.route("/")
@answers_failed_calls
@signed_in
def landing() -> ResponseReturnValue:
    principal = g.principal
    if principal.role == identity_pb2.ROLE_REP:
        accounts = identity().list_rep_accounts(g.session_token)
        # The rep console's handover approvals waiting for the rep (of every account they serve).
        handovers = identity().list_handovers(g.session_token)
        return render_template("landing_rep.html", accounts=accounts, handovers=handovers,
                               enterprise_kind=identity_pb2.ACCOUNT_KIND_ENTERPRISE)
    if principal.role != identity_pb2.ROLE_BILLING_CONTACT:
        return forbidden()
    invoices = enterprise_portal().open_invoice_summary(principal.account.account_id)
    return render_template("landing_enterprise.html", invoices=invoices)
