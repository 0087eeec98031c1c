"""Invoices (a page at a time, each as a printable page and a PDF), paying one or several by
card with the allocation shown first, the statement of account, purchase orders, and the rep's
offline payments.

The blueprint serves both consoles: a billing contact's own account at /invoices, ..., and a
rep's account at /accounts/<account_id>/invoices, ... (registered twice, see create_app); the
account is always access.account_user's, so another account's ids answer 404 (S13, S14).
Views take the rep console's `account_id` URL value as `_url_account` and ignore it: the
account is g.account, checked against identity.
"""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import grpc
from flask import Blueprint, flash, g, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.common.clients import money
from web.common.errors import FormPage, answers_failed_calls, not_found
from web.common.i18n import format_money, html_lang
from web.common.reauth import ask_password, signed_in_recently
from web.enterprise_portal import access, forms
from web.enterprise_portal.access import account_user, contact_only, rep_only
from web.enterprise_portal.backend import enterprise_portal

bp = Blueprint("billing", __name__)

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PAGE_TOKEN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\|[A-Za-z0-9_-]{1,32}")
_FILENAME = re.compile(r"[A-Za-z0-9_.-]{1,80}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def here(endpoint: str, **values: Any) -> str:
    """A URL of this console: the rep's account id kept in it."""
    values = {**access.here_kwargs(), **values}
    return url_for(f"{request.blueprints[0]}.{endpoint}", **values)


@bp.app_context_processor
def _links() -> dict[str, object]:
    return {"here": here}


def _pdf(content: bytes, filename: str, fallback: str) -> ResponseReturnValue:
    response = make_response(content)
    response.headers["Content-Type"] = "application/pdf"
    name = filename if _FILENAME.fullmatch(filename) else fallback
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _ids(values: list[str]) -> list[str] | None:
    ids = list(dict.fromkeys(v for v in values if v))
    if not ids or len(ids) > forms.MAX_INVOICES or not all(_ID.fullmatch(i) for i in ids):
        return None
    return ids


# --- invoices ------------------------------------------------------------------------------


@bp.route("/invoices")
@answers_failed_calls
@account_user
def list_invoices(account_id: str | None = None) -> ResponseReturnValue:
    token = request.args.get("page", "")
    if token and not _PAGE_TOKEN.fullmatch(token):
        return not_found()
    show_all = request.args.get("all") == "1"
    # The newest 20 first (as the seed's portal); "show all" pages through every one, 200 at a time.
    page = enterprise_portal().invoices(access.account_id(), page_token=token, page_size=200 if show_all else 0)
    return render_template("ep_invoices.html", page=page, first_page=not token, show_all=show_all)


@bp.route("/invoices/<invoice_id>")
@answers_failed_calls
@account_user
def invoice_page(invoice_id: str, account_id: str | None = None) -> ResponseReturnValue:
    if not _ID.fullmatch(invoice_id):
        return not_found()
    invoice = enterprise_portal().invoice(access.account_id(), invoice_id)  # NOT_FOUND -> 404 (S13)
    return render_template("ep_invoice.html", invoice=invoice)


@bp.route("/invoices/<invoice_id>.pdf")
@answers_failed_calls
@account_user
def invoice_pdf(invoice_id: str, account_id: str | None = None) -> ResponseReturnValue:
    if not _ID.fullmatch(invoice_id):
        return not_found()
    pdf = enterprise_portal().invoice_pdf(access.account_id(), invoice_id, html_lang(), g.account.name)
    return _pdf(pdf.content, pdf.filename, "invoice.pdf")


# --- paying by card (contacts) -------------------------------------------------------------


def _chosen(ids: list[str]) -> list[Any]:
    return [enterprise_portal().invoice(access.account_id(), i) for i in ids]


@bp.route("/pay", methods=["GET", "POST"])
@answers_failed_calls
@account_user
@contact_only
def pay(account_id: str | None = None) -> ResponseReturnValue:
    """Step 1: the chosen invoices and the amount (their balances unless changed)."""
    if request.method == "GET":
        ids = _ids(request.args.getlist("invoice"))
        if ids is None:
            flash(_("Choose at least one invoice to pay."), "error")
            return redirect(here("list_invoices"))
        if not signed_in_recently():  # S17: a payment needs a recent sign-in
            return ask_password(request.full_path)
        invoices = _chosen(ids)
        total = sum((i.balance for i in invoices[1:]), invoices[0].balance)
        form = forms.PayForm(formdata=None, invoice_ids=",".join(ids), amount=str(total.to_decimal()))
        return FormPage("ep_pay.html", form, {"invoices": invoices}).render()
    form = forms.PayForm()
    ids = form.ids() if form.validate() else []
    if not ids:
        return FormPage("ep_pay.html", form, {"invoices": []}).render(400)
    invoices = _chosen(ids)
    page = FormPage("ep_pay.html", form, {"invoices": invoices})
    amount = forms.parse_amount(form.amount.data, invoices[0].balance.currency)
    if amount is None or amount.amount_minor <= 0:
        return page.fail("amount", _("Amount to pay must be an amount such as 1250.00."), 400)
    try:
        allocation = enterprise_portal().preview_payment(access.account_id(), ids, amount.amount_minor)
    except grpc.RpcError as error:
        return page.failed(error)
    confirm = forms.ConfirmPayForm(formdata=None, invoice_ids=",".join(ids), amount=form.amount.data,
                                   idempotency_key=str(uuid.uuid4()))
    return FormPage("ep_pay_confirm.html", confirm, {"allocation": allocation}).render()


@bp.route("/pay/confirm", methods=["POST"])
@answers_failed_calls
@account_user
@contact_only
def confirm_payment(account_id: str | None = None) -> ResponseReturnValue:
    """Step 2: the card; charged once per idempotency key whatever the clicks (S19)."""
    form = forms.ConfirmPayForm()
    ids = [i for i in (form.invoice_ids.data or "").split(",") if i]
    if _ids(ids) is None:
        return not_found()
    if not signed_in_recently():
        return ask_password(here("pay") + "?" + "&".join(f"invoice={i}" for i in ids))
    # The invoice's currency, read again: a replay of a paid form must still find its amount.
    currency = enterprise_portal().invoice(access.account_id(), ids[0]).balance.currency
    amount = forms.parse_amount(form.amount.data or "", currency)
    if amount is None:
        return not_found()
    # The allocation is shown again only with an error; a form submitted twice is paid once
    # by the service, whose preview of now-paid invoices would refuse it (S19).
    page = FormPage("ep_pay_confirm.html", form, load_context=lambda: {
        "allocation": enterprise_portal().preview_payment(access.account_id(), ids, amount.amount_minor)})
    token = form.card_token(datetime.now(UTC).date())
    if token is None:
        return page.render(400)
    principal = g.principal
    try:
        answer = enterprise_portal().pay(access.account_id(), ids, amount.amount_minor, token,
                                         form.idempotency_key.data, principal.email, principal.user_id)
    except grpc.RpcError as error:
        return page.failed(error)  # a decline: its message on the form
    pending = answer.status == answer.STATUS_PENDING
    return render_template("ep_pay_done.html", pending=pending, amount=money(answer.amount))


# --- statement -----------------------------------------------------------------------------


# The statement page shows the period's newest entries, this many a page, with older and newer
# pages by keyset (README, "Performance"); the PDF has every entry of the period.
STATEMENT_PAGE_SIZE = 50


def _period() -> tuple[str, str] | None:
    start, end = request.args.get("start", ""), request.args.get("end", "")
    if (start and not _DAY.fullmatch(start)) or (end and not _DAY.fullmatch(end)):
        return None
    return start, end


@bp.route("/statement")
@answers_failed_calls
@account_user
def statement(account_id: str | None = None) -> ResponseReturnValue:
    period = _period()
    if period is None:
        flash(_("A date must be written as YYYY-MM-DD."), "error")
        return redirect(here("statement"))
    before, after = request.args.get("before", "")[:300], request.args.get("after", "")[:300]
    try:
        found = enterprise_portal().statement(access.account_id(), *period, STATEMENT_PAGE_SIZE, before, after)
    except grpc.RpcError as error:
        if error.code() is grpc.StatusCode.INVALID_ARGUMENT:
            if before or after:  # a cursor altered by hand: the period's newest entries
                return redirect(here("statement", start=period[0], end=period[1]))
            flash(_("The period ends before it starts, or is longer than five years."), "error")
            return redirect(here("statement"))
        raise
    return render_template("ep_statement.html", statement=found)


@bp.route("/statement.pdf")
@answers_failed_calls
@account_user
def statement_pdf(account_id: str | None = None) -> ResponseReturnValue:
    period = _period()
    if period is None:
        return not_found()
    try:
        pdf = enterprise_portal().statement_pdf(access.account_id(), *period, html_lang(), g.account.name)
    except grpc.RpcError as error:
        if error.code() is grpc.StatusCode.INVALID_ARGUMENT:
            return not_found()
        raise
    return _pdf(pdf.content, pdf.filename, "statement.pdf")


# --- purchase orders -----------------------------------------------------------------------


@bp.route("/purchase-orders")
@answers_failed_calls
@account_user
def purchase_orders(account_id: str | None = None) -> ResponseReturnValue:
    return render_template("ep_purchase_orders.html", pos=enterprise_portal().purchase_orders(access.account_id()))


def _po_fields(form: forms.PurchaseOrderForm) -> dict[str, Any] | None:
    amount = forms.parse_amount(form.amount.data, (form.currency.data or "").strip().upper())
    if amount is None:
        return None
    return {"number": (form.number.data or "").strip(), "amount": amount, "valid_from": form.valid_from.data.strip(),
            "valid_to": form.valid_to.data.strip(), "notes": form.notes.data or ""}


def _currency_ok(form: forms.PurchaseOrderForm) -> bool:
    try:
        forms.Money.zero((form.currency.data or "").strip().upper())
    except ValueError:
        form.currency.errors = [*form.currency.errors, _("Currency must be a code such as USD.")]
        return False
    return True


@bp.route("/purchase-orders/new", methods=["GET", "POST"])
@answers_failed_calls
@account_user
def new_purchase_order(account_id: str | None = None) -> ResponseReturnValue:
    form = forms.PurchaseOrderForm() if request.method == "POST" else forms.PurchaseOrderForm(
        formdata=None, currency="USD")
    page = FormPage("ep_po_form.html", form, {"po": None})
    if request.method == "GET":
        return page.render()
    if not form.validate() or not _currency_ok(form):
        return page.render(400)
    fields = _po_fields(form)
    if fields is None:
        return page.fail("amount", _("Amount must be an amount such as 1250.00."), 400)
    try:
        enterprise_portal().create_purchase_order(access.account_id(), fields)
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("Purchase order %(number)s was added.", number=fields["number"]), "info")
    return redirect(here("purchase_orders"))


