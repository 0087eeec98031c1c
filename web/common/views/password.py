"""Reset/Create your password (S6-S8) and changing it while signed in (S5)."""
from __future__ import annotations

import grpc
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from billing_common.grpc_client import error_field
from web.common import forms
from web.common.errors import FormPage, answers_failed_calls
from web.common.runtime import LANDING, identity
from web.common.security import TOKEN_SHAPE, client_address, no_referrer, signed_in

bp = Blueprint("password", __name__)


@bp.route("/reset", methods=["GET", "POST"])
@answers_failed_calls
def reset_request() -> ResponseReturnValue:
    no_referrer()
    form = forms.ResetRequestForm()
    page = FormPage("reset_request.html", form)
    if request.method == "GET":
        return page.render()
    if not form.validate():
        return page.render(400)
    try:
        identity().request_password_reset(form.login.data, client_address())
    except grpc.RpcError as error:
        return page.failed(error)
    # The same answer whether or not the user ID exists (S7).
    return render_template("reset_sent.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
@answers_failed_calls
def reset_password(token: str) -> ResponseReturnValue:
    no_referrer()
    if not TOKEN_SHAPE.fullmatch(token):
        return _link_invalid()
    form = forms.ResetForm()
    page = FormPage("reset_form.html", form, {"token": token})
    if request.method == "GET":
        if not identity().reset_token_is_valid(token):
            return _link_invalid()
        return page.render()
    if not form.validate():
        return page.render(400)
    try:
        identity().complete_password_reset(token, form.new_password.data)
    except grpc.RpcError as error:
        if _link_refused(error):
            return _link_invalid()
        return page.failed(error)
    # Setting the password does not sign in (S8): the person signs in with it.
    return render_template("reset_done.html")


def _link_invalid() -> ResponseReturnValue:
    return render_template("reset_invalid.html"), 404


def _link_refused(error: grpc.RpcError) -> bool:
    """A link used, expired or replaced between opening the page and posting it: identity
    answers FAILED_PRECONDITION on the token (tests/contract)."""
    return (error.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
            and error_field(error) == "token")


@bp.route("/account/password", methods=["GET", "POST"])
@answers_failed_calls
@signed_in
def change_password() -> ResponseReturnValue:
    form = forms.ChangePasswordForm()
    # A wrong current password is INVALID_ARGUMENT on current_password, shown on that field;
    # UNAUTHENTICATED means the session ended, and the person signs in again.
    page = FormPage("change_password.html", form)
    if request.method == "GET":
        return page.render()
    if not form.validate():
        return page.render(400)
    try:
        identity().change_password(g.session_token, form.current_password.data, form.new_password.data)
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("Your password has been changed."), "info")
    return redirect(url_for(LANDING))
