"""The subscription page: plan, seats, frequency, status, period, next renewal, a scheduled
change (undo), cancel at the period's end (undo), reactivate after it lapsed."""
from __future__ import annotations

import grpc
from flask import Blueprint, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.billing_center import forms
from web.billing_center.access import account_id, billing_contact
from web.billing_center.backend import SubscriptionPageView, online_billing
from web.common.errors import FormPage, answers_failed_calls

bp = Blueprint("subscription", __name__, url_prefix="/subscription")


def _page(form: forms.CancelForm | None = None) -> FormPage:
    def context() -> dict[str, object]:
        return {"subscription": online_billing().subscription(account_id()),
                "pending_requests": online_billing().change_requests(account_id(), pending_only=True),
                "action_form": forms.ActionForm(formdata=None),
                "reactivate_form": forms.ReactivateForm(formdata=None, idempotency_key=forms.new_key())}

    return FormPage("subscription.html", form or forms.CancelForm(formdata=None), load_context=context)


def _current() -> SubscriptionPageView | None:
    return online_billing().subscription(account_id())


@bp.route("")
@answers_failed_calls
@billing_contact
def subscription_page() -> ResponseReturnValue:
    return _page().render()


@bp.route("/cancel", methods=["POST"])
@answers_failed_calls
@billing_contact
def cancel() -> ResponseReturnValue:
    form = forms.CancelForm()
    page = _page(form)
    if not form.validate():
        return page.render(400)
    current = _current()
    if current is None:
        return redirect(url_for(".subscription_page"))
    try:
        online_billing().cancel(account_id(), current.subscription_id, form.reason.data or "")
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("Your subscription will end at the end of the current period. You can undo this until then."), "info")
    return redirect(url_for(".subscription_page"))


def _simple_action(call: str, done: str) -> ResponseReturnValue:
    form = forms.ActionForm()
    page = _page()
    if not form.validate():
        return page.render(400)
    current = _current()
    if current is None:
        return redirect(url_for(".subscription_page"))
    try:
        getattr(online_billing(), call)(account_id(), current.subscription_id)
    except grpc.RpcError as error:
        return page.failed(error)
    flash(done, "info")
    return redirect(url_for(".subscription_page"))


@bp.route("/undo-cancellation", methods=["POST"])
@answers_failed_calls
@billing_contact
def undo_cancellation() -> ResponseReturnValue:
    return _simple_action("undo_cancellation", _("Your subscription will renew as before."))


@bp.route("/undo-change", methods=["POST"])
@answers_failed_calls
@billing_contact
def undo_scheduled_change() -> ResponseReturnValue:
    return _simple_action("undo_scheduled_change", _("The scheduled change was undone."))


@bp.route("/reactivate", methods=["POST"])
@answers_failed_calls
@billing_contact
def reactivate() -> ResponseReturnValue:
    form = forms.ReactivateForm()
    page = _page()
    if not form.validate():
        return page.fail(None, forms.first_error(form), 400)
    current = _current()
    if current is None:
        return redirect(url_for(".subscription_page"))
    try:
        result = online_billing().reactivate(account_id(), current.subscription_id, form.idempotency_key.data)
    except grpc.RpcError as error:
        return page.failed(error)
    if result.payment_pending:
        flash(_("We're confirming your payment with your bank. Your subscription is reactivated as soon as "
                "it is confirmed; you will not be charged twice."), "info")
    else:
        flash(_("Your subscription is active again."), "info")
    return redirect(url_for(".subscription_page"))