@bp.route("/purchase-orders/<po_id>/edit", methods=["GET", "POST"])
@answers_failed_calls
@account_user
def edit_purchase_order(po_id: str, account_id: str | None = None) -> ResponseReturnValue:
    if not _ID.fullmatch(po_id):
        return not_found()
    po = enterprise_portal().purchase_order(access.account_id(), po_id)  # NOT_FOUND -> 404 (S13)
    if request.method == "GET":
        form = forms.PurchaseOrderForm(formdata=None, number=po.number, amount=str(po.amount.to_decimal()),
                                       currency=po.amount.currency, valid_from=po.valid_from.isoformat(),
                                       valid_to=po.valid_to.isoformat(), notes=po.notes)
        return FormPage("ep_po_form.html", form, {"po": po}).render()
    form = forms.PurchaseOrderForm(number=po.number)
    form.number.data = po.number  # the number stays: invoices carry it
    page = FormPage("ep_po_form.html", form, {"po": po})
    if not form.validate() or not _currency_ok(form):
        return page.render(400)
    fields = _po_fields(form)
    if fields is None:
        return page.fail("amount", _("Amount must be an amount such as 1250.00."), 400)
    try:
        enterprise_portal().update_purchase_order(access.account_id(), po_id, fields)
    except grpc.RpcError as error:
        return page.failed(error)
    flash(_("Purchase order %(number)s was changed.", number=po.number), "info")
    return redirect(here("purchase_orders"))


