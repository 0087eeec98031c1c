"""Payment methods: the cards on file, add one, make one the default, remove one.

The card form's number, expiry, CVC and name go to the gateway's tokenizer here, in the web
tier, and only the token goes to online_billing (S18): nothing logs the form, puts it in the
session or sends the number or CVC back into a page. Adding or removing a card needs a sign-in
within the last 15 minutes, else the password is asked again first (S17, views/reauth.py).
"""
from __future__ import annotations

from datetime import UTC, datetime

import grpc
from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.billing_center import forms
from web.billing_center.access import account_id, billing_contact, signed_in_recently
from web.billing_center.backend import online_billing
from web.common.cards import install_tokenizer, tokenizer
from web.common.errors import FormPage, answers_failed_calls

bp = Blueprint("payment_methods", __name__, url_prefix="/payment-methods")


__all__ = ["bp", "install_tokenizer", "tokenizer"]


def _list_page(form: forms.PaymentMethodForm | None = None) -> FormPage:
    return FormPage("payment_methods.html", form or forms.PaymentMethodForm(formdata=None),
                    load_context=lambda: {"cards": online_billing().payment_methods(account_id())})


def _reauth(next_url: str) -> ResponseReturnValue:
    return redirect(url_for("reauth.reauth_page", next=next_url))


@bp.route("")
@answers_failed_calls
@billing_contact
def list_cards() -> ResponseReturnValue:
    return _list_page().render()


@bp.route("/add", methods=["GET", "POST"])
@answers_failed_calls
@billing_contact
def add_card() -> ResponseReturnValue:
    if not signed_in_recently():
        return _reauth(url_for(".add_card"))
    form = forms.CardForm() if request.method == "POST" else forms.CardForm(formdata=None, make_default=True)
    page = FormPage("add_card.html", form)
    if request.method == "GET":
        return page.render()
    token = form.card_token(datetime.now(UTC).date())
    if token is None:
        return page.render(400)
    try:
        added = online_billing().add_payment_method(account_id(), token, bool(form.make_default.data))
    except grpc.RpcError as error:
        return page.failed(error)  # a decline: FAILED_PRECONDITION, its message on the form (409)
    flash(_("Your %(brand)s card ending in %(last4)s was added.", brand=added.brand_label, last4=added.last4), "info")
    return redirect(url_for(".list_cards"))


@bp.route("/default", methods=["POST"])
@answers_failed_calls
@billing_contact
def make_default() -> ResponseReturnValue:
    form = forms.PaymentMethodForm()
    page = _list_page(form)
    if not form.validate():
        return page.fail(None, forms.first_error(form), 400)
    if not signed_in_recently():  # S17: a change of payment method (and, past due, a charge at once)
        return _reauth(url_for(".list_cards"))
    try:
        online_billing().set_default_payment_method(account_id(), form.payment_method_id.data)
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("Your default card was changed."), "info")
    return redirect(url_for(".list_cards"))


@bp.route("/remove", methods=["POST"])
@answers_failed_calls
@billing_contact
def remove() -> ResponseReturnValue:
    form = forms.PaymentMethodForm()
    page = _list_page(form)
    if not form.validate():
        return page.fail(None, forms.first_error(form), 400)
    if not signed_in_recently():
        return _reauth(url_for(".list_cards"))
    try:
        online_billing().remove_payment_method(account_id(), form.payment_method_id.data)
    except grpc.RpcError as error:
        return page.failed(error)  # the last card of an active subscription: its message
    flash(_("The card was removed."), "info")
    return redirect(url_for(".list_cards"))
