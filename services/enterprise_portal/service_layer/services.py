"""enterprise_portal's use cases, one function each."""
from __future__ import annotations

from billing_common.validation import require_id
from services.enterprise_portal.domain.model import (
    DEFAULT_CURRENCY,
    OpenInvoiceSummary,
    summarise_open_invoices,
)
from services.enterprise_portal.service_layer.dependencies import Dependencies


def get_open_invoice_summary(deps: Dependencies, account_id: str) -> OpenInvoiceSummary:
    """How many of the account's invoices are open and what is still due on them.

    Never NOT_FOUND: accounts belong to identity, and one without invoices simply has none
    open. The amount is in the open invoices' currency; with none open, in the currency of the
    account's latest invoice, and in DEFAULT_CURRENCY (USD) before its first invoice.
    Raises InvalidArgument(field="account_id") for a malformed id.
    """
    require_id(account_id, "account_id")
    with deps.uow() as uow:
        invoices = uow.invoices.open_for_account(account_id)
        currency = invoices[0].currency if invoices else uow.invoices.latest_currency(account_id)
    return summarise_open_invoices(invoices, currency or DEFAULT_CURRENCY)