# --- offline payments (reps) ---------------------------------------------------------------


@bp.route("/payments/new", methods=["GET", "POST"])
@answers_failed_calls
@account_user
@rep_only
def record_payment(account_id: str | None = None) -> ResponseReturnValue:
    if request.method == "GET":
        ids = _ids(request.args.getlist("invoice"))
        if ids is None:
            flash(_("Choose at least one invoice the payment is for."), "error")
            return redirect(here("list_invoices"))
        form = forms.OfflinePaymentForm(formdata=None, invoice_ids=",".join(ids))
        return FormPage("ep_offline_payment.html", form, {"invoices": _chosen(ids)}).render()
    form = forms.OfflinePaymentForm()
    ids = _ids(form.ids()) if form.invoice_ids.data else None
    if ids is None:
        return not_found()
    invoices = _chosen(ids)
    page = FormPage("ep_offline_payment.html", form, {"invoices": invoices})
    if not form.validate():
        return page.render(400)
    amount = forms.parse_amount(form.amount.data, invoices[0].balance.currency)
    if amount is None or amount.amount_minor <= 0:
        return page.fail("amount", _("Amount received must be an amount such as 1250.00."), 400)
    try:
        allocation = enterprise_portal().record_offline_payment(
            access.account_id(), ids, amount, form.method.data, form.reference.data.strip(),
            (form.received_on.data or "").strip(), g.principal.user_id)
    except grpc.RpcError as error:
        return page.failed(error)
    if allocation.credit and allocation.credit.amount_minor:
        flash(_("The payment was recorded; %(credit)s became credit on the account.",
                credit=format_money(allocation.credit)), "info")
    else:
        flash(_("The payment was recorded."), "info")
    return redirect(here("list_invoices"))
