"""Payment methods, invoices and the billing profile of an online account: use cases, one
function each. Objects are found only within the caller's account (S13)."""
from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace

from billing_common.errors import FailedPrecondition, InvalidArgument, NotFound
from billing_common.invoicing.pdf import InvoiceLine, InvoiceView, render_invoice_pdf
from billing_common.invoicing.profile import BillingProfile, validate_billing_profile
from billing_common.payments.gateway import PaymentDeclined, check_token
from billing_common.validation import require_id
from services.online_billing.domain.billing import Invoice, InvoiceStatus, PaymentMethod
from services.online_billing.service_layer import renewals
from services.online_billing.service_layer.dependencies import Dependencies
from services.online_billing.service_layer.subscriptions import now_of

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


# --- payment methods --------------------------------------------------------------------------


def list_payment_methods(deps: Dependencies, account_id: str) -> list[PaymentMethod]:
    """The default card first, then the newest."""
    require_id(account_id, "account_id")
    with deps.uow() as uow:
        methods = uow.payment_methods.for_account(account_id)
    return sorted(methods, key=lambda m: (not m.is_default, -m.created_at.timestamp(), m.id))


def add_payment_method(deps: Dependencies, account_id: str, token: str, make_default: bool = False) -> PaymentMethod:
    """Verifies the card the web tier tokenized and keeps what S18 allows (the token the gateway
    answers, brand, last 4, expiry). The account's first card becomes its default.
    Raises PaymentDeclined (code and message) when the gateway declines the card."""
    require_id(account_id, "account_id")
    check_token(token)
    verification = deps.payments.verify(token)  # outside any transaction: a call to the gateway
    if verification.decline is not None:
        raise PaymentDeclined(verification.decline.code)
    card = verification.card
    method = PaymentMethod(id=str(uuid.uuid4()), account_id=account_id, token=card.token, brand=card.brand,
                           last4=card.last4, exp_month=card.exp_month, exp_year=card.exp_year,
                           is_default=False, created_at=now_of(deps))
    with deps.uow() as uow:
        first = not uow.payment_methods.for_account(account_id)
        uow.payment_methods.add(method)
        if first or make_default:
            uow.payment_methods.set_default(account_id, method.id)
        uow.commit()
    if first or make_default:
        renewals.retry_now(deps, account_id)  # a past-due renewal is tried on the new card at once
    return replace(method, is_default=first or make_default)


def set_default_payment_method(deps: Dependencies, account_id: str, method_id: str) -> list[PaymentMethod]:
    require_id(account_id, "account_id")
    require_id(method_id, "payment_method_id")
    with deps.uow() as uow:
        if method_id not in {m.id for m in uow.payment_methods.for_account(account_id)}:
            raise NotFound("no such payment method")
        uow.payment_methods.set_default(account_id, method_id)
        uow.commit()
    renewals.retry_now(deps, account_id)  # a past-due renewal is tried on the new default at once
    return list_payment_methods(deps, account_id)


def remove_payment_method(deps: Dependencies, account_id: str, method_id: str) -> list[PaymentMethod]:
    """Removes a card; never the last one while a subscription is active or past due (its
    renewal needs a card). Removing the default makes the newest other card the default."""
    require_id(account_id, "account_id")
    require_id(method_id, "payment_method_id")
    now = now_of(deps)
    with deps.uow() as uow:
        methods = uow.payment_methods.for_account(account_id)
        removed = next((m for m in methods if m.id == method_id), None)
        if removed is None:
            raise NotFound("no such payment method")
        rest = sorted((m for m in methods if m.id != method_id), key=lambda m: (m.created_at, m.id))
        live = [s for s in uow.subscriptions.for_account(account_id)
                if not s.has_lapsed(now) and not s.cancel_at_period_end]
        if not rest and live:
            raise FailedPrecondition("This is the only card of an active subscription: add another card before "
                                     "removing it, or cancel the subscription.", field="payment_method_id")
        uow.payment_methods.remove(account_id, method_id)
        if removed.is_default and rest:
            uow.payment_methods.set_default(account_id, rest[-1].id)
        uow.commit()
    return list_payment_methods(deps, account_id)


# --- invoices ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoicePage:
    invoices: list[Invoice]
    next_page_token: str  # "" on the last page
    # A payment of the account is being confirmed (S20), and the open invoices it is for.
    payment_pending: bool = False
    pending_invoice_ids: frozenset[str] = frozenset()


