"""Domain values stored as JSON text: a payment's preview, an invoice's buyer."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from billing_common.invoicing.profile import BillingProfile
from billing_common.invoicing.taxid import TaxId
from billing_common.money import Money
from services.online_billing.domain.billing import ChargeLine, ChargePurpose, LineKind, Preview, Timing
from services.online_billing.domain.model import BillingInterval, Selection


def _selection(s: Selection) -> dict[str, Any]:
    return {"plan_code": s.plan_code, "seats": s.seats, "interval": s.interval.value}


def _selection_of(d: dict[str, Any]) -> Selection:
    return Selection(d["plan_code"], int(d["seats"]), BillingInterval(d["interval"]))


def _money(m: Money) -> list[Any]:
    return [m.amount_minor, m.currency]


def _money_of(v: list[Any]) -> Money:
    return Money(int(v[0]), str(v[1]))


def _when(d: dt.datetime) -> str:
    return d.astimezone(dt.UTC).isoformat()


def line_dict(line: ChargeLine) -> dict[str, Any]:
    return {"kind": line.kind.value, "plan_code": line.plan_code, "plan_name": line.plan_name, "seats": line.seats,
            "interval": line.interval.value, "period_start": _when(line.period_start),
            "period_end": _when(line.period_end), "unit_price": _money(line.unit_price), "amount": _money(line.amount)}


def line_of(d: dict[str, Any]) -> ChargeLine:
    return ChargeLine(kind=LineKind(d["kind"]), plan_code=d["plan_code"], plan_name=d["plan_name"],
                      seats=int(d["seats"]), interval=BillingInterval(d["interval"]),
                      period_start=dt.datetime.fromisoformat(d["period_start"]),
                      period_end=dt.datetime.fromisoformat(d["period_end"]),
                      unit_price=_money_of(d["unit_price"]), amount=_money_of(d["amount"]))


def preview_json(p: Preview) -> str:
    return json.dumps({
        "purpose": p.purpose.value, "subscription_id": p.subscription_id, "currency": p.currency,
        "current": _selection(p.current), "target": _selection(p.target), "timing": p.timing.value,
        "at": _when(p.at), "effective_at": _when(p.effective_at), "lines": [line_dict(x) for x in p.lines],
        "new_recurring_amount": _money(p.new_recurring_amount), "next_renewal_at": _when(p.next_renewal_at),
        "period_start": _when(p.period_start), "period_end": _when(p.period_end)})


def preview_of(text: str) -> Preview:
    d = json.loads(text)
    when = dt.datetime.fromisoformat
    return Preview(purpose=ChargePurpose(d["purpose"]), subscription_id=d["subscription_id"], currency=d["currency"],
                   current=_selection_of(d["current"]), target=_selection_of(d["target"]), timing=Timing(d["timing"]),
                   at=when(d["at"]), effective_at=when(d["effective_at"]), lines=tuple(line_of(x) for x in d["lines"]),
                   new_recurring_amount=_money_of(d["new_recurring_amount"]),
                   next_renewal_at=when(d["next_renewal_at"]), period_start=when(d["period_start"]),
                   period_end=when(d["period_end"]))


def profile_json(p: BillingProfile | None) -> str | None:
    if p is None:
        return None
    return json.dumps({
        "company_name": p.company_name, "address_line1": p.address_line1, "address_line2": p.address_line2,
        "city": p.city, "region": p.region, "postal_code": p.postal_code, "country": p.country,
        "tax_id": [p.tax_id.kind, p.tax_id.value] if p.tax_id else None, "invoice_emails": list(p.invoice_emails)})


def profile_of(text: str | None) -> BillingProfile | None:
    if not text:
        return None
    d = json.loads(text)
    tax = d.get("tax_id")
    return BillingProfile(
        company_name=d["company_name"], address_line1=d["address_line1"], address_line2=d["address_line2"],
        city=d["city"], region=d["region"], postal_code=d["postal_code"], country=d["country"],
        tax_id=TaxId(d["country"], tax[0], tax[1]) if tax else None, invoice_emails=tuple(d["invoice_emails"]))
