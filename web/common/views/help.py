"""The help page and the Customer Care contact form (signed in or not)."""
from __future__ import annotations

import grpc
from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from web.common import forms
from web.common.errors import FormPage, answers_failed_calls
from web.common.runtime import identity
from web.common.security import client_address, load_principal

bp = Blueprint("help", __name__)


@bp.route("/help")
@answers_failed_calls
def help_page() -> ResponseReturnValue:
    # Signed in or not: a signed-in reader also gets the link to their billing contacts.
    return render_template("help.html", principal=load_principal())


@bp.route("/help/contact", methods=["GET", "POST"])
@answers_failed_calls
def customer_care() -> ResponseReturnValue:
    principal = load_principal()
    form = forms.CustomerCareForm()
    if request.method == "GET" and principal is not None:
        form.name.data = form.name.data or principal.name
        form.email.data = form.email.data or principal.email
    page = FormPage("contact.html", form)
    if request.method == "GET":
        return page.render()
    if not form.validate():
        return page.render(400)
    try:
        identity().contact_customer_care(
            name=form.name.data, email=form.email.data, subject=form.subject.data,
            message=form.message.data, client_address=client_address())
    except grpc.RpcError as error:
        return page.failed(error)
    return render_template("contact_sent.html")