def _cursor(token: str) -> tuple[dt.datetime, str] | None:
    if not token:
        return None
    try:
        issued, invoice_id = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii").split("|", 1)
        return dt.datetime.fromisoformat(issued), require_id(invoice_id, "page_token")
    except (ValueError, UnicodeError, InvalidArgument):
        raise InvalidArgument("page_token is not a token this service gave", field="page_token") from None


def _token(invoice: Invoice) -> str:
    return base64.urlsafe_b64encode(f"{invoice.issued_at.isoformat()}|{invoice.id}".encode("ascii")).decode("ascii")


def list_invoices(deps: Dependencies, account_id: str, page_size: int = 0, page_token: str = "") -> InvoicePage:
    """The account's invoices, newest first, `page_size` at a time (20 by default, at most 100)."""
    require_id(account_id, "account_id")
    if page_size < 0 or page_size > MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 0 and {MAX_PAGE_SIZE}", field="page_size")
    size = page_size or DEFAULT_PAGE_SIZE
    after = _cursor(page_token) if isinstance(page_token, str) and len(page_token) <= 200 else _cursor("!")
    with deps.uow() as uow:
        rows = uow.invoices.page(account_id, size + 1, after)
        in_flight = uow.payments.in_flight_for_account(account_id)
    page = rows[:size]
    return InvoicePage(page, _token(page[-1]) if len(rows) > size else "", bool(in_flight),
                       frozenset(p.invoice_id for p in in_flight if p.invoice_id))


def get_invoice(deps: Dependencies, account_id: str, invoice_id: str) -> Invoice:
    return get_invoice_details(deps, account_id, invoice_id)[0]


def get_invoice_details(deps: Dependencies, account_id: str, invoice_id: str) -> tuple[Invoice, bool]:
    """The invoice, and whether a payment of it is being confirmed (S20)."""
    require_id(account_id, "account_id")
    require_id(invoice_id, "invoice_id")
    with deps.uow() as uow:
        invoice = uow.invoices.get(account_id, invoice_id)
        pending = invoice is not None and invoice.status is InvoiceStatus.OPEN and any(
            p.invoice_id == invoice.id for p in uow.payments.in_flight_for_account(account_id))
    if invoice is None:
        raise NotFound("no such invoice")
    return invoice, pending


def invoice_pdf(deps: Dependencies, account_id: str, invoice_id: str, language: str = "en") -> tuple[Invoice, bytes]:
    """The invoice as a PDF in `language` (en or pt-BR), rendered outside any transaction."""
    if not isinstance(language, str) or len(language) > 16:
        raise InvalidArgument("language must be a language tag such as en or pt-BR", field="language")
    invoice = get_invoice(deps, account_id, invoice_id)
    buyer = invoice.buyer or BillingProfile(company_name=account_id, address_line1="", city="", country="")
    issued = invoice.issued_at.date()
    view = InvoiceView(
        number=invoice.number, status=invoice.status.value, issue_date=issued, due_date=issued,
        currency=invoice.currency, seller=deps.vendor, buyer=buyer,
        lines=tuple(InvoiceLine(line.describe(language), line.seats, line.unit_price.amount_minor,
                                line.amount.amount_minor) for line in invoice.lines),
        amount_paid_minor=invoice.total.amount_minor if invoice.status is InvoiceStatus.PAID else 0)
    return invoice, render_invoice_pdf(view, language or "en")


# --- billing profile --------------------------------------------------------------------------


def get_billing_profile(deps: Dependencies, account_id: str) -> BillingProfile | None:
    require_id(account_id, "account_id")
    with deps.uow() as uow:
        return uow.billing_profiles.get(account_id)


def update_billing_profile(deps: Dependencies, account_id: str, *, company_name: str, address_line1: str,
                           city: str, country: str, address_line2: str = "", region: str = "",
                           postal_code: str = "", tax_id: str = "", invoice_emails: Iterable[str] = ()
                           ) -> BillingProfile:
    """Validates (billing_common.invoicing.profile) and stores the profile; invoices finalized
    from now on carry it (each invoice keeps the buyer as it was when it was finalized)."""
    require_id(account_id, "account_id")
    profile = validate_billing_profile(
        company_name=company_name, address_line1=address_line1, address_line2=address_line2, city=city,
        region=region, postal_code=postal_code, country=country, tax_id=tax_id, invoice_emails=invoice_emails)
    with deps.uow() as uow:
        uow.billing_profiles.put(account_id, profile, now_of(deps))
        uow.commit()
    return profile
