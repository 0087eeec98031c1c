"""The mails of invoicing on terms, each in English then Portuguese (Brazil) in one message.

enterprise_portal does not know a recipient's language (identity owns people), so every mail
carries both, English first (README "Enterprise invoicing mails"). They go through the outbox
in the transaction of the change they tell about.
"""
from __future__ import annotations

from collections.abc import Sequence

from billing_common.money import Money
from billing_common.outbox import OutgoingMail
from services.enterprise_portal.domain.purchase_orders import PoNotice, PoProblem, PurchaseOrder

_PROBLEM = {
    PoProblem.NONE_GIVEN: ("it carries no purchase order", "ela não tem ordem de compra"),
    PoProblem.UNKNOWN: ("its purchase order is not one of the account's", "a ordem de compra não é da conta"),
    PoProblem.UPCOMING: ("its purchase order is not valid yet", "a ordem de compra ainda não é válida"),
    PoProblem.EXPIRED: ("its purchase order has expired", "a ordem de compra expirou"),
    PoProblem.EXHAUSTED: ("its purchase order is used up", "a ordem de compra está esgotada"),
    PoProblem.INSUFFICIENT: ("its purchase order has not enough left", "a ordem de compra não tem saldo suficiente"),
    PoProblem.CURRENCY: ("its purchase order is in another currency", "a ordem de compra está em outra moeda"),
}


def _to(recipients: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r for r in recipients if r))


def _both(en: str, pt: str) -> str:
    return f"{en}\n\n---\n\n{pt}\n"


def po_flag(recipients: Sequence[str], number: str, total: Money, po_number: str | None, problem: PoProblem,
            url: str) -> OutgoingMail | None:
    to = _to(recipients)
    if not to:
        return None
    en, pt = _PROBLEM[problem]
    po = po_number or "-"
    return OutgoingMail(
        to=to,
        subject=(f"Invoice {number} needs a valid purchase order / "
                 f"A fatura {number} precisa de uma ordem de compra válida"),
        body=_both(
            f"Invoice {number} of {total.format('en')} (PO {po}) was issued, but {en}.\n"
            f"Please add or extend a purchase order: {url}/purchase-orders",
            f"A fatura {number} de {total.format('pt_BR')} (OC {po}) foi emitida, mas {pt}.\n"
            f"Cadastre ou prorrogue uma ordem de compra: {url}/purchase-orders"),
    )


def po_notice(recipients: Sequence[str], po: PurchaseOrder, notice: PoNotice, url: str) -> OutgoingMail | None:
    to = _to(recipients)
    if not to:
        return None
    if notice is PoNotice.EXPIRES_SOON:
        day = po.valid_to.isoformat()
        subject = f"PO {po.number} expires on {day} / A OC {po.number} vence em {day}"
        body = _both(
            f"Purchase order {po.number} expires on {po.valid_to.isoformat()}; "
            f"{po.remaining().format('en')} remains. Invoices issued after that day are flagged.\n"
            f"{url}/purchase-orders",
            f"A ordem de compra {po.number} vence em {po.valid_to.isoformat()}; "
            f"restam {po.remaining().format('pt_BR')}. Faturas emitidas depois disso são sinalizadas.\n"
            f"{url}/purchase-orders")
    else:
        subject = f"PO {po.number} is 80% used / A OC {po.number} está 80% utilizada"
        body = _both(
            f"{po.used.format('en')} of purchase order {po.number} ({po.amount.format('en')}) has been invoiced; "
            f"{po.remaining().format('en')} remains.\n{url}/purchase-orders",
            f"{po.used.format('pt_BR')} da ordem de compra {po.number} ({po.amount.format('pt_BR')}) já foi "
            f"faturado; restam {po.remaining().format('pt_BR')}.\n{url}/purchase-orders")
    return OutgoingMail(to=to, subject=subject, body=body)


def receipt(recipients: Sequence[str], amount: Money, reference: str, parts: Sequence[tuple[str, Money]],
            credit: Money, url: str) -> OutgoingMail | None:
    to = _to(recipients)
    if not to:
        return None
    en_lines = "\n".join(f"  {number}: {paid.format('en')}" for number, paid in parts)
    pt_lines = "\n".join(f"  {number}: {paid.format('pt_BR')}" for number, paid in parts)
    en_credit = f"\n{credit.format('en')} was kept as credit on the account." if credit.amount_minor else ""
    pt_credit = f"\n{credit.format('pt_BR')} ficou como crédito na conta." if credit.amount_minor else ""
    return OutgoingMail(
        to=to,
        subject=f"Payment received: {amount.format('en')} / Pagamento recebido: {amount.format('pt_BR')}",
        body=_both(
            f"We received your payment of {amount.format('en')} (reference {reference}). It paid:\n{en_lines}"
            f"{en_credit}\nYour invoices: {url}/invoices",
            f"Recebemos seu pagamento de {amount.format('pt_BR')} (referência {reference}). Ele pagou:\n{pt_lines}"
            f"{pt_credit}\nSuas faturas: {url}/invoices"),
    )
