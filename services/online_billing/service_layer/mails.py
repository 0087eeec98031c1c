"""online_billing's mails: receipts, failed payments (dunning), the cancellation after dunning,
in the recipient's language (billing_common.mail_templates, as identity's), with the invoice's
PDF attached when the mail is sent (never in the transaction that writes it).

Who gets them: the account's billing contacts (identity, ports.BillingContacts), each in their
own language, and the billing profile's extra invoice recipients, in the account's language.
A `BillingMail` is locale-neutral (amounts in minor units, ISO dates, codes): `compose` turns
it into one mail per language. When identity cannot be asked (down), the mail is written
deferred (its BillingMail as JSON) and `expander` addresses it when the outbox sends it.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog
from babel.dates import format_date

from billing_common import mail_templates
from billing_common.billing_contacts import AccountContacts, ContactsUnavailable
from billing_common.invoicing.profile import BillingProfile
from billing_common.money import Money
from billing_common.outbox import Attachment, OutgoingMail
from billing_common.payments import messages
from services.online_billing.domain.renewals import NO_PAYMENT_METHOD
from services.online_billing.service_layer.dependencies import Dependencies
from services.online_billing.service_layer.ports import UnitOfWork

log = structlog.get_logger()

RENEWAL_RECEIPT = "renewal_receipt"
PAYMENT_FAILED = "payment_failed"
CANCELED_AFTER_DUNNING = "canceled_after_dunning"
CHANGE_RECEIPT = "change_receipt"
REACTIVATION_RECEIPT = "reactivation_receipt"

_RECEIPT_TAIL = {
    "en": "The invoice is attached as a PDF. Your invoices: {invoices_url}\n",
    "pt-BR": "A fatura segue anexa em PDF. Suas faturas: {invoices_url}\n",
}

TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    RENEWAL_RECEIPT: {
        "en": ("Receipt for invoice {number}",
               "Thank you: your subscription renewed and invoice {number} for {amount} was paid with your card.\n\n"
               "New period: {period_start} to {period_end}.\n" + _RECEIPT_TAIL["en"]),
        "pt-BR": ("Recibo da fatura {number}",
                  "Obrigado: sua assinatura foi renovada e a fatura {number} de {amount} foi paga com seu cartão.\n\n"
                  "Novo período: {period_start} a {period_end}.\n" + _RECEIPT_TAIL["pt-BR"]),
    },
    CHANGE_RECEIPT: {
        "en": ("Receipt for invoice {number}",
               "Thank you: the change you made to your subscription in the Billing Center took effect, and "
               "invoice {number} for {amount} was paid with your card.\n\n" + _RECEIPT_TAIL["en"]),
        "pt-BR": ("Recibo da fatura {number}",
                  "Obrigado: a alteração que você fez na sua assinatura no Centro de Cobrança entrou em vigor, e a "
                  "fatura {number} de {amount} foi paga com seu cartão.\n\n" + _RECEIPT_TAIL["pt-BR"]),
    },
    REACTIVATION_RECEIPT: {
        "en": ("Receipt for invoice {number}",
               "Thank you: your subscription was reactivated, and invoice {number} for {amount} was paid with "
               "your card.\n\n" + _RECEIPT_TAIL["en"]),
        "pt-BR": ("Recibo da fatura {number}",
                  "Obrigado: sua assinatura foi reativada, e a fatura {number} de {amount} foi paga com seu "
                  "cartão.\n\n" + _RECEIPT_TAIL["pt-BR"]),
    },
    PAYMENT_FAILED: {
        "en": ("Payment failed for invoice {number}",
               "We could not charge {amount} for invoice {number}: {reason}\n\n"
               "We will try again on {retry_date}. Update your card in the Billing Center and we will retry at "
               "once: {cards_url}\n"),
        "pt-BR": ("Falha no pagamento da fatura {number}",
                  "Não conseguimos cobrar {amount} referente à fatura {number}: {reason}\n\n"
                  "Tentaremos novamente em {retry_date}. Atualize seu cartão no Centro de Cobrança e tentaremos "
                  "na hora: {cards_url}\n"),
    },
    CANCELED_AFTER_DUNNING: {
        "en": ("Your subscription was canceled",
               "We could not charge {amount} for invoice {number} ({reason}), after every retry, so your "
               "subscription has been canceled and the invoice voided.\n\n"
               "You can reactivate it at any time in the Billing Center: {subscription_url}\n"),
        "pt-BR": ("Sua assinatura foi cancelada",
                  "Não conseguimos cobrar {amount} referente à fatura {number} ({reason}) depois de todas as "
                  "tentativas, por isso sua assinatura foi cancelada e a fatura, anulada.\n\n"
                  "Você pode reativá-la a qualquer momento no Centro de Cobrança: {subscription_url}\n"),
    },
}

# Why a charge failed, for the mail. The English texts are billing_common.payments.messages' (the
# portals translate those through their gettext catalogue, which services do not load); these
# are the same catalogue entries' pt-BR texts, for the decline codes a charge can answer.
_REASONS_PT_BR = {
    messages.CARD_DECLINED: "Seu cartão foi recusado.",
    messages.INSUFFICIENT_FUNDS: "Seu cartão não tem saldo suficiente.",
    messages.EXPIRED_CARD: "Seu cartão está vencido.",
    messages.INCORRECT_CVC: "O código de segurança do seu cartão está incorreto.",
    messages.PROCESSING_ERROR: "Ocorreu um erro ao processar seu cartão. Tente novamente daqui a pouco.",
    messages.INVALID_TOKEN: "Este cartão não pode mais ser usado. Adicione-o novamente.",
    NO_PAYMENT_METHOD: "não há cartão cadastrado",
}


def reason(code: str, locale: str) -> str:
    if mail_templates.locale_of(locale) == "pt-BR":
        return _REASONS_PT_BR.get(code, _REASONS_PT_BR[messages.CARD_DECLINED])
    return "there is no card on file" if code == NO_PAYMENT_METHOD else messages.message(code)


@dataclass(frozen=True)
class BillingMail:
    """One event to mail an account about, in no language yet: `values` holds number,
    amount_minor, currency, and per kind ISO dates (period_start, period_end, retry_date) and
    the decline code. `invoice_id`: the invoice attached as a PDF."""

    account_id: str
    kind: str
    values: Mapping[str, str | int] = field(default_factory=dict)
    invoice_id: str | None = None

    def to_json(self) -> str:
        return json.dumps({"account_id": self.account_id, "kind": self.kind, "values": dict(self.values),
                           "invoice_id": self.invoice_id}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BillingMail:
        data = json.loads(text)
        return cls(data["account_id"], data["kind"], data["values"], data.get("invoice_id"))

    def deferred(self) -> OutgoingMail:
        """Written when identity could not be asked: addressed when sent (module docstring)."""
        return OutgoingMail(to=(), subject=self.kind, body="", deferred=self.to_json())


def attachment_reference(account_id: str, invoice_id: str, locale: str) -> str:
    return f"invoice:{mail_templates.locale_of(locale)}:{account_id}:{invoice_id}"


# Babel's formatting costs tens of microseconds a call, and a billing run's batch formats the
# same few prices and dates thousands of times: remembered per (value, locale).
@functools.lru_cache(maxsize=4096)
def _amount(amount_minor: int, currency: str, locale: str) -> str:
    return Money(amount_minor, currency).format(locale)


@functools.lru_cache(maxsize=4096)
def _date(iso: str, locale: str) -> str:
    return format_date(dt.date.fromisoformat(iso), "long", locale=locale.replace("-", "_"))


def _localized(mail: BillingMail, locale: str, base_url: str) -> dict[str, object]:
    v = dict(mail.values)
    out: dict[str, object] = {k: v[k] for k in ("number",) if k in v}
    if "amount_minor" in v:
        out["amount"] = _amount(int(v["amount_minor"]), str(v["currency"]), locale)
    for key in ("period_start", "period_end", "retry_date"):
        if key in v:
            out[key] = _date(str(v[key]), locale)
    if "code" in v:
        out["reason"] = reason(str(v["code"]), locale)
    base = base_url.rstrip("/")
    out.update(invoices_url=f"{base}/invoices", cards_url=f"{base}/payment-methods",
               subscription_url=f"{base}/subscription")
    return out


def compose(mail: BillingMail, contacts: AccountContacts | None, profile: BillingProfile | None,
            base_url: str) -> list[OutgoingMail]:
    """The mails of one event: one per language, to the billing contacts who read it and (in
    the account's language) the invoice recipients; an address on both lists gets one mail, in
    the contact's language. [] when the account has nobody to mail (logged)."""
    account_locale = mail_templates.locale_of(contacts.locale) if contacts else "en"
    by_locale: dict[str, list[str]] = {}
    seen: set[str] = set()
    people = [(c.email, c.locale) for c in contacts.contacts] if contacts else []
    extra = [(e, account_locale) for e in (profile.invoice_emails if profile else ())]
    for email, locale in people + extra:
        if email and email.lower() not in seen:
            seen.add(email.lower())
            by_locale.setdefault(mail_templates.locale_of(locale), []).append(email)
    if not by_locale:
        log.info("billing mail not sent: no billing contact or invoice recipient", account_id=mail.account_id,
                 kind=mail.kind)
    return [mail_templates.render(
        TEMPLATES, mail.kind, locale, _localized(mail, locale, base_url), to=tuple(addresses),
        attachment=attachment_reference(mail.account_id, mail.invoice_id, locale) if mail.invoice_id else None)
        for locale, addresses in sorted(by_locale.items())]


def contacts_of(deps: Dependencies, account_ids: Sequence[str]) -> dict[str, AccountContacts] | None:
    """The billing contacts of these accounts in one call; None when identity cannot answer
    now (the mails are then written deferred)."""
    if deps.contacts is None or not account_ids:
        return {}
    try:
        return deps.contacts.for_accounts(account_ids)
    except ContactsUnavailable:
        return None


def write(deps: Dependencies, uow: UnitOfWork, mails: Sequence[BillingMail],
          contacts: Mapping[str, AccountContacts] | None, now: dt.datetime) -> None:
    """Writes the mails in the unit of work's transaction: addressed with `contacts` (from
    `contacts_of`, asked before the transaction), or deferred when that is None."""
    if not mails:
        return
    if contacts is None and deps.contacts is not None:
        uow.outbox.add_many([m.deferred() for m in mails], now)
        return
    profiles = uow.billing_profiles.get_many({m.account_id for m in mails})
    known = contacts or {}  # no identity configured (dev, test): the invoice recipients alone
    uow.outbox.add_many([out for m in mails for out in compose(
        m, known.get(m.account_id), profiles.get(m.account_id), deps.billing_center_url)], now)


def expander(deps: Dependencies) -> Callable[[Sequence[str]], list[list[OutgoingMail]]]:
    """The outbox's hook for deferred mails: one identity call for the batch (ContactsUnavailable
    fails the attempt: retried later), then `compose` each."""

    def expand(items: Sequence[str]) -> list[list[OutgoingMail]]:
        mails = [BillingMail.from_json(item) for item in items]
        ids = sorted({m.account_id for m in mails})
        contacts = deps.contacts.for_accounts(ids) if deps.contacts is not None else {}
        with deps.uow() as uow:
            profiles = uow.billing_profiles.get_many(ids)
        return [compose(m, contacts.get(m.account_id), profiles.get(m.account_id), deps.billing_center_url)
                for m in mails]

    return expand


def attachments(deps: Dependencies) -> Callable[[str], list[Attachment]]:
    """The outbox's hook for attachments: "invoice:<locale>:<account>:<id>" -> the PDF."""
    from services.online_billing.service_layer.accounts import invoice_pdf  # the use case renders it

    def resolve(reference: str) -> list[Attachment]:
        kind, locale, account_id, invoice_id = reference.split(":", 3)
        if kind != "invoice":
            raise ValueError(f"unknown attachment {kind!r}")
        invoice, pdf = invoice_pdf(deps, account_id, invoice_id, locale)
        return [Attachment(f"{invoice.number}.pdf", "application/pdf", pdf)]

    return resolve
