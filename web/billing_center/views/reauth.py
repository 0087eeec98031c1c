"""Confirm your password (S17): before adding or removing a card, a sign-in older than 15
minutes is renewed by signing in again with the password (identity.Authenticate). The new
session replaces the old one (signed out at identity), then the person continues where they
were going (a path of this site only)."""
from __future__ import annotations

import grpc
from flask import Blueprint, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.billing_center import forms
from web.billing_center.access import billing_contact
from web.common.errors import FormPage, answers_failed_calls
from web.common.runtime import identity
from web.common.security import (
    client_address,
    device_token,
    end_previous_session,
    set_device_cookie,
    set_session_cookie,
)

bp = Blueprint("reauth", __name__)


def _safe_next(value: str | None) -> str:
    """Only a path of this site ("/..." but not "//host" or "/\\host")."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")) and len(value) <= 2048:
        return value
    return url_for("subscription.subscription_page")


@bp.route("/confirm-password", methods=["GET", "POST"])
@answers_failed_calls
@billing_contact
def reauth_page() -> ResponseReturnValue:
    if request.method == "GET":
        form = forms.ReauthForm(formdata=None, next=_safe_next(request.args.get("next")))
    else:
        form = forms.ReauthForm()
    page = FormPage("reauth.html", form, unauthenticated=("password", _("The password is not correct.")))
    if request.method == "GET":
        return page.render()
    if not form.validate():
        return page.render(400)
    try:
        answer = identity().authenticate(g.principal.login, form.password.data, client_address(), device_token())
    except grpc.RpcError as error:
        return page.failed(error)
    if answer.WhichOneof("result") != "session" or answer.principal.user_id != g.principal.user_id:
        return page.fail("password", _("The password is not correct."), 200)
    end_previous_session()  # the old session is signed out at identity, not just forgotten
    response = redirect(_safe_next(form.next.data))
    set_session_cookie(response, answer.session.token)
    set_device_cookie(response, answer.device)
    return response
