"""The mails of members' change requests, in English and Brazilian Portuguese.

The recipient's locale chooses (pt-BR, else English). Person-supplied text (the member's note,
the contact's reason, names) only ever fills a placeholder of the body; the subjects are fixed
(no header injection). The member's address is the one identity's session gave the web tier,
so the contact can reply to it (Reply-To).
"""
from __future__ import annotations

import datetime as dt

from billing_common.outbox import OutgoingMail
from services.online_billing.domain.catalogue import Catalogue
from services.online_billing.domain.model import BillingInterval, Selection

_TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "arrived": {
        "en": (
            "A member asks for a change to your subscription",
            "Hello {name},\n\n"
            "{member_name} ({member_email}), a member of your account, asks for this change to the\n"
            "subscription:\n\n"
            "    {change}\n\n"
            "Their note:\n{note}\n\n"
            "See exactly what it would cost now, then approve or decline it, in the Billing Center:\n"
            "{link}\n\n"
            "Reply to this message to answer {member_name} directly.\n",
        ),
        "pt-BR": (
            "Um membro pede uma alteração na sua assinatura",
            "Olá, {name},\n\n"
            "{member_name} ({member_email}), membro da sua conta, pede esta alteração na\n"
            "assinatura:\n\n"
            "    {change}\n\n"
            "Observação:\n{note}\n\n"
            "Veja exatamente quanto custaria agora e aprove ou recuse o pedido na Centro de Cobrança:\n"
            "{link}\n\n"
            "Responda a esta mensagem para falar diretamente com {member_name}.\n",
        ),
    },
    "approved": {
        "en": (
            "Your change request was approved",
            "Hello {name},\n\n"
            "Your request for this change to the subscription was approved by a billing contact:\n\n"
            "    {change}\n\n"
            "{effect}\n",
        ),
        "pt-BR": (
            "Seu pedido de alteração foi aprovado",
            "Olá, {name},\n\n"
            "Seu pedido desta alteração na assinatura foi aprovado por um contato de cobrança:\n\n"
            "    {change}\n\n"
            "{effect}\n",
        ),
    },
    "declined": {
        "en": (
            "Your change request was declined",
            "Hello {name},\n\n"
            "Your request for this change to the subscription was declined by a billing contact:\n\n"
            "    {change}\n\n"
            "Their reason:\n{reason}\n\n"
            "You can ask for another change in the Billing Center:\n{link}\n",
        ),
        "pt-BR": (
            "Seu pedido de alteração foi recusado",
            "Olá, {name},\n\n"
            "Seu pedido desta alteração na assinatura foi recusado por um contato de cobrança:\n\n"
            "    {change}\n\n"
            "Motivo:\n{reason}\n\n"
            "Você pode pedir outra alteração na Centro de Cobrança:\n{link}\n",
        ),
    },
}

_WORDS = {
    "en": {"seats": "{n} seats", "seat": "1 seat", BillingInterval.MONTHLY: "billed monthly",
           BillingInterval.ANNUAL: "billed annually", "no_note": "(no note)",
           "now": "It is in effect now; the invoice was paid with the account's card.",
           "later": "It takes effect at the next renewal, on {date}."},
    "pt-BR": {"seats": "{n} licenças", "seat": "1 licença", BillingInterval.MONTHLY: "cobrança mensal",
              BillingInterval.ANNUAL: "cobrança anual", "no_note": "(sem observação)",
              "now": "Ela já está em vigor; a fatura foi paga com o cartão da conta.",
              "later": "Ela entra em vigor na próxima renovação, em {date}."},
}


def locale_of(locale: str) -> str:
    """The mail's language for a person's locale: Portuguese ("pt-BR", "pt_BR", "pt") or English."""
    return "pt-BR" if locale.replace("_", "-").lower().startswith("pt") else "en"


def describe(target: Selection, catalogue: Catalogue, locale: str) -> str:
    """"Business, 12 seats, billed monthly" in the reader's language (plan names are product names)."""
    words = _WORDS[locale_of(locale)]
    seats = words["seat"] if target.seats == 1 else words["seats"].format(n=target.seats)
    name = next((p.name for p in catalogue.plans if p.code == target.plan_code), target.plan_code)
    return f"{name}, {seats}, {words[target.interval]}"


def no_note(locale: str) -> str:
    return _WORDS[locale_of(locale)]["no_note"]


def effect(locale: str, scheduled_at: dt.datetime | None) -> str:
    words = _WORDS[locale_of(locale)]
    if scheduled_at is None:
        return words["now"]
    day = scheduled_at.strftime("%d/%m/%Y") if locale_of(locale) == "pt-BR" else scheduled_at.strftime("%Y-%m-%d")
    return words["later"].format(date=day)


def render(kind: str, locale: str, *, to: str, reply_to: str | None = None, **values: object) -> OutgoingMail:
    subject, body = _TEMPLATES[kind][locale_of(locale)]
    return OutgoingMail(to=(to,), subject=subject, body=body.format(**values), reply_to=reply_to)
