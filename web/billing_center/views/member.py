"""A member (not a billing contact) is told who the billing contacts are and can email them
through the product (a fixed template, never a free-form relay). A member of an online account
can also ask for a change of plan, seats or frequency (views/requests.py), sees what their
subscription is now and their own requests, and can withdraw a pending one; a billing contact
decides (S14)."""
from __future__ import annotations

import grpc
from flask import Blueprint, abort, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from billing.identity.v1 import identity_pb2
from web.billing_center import forms as bc_forms
from web.billing_center.access import is_online_member
from web.billing_center.backend import online_billing
from web.common import forms
from web.common.errors import FormPage, answers_failed_calls
from web.common.runtime import LANDING, identity
from web.common.security import signed_in

bp = Blueprint("member", __name__)


def page(contact_form: forms.ContactAdministratorForm | None = None,
         request_form: bc_forms.RequestChangeForm | None = None) -> FormPage:
    """The member's landing page; the form being answered is `request_form` if given, else
    `contact_form` (each keeps its own errors; the other is shown fresh)."""
    account_id = g.principal.account.account_id
    online = is_online_member(g.principal)
    contact = contact_form or forms.ContactAdministratorForm(formdata=None)
    asking = request_form or bc_forms.RequestChangeForm(formdata=None)

    # The account's billing contacts (and, for an online member, the subscription, the plans and
    # their own requests) cost calls: made only when the page is rendered (a sent form redirects).
    def context() -> dict[str, object]:
        values: dict[str, object] = {"account": identity().get_account(account_id), "contact_form": contact,
                                     "request_form": None}
        if online:
            subscription = online_billing().subscription(account_id)
            if subscription is not None and request_form is None:
                asking.plan_code.data = subscription.current.plan_code
                asking.seats.data = str(subscription.current.seats)
                asking.interval.data = subscription.current.interval_name
            values.update(
                request_form=asking, subscription=subscription,
                plans=online_billing().plans(account_id) if subscription is not None else [],
                my_requests=online_billing().change_requests(account_id, requested_by=g.principal.user_id,
                                                             page_size=10),
                withdraw_form=bc_forms.ActionForm(formdata=None))
        return values

    return FormPage("landing_member.html", request_form or contact, load_context=context)


def contact_page() -> ResponseReturnValue:
    """The member's landing page."""
    return page(forms.ContactAdministratorForm()).render()


@bp.route("/contact-billing-admin", methods=["POST"])
@answers_failed_calls
@signed_in
def contact_billing_admin() -> ResponseReturnValue:
    if g.principal.role != identity_pb2.ROLE_MEMBER:
        abort(403)
    form = forms.ContactAdministratorForm()
    answer = page(form)
    if not form.validate():
        return answer.render(400)
    try:
        identity().contact_billing_administrator(g.session_token, form.note.data or "")
    except grpc.RpcError as error:
        return answer.failed(error)
    flash(_("Your message was sent to your billing administrator."), "info")
    return redirect(url_for(LANDING))
