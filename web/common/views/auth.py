"""Sign-in, the hand-off between the two doors, sign-out."""
from __future__ import annotations

import grpc
from flask import Blueprint, flash, g, make_response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from web.common import forms
from web.common.errors import FormPage, answers_failed_calls, error_page
from web.common.portals import PORTALS
from web.common.runtime import LANDING, identity, portal
from web.common.security import (
    TOKEN_SHAPE,
    came_from,
    client_address,
    device_token,
    drop_session_cookie,
    end_previous_session,
    load_principal,
    session_token,
    set_device_cookie,
    set_session_cookie,
)

bp = Blueprint("auth", __name__)


@bp.route("/sign-in", methods=["GET", "POST"])
@answers_failed_calls
def sign_in() -> ResponseReturnValue:
    if request.method == "GET" and load_principal() is not None:
        return redirect(url_for(LANDING))
    form = forms.SignInForm()
    # Every refusal by identity reads the same, whatever the cause (S3).
    page = FormPage("sign_in.html", form, unauthenticated=(None, _("Invalid user ID/password")))
    if request.method == "GET":
        return page.render()
    if not form.validate():
        return page.render(400)
    try:
        answer = identity().authenticate(form.login.data, form.password.data, client_address(), device_token())
    except grpc.RpcError as error:
        return page.failed(error)
    result = answer.WhichOneof("result")
    if result == "session":
        response = _signed_in(answer.session.token)
    elif result == "handoff_ticket" and answer.home_portal in PORTALS and answer.home_portal != portal().portal:
        target = PORTALS[answer.home_portal]
        # The other portal's /handoff checks where the post came from: this page must send its
        # origin (the default same-origin policy makes a browser send "Origin: null" there).
        g.referrer_policy = "strict-origin"
        response = make_response(render_template("handoff.html", target=target,
                                                 action=portal().url_of(target) + "/handoff",
                                                 ticket=answer.handoff_ticket))
    else:
        return page.fail(None, _("Invalid user ID/password"), 200)
    # This browser signed in as this user: its next sign-ins get a budget of their own (S4).
    set_device_cookie(response, answer.device)
    return response


@bp.route("/handoff", methods=["POST"])
@answers_failed_calls
def handoff() -> ResponseReturnValue:
    """Redeems the single-use ticket the other portal handed over; the ticket is the secret.

    The ticket alone is not enough: anyone can get a ticket for their own user ID and post it
    from their own site, signing a victim's browser in as themselves (login CSRF). So the post
    must come from a page of the other portal (its Origin, or Referer when there is none).
    """
    if not came_from(portal().url_of(portal().other)):
        return error_page(403, _("Not allowed"),
                          _("This sign-in did not come from the %(portal)s. Please sign in here.",
                            portal=portal().other.name))
    form = forms.HandoffForm()
    if not form.validate() or not TOKEN_SHAPE.fullmatch(form.ticket.data):
        return _ticket_expired()
    try:
        answer = identity().redeem_handoff_ticket(form.ticket.data, client_address())
    except grpc.RpcError as error:
        # Unknown, used, expired or for the other door: identity says UNAUTHENTICATED
        # (tests/contract); a ticket of the wrong shape never got this far.
        if error.code() == grpc.StatusCode.UNAUTHENTICATED:  # type: ignore[attr-defined]
            return _ticket_expired()
        raise  # identity down and the rest: answers_failed_calls gives the page (503)
    return _signed_in(answer.session.token)


def _ticket_expired() -> ResponseReturnValue:
    flash(_("This sign-in link has expired. Please sign in again."), "error")
    return redirect(url_for("auth.sign_in"))


def _signed_in(token: str) -> Response:
    end_previous_session()
    # A fresh CSRF secret for the signed-in session (no fixation across sign-in).
    session.clear()
    response = redirect(url_for(LANDING))
    set_session_cookie(response, token)
    return response


@bp.route("/sign-out", methods=["POST"])
@answers_failed_calls
def sign_out() -> ResponseReturnValue:
    token = session_token()
    if token:
        identity().sign_out(token)
    session.clear()
    flash(_("You have been signed out."), "info")
    response = redirect(url_for("auth.sign_in"))
    drop_session_cookie(response)
    return response
