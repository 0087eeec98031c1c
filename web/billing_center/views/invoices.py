"""Invoice history (a page at a time), an invoice page designed for printing, its PDF.

Another account's invoice id answers 404: online_billing finds invoices only within the
signed-in principal's account (S13)."""
from __future__ import annotations

import re

from flask import Blueprint, make_response, render_template, request
from flask.typing import ResponseReturnValue

from web.billing_center.access import account_id, billing_contact
from web.billing_center.backend import online_billing
from web.common.errors import answers_failed_calls, not_found
from web.common.i18n import html_lang

bp = Blueprint("invoices", __name__, url_prefix="/invoices")

# Invoice ids and page tokens are the service's; anything else is not worth a call.
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PAGE_TOKEN = re.compile(r"[A-Za-z0-9_=.-]{1,512}")
_FILENAME = re.compile(r"[A-Za-z0-9_.-]{1,80}")


@bp.route("")
@answers_failed_calls
@billing_contact
def list_invoices() -> ResponseReturnValue:
    token = request.args.get("page", "")
    if token and not _PAGE_TOKEN.fullmatch(token):
        return not_found()
    page = online_billing().invoices(account_id(), page_token=token)
    return render_template("invoices.html", page=page, first_page=not token)


@bp.route("/<invoice_id>")
@answers_failed_calls
@billing_contact
def invoice_page(invoice_id: str) -> ResponseReturnValue:
    if not _ID.fullmatch(invoice_id):
        return not_found()
    invoice = online_billing().invoice(account_id(), invoice_id)  # NOT_FOUND -> 404 (S13)
    return render_template("invoice.html", invoice=invoice)


@bp.route("/<invoice_id>.pdf")
@answers_failed_calls
@billing_contact
def invoice_pdf(invoice_id: str) -> ResponseReturnValue:
    if not _ID.fullmatch(invoice_id):
        return not_found()
    pdf = online_billing().invoice_pdf(account_id(), invoice_id, html_lang())
    filename = pdf.filename if _FILENAME.fullmatch(pdf.filename) else "invoice.pdf"
    response = make_response(pdf.content)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
