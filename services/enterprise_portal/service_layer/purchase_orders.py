"""Purchase orders: create, edit, list (with status and remaining balance), and the notices.

Notices (README "Purchase order notices"): "80% used" can only become due when an invoice is
issued against the PO, so issue_invoice mails it then; "expires in 30 days" becomes due with
the passing of days, so `send_po_notices` runs on a schedule inside the server
(ENTERPRISE_PORTAL_JOBS_INTERVAL) and mails it once per PO. Both go to the account's billing
contacts and rep (identity's, asked when the mail is sent: service_layer.mails).
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace

from sqlalchemy.exc import IntegrityError

from billing_common.clock import utc
from billing_common.errors import AlreadyExists, InvalidArgument, NotFound
from billing_common.limits import has_disallowed_characters
from billing_common.money import Money, is_currency
from billing_common.validation import require_id
from services.enterprise_portal.domain.purchase_orders import PoNotice, PoStatus, PurchaseOrder
from services.enterprise_portal.service_layer import mails
from services.enterprise_portal.service_layer.dependencies import Dependencies


@dataclass(frozen=True, slots=True)
class PoView:
    po: PurchaseOrder
    status: PoStatus


def _today(deps: Dependencies) -> dt.date:
    return utc(deps.clock.now()).date()


def _checked(account_id: str, number: str, amount_minor: int, currency: str, valid_from: dt.date | None,
             valid_to: dt.date | None, notes: str, po_id: str) -> PurchaseOrder:
    if not is_currency(currency):
        raise InvalidArgument("currency is a three-letter ISO 4217 code", field="currency")
    if valid_from is None:
        raise InvalidArgument("a PO is valid from a day", field="valid_from")
    if valid_to is None:
        raise InvalidArgument("a PO is valid to a day", field="valid_to")
    if has_disallowed_characters(notes, multiline=True):
        raise InvalidArgument("notes hold characters that cannot be shown", field="notes")
    return PurchaseOrder(id=po_id, account_id=account_id, number=number, amount=Money(amount_minor, currency),
                         valid_from=valid_from, valid_to=valid_to, notes=notes)


def create_po(deps: Dependencies, account_id: str, number: str, amount_minor: int, currency: str,
              valid_from: dt.date | None, valid_to: dt.date | None, notes: str = "") -> PoView:
    """A new PO of the account. Raises InvalidArgument naming the field, AlreadyExists (field
    number) for a number the account already has."""
    require_id(account_id, "account_id")
    po = _checked(account_id, number, amount_minor, currency, valid_from, valid_to, notes, str(uuid.uuid4()))
    try:
        with deps.uow() as uow:
            if uow.purchase_orders.by_number(account_id, po.number) is not None:
                raise AlreadyExists(f"PO {po.number} exists", field="number")
            uow.purchase_orders.add(po)
            uow.commit()
    except IntegrityError:
        raise AlreadyExists(f"PO {po.number} exists", field="number") from None
    return get_po(deps, account_id, po.id)


def edit_po(deps: Dependencies, account_id: str, po_id: str, amount_minor: int, currency: str,
            valid_from: dt.date | None, valid_to: dt.date | None, notes: str = "") -> PoView:
    """Change a PO's amount, validity and notes (its number stays: invoices carry it). Its
    amount cannot go below what was already invoiced against it."""
    require_id(account_id, "account_id")
    require_id(po_id, "po_id")
    with deps.uow() as uow:
        current = uow.purchase_orders.get(account_id, po_id, for_update=True)
        if current is None:
            raise NotFound("no such purchase order")
        changed = _checked(account_id, current.number, amount_minor, currency, valid_from, valid_to, notes, po_id)
        if changed.currency != current.currency and current.used.amount_minor:
            raise InvalidArgument("the currency of a PO already invoiced against cannot change", field="currency")
        if changed.amount.amount_minor < current.used.amount_minor:
            raise InvalidArgument(f"the amount cannot be less than the {current.used.amount_minor} minor units "
                                  "already invoiced", field="amount")
        uow.purchase_orders.update(replace(changed, invoiced=None))
        uow.commit()
    return get_po(deps, account_id, po_id)


def get_po(deps: Dependencies, account_id: str, po_id: str) -> PoView:
    require_id(account_id, "account_id")
    require_id(po_id, "po_id")
    with deps.uow() as uow:
        po = uow.purchase_orders.get(account_id, po_id)
    if po is None:
        raise NotFound("no such purchase order")  # another account's PO too (S13)
    return PoView(po, po.status(_today(deps)))


def list_pos(deps: Dependencies, account_id: str) -> list[PoView]:
    require_id(account_id, "account_id")
    today = _today(deps)
    with deps.uow() as uow:
        pos = uow.purchase_orders.for_account(account_id)
    return [PoView(po, po.status(today)) for po in pos]


def send_po_notices(deps: Dependencies) -> int:
    """Mail "expires within 30 days" once per active PO that is due it (and "80% used" for one
    that reached it without a mail, e.g. an edit lowered its amount). Returns mails written."""
    now = utc(deps.clock.now())
    today = now.date()
    sent = 0
    for notice in (PoNotice.EXPIRES_SOON, PoNotice.MOSTLY_USED):
        with deps.uow() as uow:
            candidates = uow.purchase_orders.notices_pending(notice, today)
            for po in candidates:
                due = po.expiry_notice_due(today) if notice is PoNotice.EXPIRES_SOON else po.usage_notice_due()
                if not due or not uow.purchase_orders.mark_notice(po.id, notice, now):
                    continue
                mails.write(uow, [mails.po_notice(po, notice)], now)
                sent += 1
            uow.commit()
    return sent
