"""The quote use cases' InvoiceIssuer over the invoicing use cases: an accepted version's lines
become one invoice on its payment terms with its PO (invoicing.issue_invoice, in the
acceptance's unit of work), and the POs a contact may choose are the account's active ones."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.enterprise_portal.domain.purchase_orders import PoStatus
from services.enterprise_portal.domain.quotes import Quote, QuoteVersion
from services.enterprise_portal.service_layer import invoicing
from services.enterprise_portal.service_layer.ports import UnitOfWork


@dataclass(frozen=True)
class InvoicingIssuer:
    invoice_prefix: str = "EP"

    def valid_po_numbers(self, uow: UnitOfWork, account_id: str, day: dt.date) -> list[str]:
        return [po.number for po in uow.purchase_orders.for_account(account_id) if po.status(day) is PoStatus.ACTIVE]

    def issue_for_quote(self, uow: UnitOfWork, quote: Quote, version: QuoteVersion, *, issued_on: dt.date,
                        at: dt.datetime) -> list[str]:
        """One invoice for the whole version: the quote is one order, and a B2B customer's
        accounts payable matches one invoice to one PO line (README, "Decision: ...")."""
        issued = invoicing.issue_invoice(uow, quote.account_id, version.lines, version.terms, version.po_number,
                                         issued_on=issued_on, at=at, invoice_prefix=self.invoice_prefix)
        return [issued.invoice.number]
