"""The Enterprise portal's quote forms (the invoicing ones are forms.py). Every field is
checked for presence, length and stray characters (S24); the service checks the rest (PO
numbers, dates, terms) and its message is shown on the field it names. The draft editor's
lines are rows of plain inputs (no script under the CSP): `parse_lines` reads them and names
the row of a mistake."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import ValidationError

from billing_common.limits import has_disallowed_characters
from billing_common.money import Money
from web.common.forms import CleanText, Length, Optional, PortalForm, Required, text
from web.enterprise_portal.quotes_backend import LineInput, QuotePlanView

MAX_COMMENT = 2_000
MAX_REASON = 1_000
MAX_PO_NUMBER = 64
MAX_DESCRIPTION = 200
NEW_PO = "__new__"
TERMS = ("NET 30", "NET 45", "NET 60", "EOM")
# Blank rows under a draft's lines: more lines are added by saving and editing again.
BLANK_ROWS = 3
MAX_ROWS = 200


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class Day:
    def __call__(self, form: PortalForm, field: object) -> None:
        try:
            dt.date.fromisoformat(str(getattr(field, "data", "")))
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from None


class CommentForm(PortalForm):
    body = TextAreaField(_l("Message"), text(MAX_COMMENT, multiline=True), filters=[_strip])
    change_request = BooleanField(_l("Request changes"))


class AcceptForm(PortalForm):
    version = HiddenField(_l("Version"), text(9))
    po_choice = StringField(_l("Purchase order"), text(MAX_PO_NUMBER + 8))
    new_po_number = StringField(_l("New PO number"), [Optional(), Length(MAX_PO_NUMBER), CleanText()],
                                filters=[_strip])

    def po(self) -> tuple[str, bool]:
        """(the PO number, whether it is a new one)."""
        if self.po_choice.data == NEW_PO:
            return self.new_po_number.data or "", True
        return self.po_choice.data or "", False

    def validate(self, extra_validators: object = None) -> bool:
        ok = super().validate()
        # Optional() ends the field's own checks when it is empty; empty is wrong only here.
        if ok and self.po_choice.data == NEW_PO and not (self.new_po_number.data or "").strip():
            self.new_po_number.errors = [_("Enter the new PO number.")]
            return False
        return ok


class DeclineForm(PortalForm):
    version = HiddenField(_l("Version"), text(9))
    reason = TextAreaField(_l("Reason"), text(MAX_REASON, multiline=True), filters=[_strip])


class SendForm(PortalForm):
    """Only the CSRF token."""


class DraftForm(PortalForm):
    currency = StringField(_l("Currency"), [Optional(), Length(3), CleanText()], filters=[_strip])
    valid_until = StringField(_l("Valid until"), [Required(), Length(10), Day()], filters=[_strip])
    terms = StringField(_l("Payment terms"), text(16))

    def validate_terms(self, field: StringField) -> None:
        if field.data not in TERMS:
            raise ValidationError(_("Choose NET 30, NET 45, NET 60 or EOM."))


@dataclass
class Row:
    """One row of the editor, as typed (shown again as typed when the form has an error)."""

    plan: str = ""
    description: str = ""
    quantity: str = ""
    price: str = ""
    discount: str = ""

    @property
    def blank(self) -> bool:
        return not any(v.strip() for v in (self.plan, self.description, self.quantity, self.price, self.discount))


class LineError(ValueError):
    pass


def read_rows(form: Mapping[str, str]) -> list[Row]:
    rows = []
    for n in range(MAX_ROWS):
        if f"line-{n}-description" not in form and f"line-{n}-plan" not in form:
            break
        rows.append(Row(*(form.get(f"line-{n}-{k}", "") for k in ("plan", "description", "quantity", "price",
                                                                    "discount"))))
    return rows


def parse_lines(rows: list[Row], plans: list[QuotePlanView], currency: str) -> list[LineInput]:
    """The lines of the non-blank rows; LineError("Line 2: ...") names the first mistake. A
    plan row with no price or description takes the price list's."""
    lines = []
    for n, row in enumerate(rows, start=1):
        if row.blank:
            continue
        try:
            lines.append(_line(row, plans, currency))
        except LineError as e:
            raise LineError(_("Line %(n)d: %(error)s", n=n, error=str(e))) from None
    return lines


def _line(row: Row, plans: list[QuotePlanView], currency: str) -> LineInput:
    plan = next((p for p in plans if p.code == row.plan), None) if row.plan else None
    if row.plan and plan is None:
        raise LineError(_("choose a plan from the list."))
    description = row.description.strip() or (plan.name if plan else "")
    if not description or len(description) > MAX_DESCRIPTION or has_disallowed_characters(description):
        raise LineError(_("Description is required (at most %(max)d characters).", max=MAX_DESCRIPTION))
    try:
        quantity = int(row.quantity.strip() or "1")
    except ValueError:
        raise LineError(_("Quantity must be a whole number.")) from None
    if not 1 <= quantity <= 1_000_000:
        raise LineError(_("Quantity must be a whole number from 1 to 1,000,000."))
    if row.price.strip():
        try:
            price = Money.from_decimal(_decimal(row.price), currency)
        except (InvalidOperation, ValueError):
            raise LineError(_("Unit price must be an amount such as 1234.50.")) from None
    elif plan is not None and plan.unit_price is not None:
        price = plan.unit_price
    else:
        raise LineError(_("Unit price is required."))
    if price.amount_minor < 0 or price.amount_minor > 10**13:
        raise LineError(_("Unit price must be an amount such as 1234.50."))
    try:
        percent = _decimal(row.discount or "0")
    except InvalidOperation:
        raise LineError(_("Discount must be a percentage from 0 to 100.")) from None
    if not Decimal(0) <= percent <= Decimal(100) or (percent * 100) != (percent * 100).to_integral_value():
        raise LineError(_("Discount must be a percentage from 0 to 100."))
    return LineInput(kind="plan" if plan else "custom", description=description, quantity=quantity,
                     unit_price=price, discount_bp=int(percent * 100), plan_code=plan.code if plan else "")


def _decimal(text: str) -> Decimal:
    """"1234.50", "1,234.50" and "1.234,50" (pt-BR) as a Decimal."""
    t = text.strip().replace(" ", "")
    if len(t) > 20:
        raise InvalidOperation
    if "," in t and ("." not in t or t.rfind(",") > t.rfind(".")):
        t = t.replace(".", "").replace(",", ".")
    else:
        t = t.replace(",", "")
    value = Decimal(t)
    if not value.is_finite():
        raise InvalidOperation
    return value


def rows_of(lines: tuple[object, ...]) -> list[Row]:
    """Editor rows for a version's lines (QuoteLineView)."""
    rows = []
    for x in lines:
        price = getattr(x, "unit_price", None)
        rows.append(Row(plan=getattr(x, "plan_code", ""), description=getattr(x, "description", ""),
                        quantity=str(getattr(x, "quantity", "")),
                        price=str(price.to_decimal()) if price is not None else "",
                        discount=f"{getattr(x, 'discount_bp', 0) / 100:g}"))
    return rows
