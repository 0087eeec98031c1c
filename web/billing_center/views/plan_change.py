"""Change plan, seats or billing frequency: a form, a preview of exactly what happens, confirm.

The preview page carries the choice and an idempotency key made when it was shown (hidden
fields), so a double-submitted confirmation is one change and one charge (S19). A decline
shows the decline's message on a fresh preview (nothing changed); a lost gateway answer says
the payment is being confirmed (S20).
"""
from __future__ import annotations

import grpc
import structlog
from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.billing_center import forms
from web.billing_center.access import account_id, billing_contact
from web.billing_center.backend import INTERVAL_NAMES, SubscriptionPageView, online_billing
from web.billing_center.charges import change_refusal, flash_change_pending
from web.common.errors import FormPage, answers_failed_calls, error_page

bp = Blueprint("plan_change", __name__, url_prefix="/subscription/change")
log = structlog.get_logger()


def _subscription_or_none() -> SubscriptionPageView | None:
    return online_billing().subscription(account_id())


def _form_page(form: forms.ChangeForm) -> FormPage:
    def context() -> dict[str, object]:
        return {"subscription": _subscription_or_none(), "plans": online_billing().plans(account_id())}

    return FormPage("change_form.html", form, load_context=context)


def _no_subscription() -> ResponseReturnValue:
    return error_page(409, _("No subscription"), _("This account has no subscription to change."))


@bp.route("", methods=["GET"])
@answers_failed_calls
@billing_contact
def change_form() -> ResponseReturnValue:
    current = _subscription_or_none()
    if current is None:
        return _no_subscription()
    form = forms.ChangeForm(formdata=None, plan_code=current.current.plan_code, seats=str(current.current.seats),
                            interval=current.current.interval_name)
    # Back from the preview ("change something"): the choice made there.
    for name in ("plan_code", "seats", "interval"):
        value = request.args.get(name)
        if isinstance(value, str) and len(value) <= 32:
            form[name].data = value
    return _form_page(form).render()


@bp.route("/preview", methods=["POST"])
@answers_failed_calls
@billing_contact
def preview() -> ResponseReturnValue:
    form = forms.ChangeForm()
    page = _form_page(form)
    if not form.validate():
        return page.render(400)
    current = _subscription_or_none()
    if current is None:
        return _no_subscription()
    try:
        previewed = online_billing().preview_change(account_id(), current.subscription_id, form.plan_code.data,
                                                    int(form.seats.data), form.interval_value)
    except grpc.RpcError as error:
        return page.failed(error)
    confirm = forms.ConfirmChangeForm(formdata=None, plan_code=form.plan_code.data, seats=form.seats.data,
                                      interval=form.interval.data, idempotency_key=forms.new_key())
    return FormPage("change_preview.html", confirm, context={"preview": previewed}).render()


@bp.route("/confirm", methods=["POST"])
@answers_failed_calls
@billing_contact
def confirm() -> ResponseReturnValue:
    form = forms.ConfirmChangeForm()
    if not form.validate():  # only a tampered or truncated post: the fields are hidden
        return _form_page(form).fail(None, forms.first_error(form), 400)
    current = _subscription_or_none()
    if current is None:
        return _no_subscription()
    choice = (form.plan_code.data, int(form.seats.data), form.interval_value)
    try:
        result = online_billing().apply_change(account_id(), current.subscription_id, *choice,
                                               idempotency_key=form.idempotency_key.data)
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.FAILED_PRECONDITION:  # type: ignore[attr-defined]
            return _form_page(form).failed(error)
        # A decline (or a rule the preview could not foresee): nothing changed. The preview
        # again, with the message and a new key, so a second try is a new attempt.
        return _preview_again(form, current, choice, change_refusal(error, "change refused")[0])
    if result.payment_pending:
        flash_change_pending()
        return redirect(url_for("subscription.subscription_page"))
    if result.applied and result.invoice is not None:
        flash(_("Your subscription was changed. Invoice %(number)s was paid with your card.",
                number=result.invoice.number), "info")
        return redirect(url_for("invoices.invoice_page", invoice_id=result.invoice.invoice_id))
    flash(_("The change is scheduled for the end of the current period. You can undo it until then."), "info")
    return redirect(url_for("subscription.subscription_page"))


def _preview_again(form: forms.ConfirmChangeForm, current: SubscriptionPageView,
                   choice: tuple[str, int, int], message: str) -> ResponseReturnValue:
    try:
        previewed = online_billing().preview_change(account_id(), current.subscription_id, *choice)
    except grpc.RpcError:
        return error_page(409, _("The change could not be made"), message)
    again = forms.ConfirmChangeForm(formdata=None, plan_code=choice[0], seats=str(choice[1]),
                                    interval=INTERVAL_NAMES[choice[2]], idempotency_key=forms.new_key())
    page = FormPage("change_preview.html", again, context={"preview": previewed})
    return page.fail(None, message, 402)
