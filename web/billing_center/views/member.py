"""A member (not a billing contact) is told who the billing contacts are and can email them
through the product (a fixed template, never a free-form relay)."""
from __future__ import annotations

import grpc
from flask import Blueprint, abort, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from billing.identity.v1 import identity_pb2
from web.common import forms
from web.common.errors import FormPage, answers_failed_calls
from web.common.runtime import LANDING, identity
from web.common.security import signed_in

bp = Blueprint("member", __name__)


def _page(form: forms.ContactAdministratorForm) -> FormPage:
    account_id = g.principal.account.account_id
    # The account's billing contacts cost a call: made only when the page is rendered (a sent
    # message just redirects).
    return FormPage("landing_member.html", form,
                    load_context=lambda: {"account": identity().get_account(account_id)})


def contact_page() -> ResponseReturnValue:
    """The member's landing page."""
    return _page(forms.ContactAdministratorForm()).render()


@bp.route("/contact-billing-admin", methods=["POST"])
@answers_failed_calls
@signed_in
def contact_billing_admin() -> ResponseReturnValue:
    if g.principal.role != identity_pb2.ROLE_MEMBER:
        abort(403)
    form = forms.ContactAdministratorForm()
    page = _page(form)
    if not form.validate():
        return page.render(400)
    try:
        identity().contact_billing_administrator(g.session_token, form.note.data or "")
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("Your message was sent to your billing administrator."), "info")
    return redirect(url_for(LANDING))
